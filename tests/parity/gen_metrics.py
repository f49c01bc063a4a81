#!/usr/bin/python3
"""Fixtures for tests/unit/metrics_test.cpp: Keras's metrics (tf.keras 2.15) over several batches, and the
sample-weighted loss, its gradients and a few SGD steps of a weighted fit.

Run with Debian's /usr/bin/python3 (numpy): writes fixtures/metrics/metrics.json. Nothing here imports rnnkit
or TensorFlow: every metric is written from Keras's documented definition, the straightforward way rnnkit's
C++ does not take:
  * accuracies: one value per row, the epoch's value sum(w * v) / sum(w) over every batch so far;
  * Precision / Recall / AUC: confusion counts over every element and every threshold by direct comparison
    y_pred > threshold (float32), positive label y_true != 0, each weighted by its row's sample weight;
    AUC's thresholds [-1e-7, 1/(n-1), ..., (n-2)/(n-1), 1 + 1e-7]; ROC/PR areas by the Riemann sums and
    Davis & Goadrich's interpolation as keras.metrics.AUC documents them.
The loss oracle: categorical cross-entropy of a Dense softmax layer, Keras's SUM_OVER_BATCH_SIZE reduction
with sample weights (sum(w * loss) / batch size, not / sum(w)), its gradient written by hand
(w * (softmax - y) / B through the Dense layer), and plain SGD steps on it.
gen_metrics_tfjs.mjs checks the unweighted accuracies, precision and recall against TF.js 4.22.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "metrics", "metrics.json")
rng = np.random.default_rng(20261206)
F32 = np.float32


def r(a):
    return np.asarray(a, dtype=np.float64).round(7).tolist()


def f32(a):
    return np.asarray(a, dtype=F32)


# ---------- accuracies: per-row values ----------
def rows(pred):
    return pred.reshape(-1, pred.shape[-1])


def binary_rows(yt, yp, threshold):
    yp = rows(yp)
    yt = yt.reshape(yp.shape)
    return ((yp > F32(threshold)).astype(F32) == yt).mean(axis=1)


def categorical_rows(yt, yp):
    return (rows(yt).argmax(1) == rows(yp).argmax(1)).astype(float)


def sparse_rows(yt, yp):
    return (yt.reshape(-1) == rows(yp).argmax(1)).astype(float)


def in_top_k_rows(labels, yp, k):
    yp = rows(yp)
    out = []
    for row, label in zip(yp, labels.reshape(-1)):
        label = int(label)
        out.append(float(np.sum(row > row[label]) < k))
    return np.array(out)


def accuracy_value(kind, yt, yp, cfg):
    if kind == "binary":
        return binary_rows(yt, yp, cfg.get("threshold", 0.5))
    if kind == "categorical":
        return categorical_rows(yt, yp)
    if kind == "sparse":
        return sparse_rows(yt, yp)
    if kind == "top_k":
        return in_top_k_rows(rows(yt).argmax(1), yp, cfg.get("k", 5))
    if kind == "sparse_top_k":
        return in_top_k_rows(yt, yp, cfg.get("k", 5))
    raise ValueError(kind)


# ---------- confusion metrics ----------
def confusion(yt, yp, w, thresholds):
    """tp, fp, tn, fn per threshold over the flattened elements."""
    yt = yt.reshape(-1) != 0
    yp = yp.reshape(-1).astype(F32)
    t = np.asarray(thresholds, dtype=F32)
    pos = yp[None, :] > t[:, None]
    w = w.reshape(-1)[None, :]
    tp = ((yt & pos) * w).sum(1)
    fp = ((~yt & pos) * w).sum(1)
    tn = ((~yt & ~pos) * w).sum(1)
    fn = ((yt & ~pos) * w).sum(1)
    return np.stack([tp, fp, tn, fn])


def div(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


def auc_area(counts, curve, method):
    tp, fp, tn, fn = counts
    n = len(tp)
    if curve == "PR" and method == "interpolation":
        total = 0.0
        for i in range(n - 1):
            dtp = tp[i] - tp[i + 1]
            p0, p1 = tp[i] + fp[i], tp[i + 1] + fp[i + 1]
            slope = dtp / max(p0 - p1, 0) if max(p0 - p1, 0) != 0 else 0.0
            intercept = tp[i + 1] - slope * p1
            ratio = p0 / p1 if (p0 > 0 and p1 > 0) else 1.0
            denom = max(tp[i + 1] + fn[i + 1], 0)
            total += (slope * (dtp + intercept * np.log(ratio)) / denom) if denom != 0 else 0.0
        return total
    recall = div(tp, tp + fn)
    if curve == "ROC":
        x, y = div(fp, fp + tn), recall
    else:
        x, y = recall, div(tp, tp + fp)
    if method == "interpolation":
        h = (y[:-1] + y[1:]) / 2
    elif method == "minoring":
        h = np.minimum(y[:-1], y[1:])
    else:
        h = np.maximum(y[:-1], y[1:])
    return float(np.sum((x[:-1] - x[1:]) * h))


def filter_top_k(yp, k):
    out = np.full_like(yp, F32(-1e10))
    flat_in, flat_out = rows(yp), out.reshape(-1, yp.shape[-1])
    for i, row in enumerate(flat_in):
        keep = sorted(range(len(row)), key=lambda j: (-row[j], j))[:k]
        flat_out[i, keep] = row[keep]
    return out


def confusion_inputs(yt, yp, w, cfg):
    """y_true, y_pred, weights per element after the shape squeeze, top_k and class_id."""
    if yp.ndim == yt.ndim + 1 and yp.shape[-1] == 1:
        yp = yp[..., 0]
    w_el = np.broadcast_to(w.reshape(w.shape + (1,) * (yp.ndim - w.ndim)), yp.shape)
    if cfg.get("top_k"):
        yp = filter_top_k(yp, cfg["top_k"])
    if cfg.get("class_id") is not None:
        c = cfg["class_id"]
        yt, yp, w_el = yt[..., c], yp[..., c], w_el[..., c]
    return yt, yp, w_el


def sigmoid(z):
    return 1 / (1 + np.exp(-z.astype(np.float64)))


# ---------- cases ----------
def make_batches(shapes_fn, count, weighted):
    batches = []
    for b in range(count):
        yt, yp = shapes_fn(b)
        batch = {"y_true": yt, "y_pred": yp}
        if weighted:
            batch["sample_weight"] = f32(rng.choice([0.0, 0.5, 1.0, 2.0, 3.0], size=yp.shape[:-1] if yp.ndim > 1 else yp.shape))
        batches.append(batch)
    return batches


def binary_probs(shape):
    p = f32(rng.random(shape))
    flat = p.reshape(-1)
    flat[:3] = [0.0, 1.0, 0.5]  # the edges: exactly a threshold, 0 and 1
    return p


def binary_labels(shape):
    return f32(rng.integers(0, 2, size=shape))


def probs(shape):
    z = rng.normal(size=shape)
    e = np.exp(z)
    return f32(e / e.sum(-1, keepdims=True))


def onehot(labels, c):
    return f32(np.eye(c)[labels])


cases = []


def add_case(name, spec, batches, expected, note=""):
    case = {"name": name, "metric": spec,
            "batches": [{k: {"shape": list(v.shape), "data": r(v.reshape(-1))} for k, v in b.items()}
                        for b in batches],
            "expected": [float(x) for x in expected]}
    if note:
        case["note"] = note
    cases.append(case)


def weights_of(batch, shape):
    return batch.get("sample_weight", np.ones(shape, dtype=F32)).astype(np.float64)


def accuracy_case(name, spec, kind, cfg, batches):
    total = count = 0.0
    expected = []
    for b in batches:
        v = accuracy_value(kind, b["y_true"], b["y_pred"], cfg)
        w = weights_of(b, v.shape).reshape(-1)
        if w.size != v.size:  # a per-sample weight over (B, T) rows
            w = np.repeat(w, v.size // w.size)
        total += float(np.sum(w * v))
        count += float(np.sum(w))
        expected.append(total / count if count else 0.0)
    add_case(name, spec, batches, expected)


def confusion_case(name, spec, cfg, batches, result):
    thresholds = cfg["thresholds_list"]
    counts = np.zeros((4, len(thresholds)))
    expected = []
    for b in batches:
        yt, yp = b["y_true"], b["y_pred"]
        shape = yp.shape[:-1] if yp.ndim > 1 else yp.shape
        w = weights_of(b, shape)
        yt2, yp2, w2 = confusion_inputs(yt, yp, w, cfg)
        if cfg.get("from_logits"):
            yp2 = f32(sigmoid(yp2))
        counts += confusion(yt2, yp2, w2, thresholds)
        expected.append(result(counts))
    add_case(name, spec, batches, expected)


def keras2(class_name, **config):
    return {"class_name": class_name, "config": config}


# Binary accuracy: (B,1) against (B,1) and (B); a threshold; multi-label rows; weights.
for weighted in (False, True):
    sfx = "_weighted" if weighted else ""
    accuracy_case("binary_accuracy_b1" + sfx, "binary_accuracy", "binary", {},
                  make_batches(lambda b: (binary_labels((5 + b, 1)), binary_probs((5 + b, 1))), 3, weighted))
    accuracy_case("binary_accuracy_rank1_labels" + sfx, "BinaryAccuracy", "binary", {},
                  make_batches(lambda b: (binary_labels((6,)), binary_probs((6, 1))), 2, weighted))
    accuracy_case("binary_accuracy_threshold_multilabel" + sfx,
                  keras2("BinaryAccuracy", name="ba", dtype="float32", threshold=0.7), "binary",
                  {"threshold": 0.7},
                  make_batches(lambda b: (binary_labels((4, 3)), binary_probs((4, 3))), 3, weighted))
    accuracy_case("categorical_accuracy" + sfx, "categorical_accuracy", "categorical", {},
                  make_batches(lambda b: (onehot(rng.integers(0, 4, 5), 4), probs((5, 4))), 3, weighted))
    accuracy_case("sparse_categorical_accuracy" + sfx, "sparse_categorical_accuracy", "sparse", {},
                  make_batches(lambda b: (f32(rng.integers(0, 5, (4 + b,))), probs((4 + b, 5))), 3, weighted))
    accuracy_case("sparse_categorical_accuracy_b1" + sfx, "SparseCategoricalAccuracy", "sparse", {},
                  make_batches(lambda b: (f32(rng.integers(0, 5, (4, 1))), probs((4, 5))), 2, weighted))
    accuracy_case("sparse_categorical_accuracy_sequences" + sfx, "sparse_categorical_accuracy", "sparse", {},
                  make_batches(lambda b: (f32(rng.integers(0, 3, (2, 4))), probs((2, 4, 3))), 2, weighted))
    accuracy_case("top_k_categorical_accuracy" + sfx, "top_k_categorical_accuracy", "top_k", {"k": 5},
                  make_batches(lambda b: (onehot(rng.integers(0, 8, 6), 8), probs((6, 8))), 3, weighted))
    accuracy_case("top_k_k2" + sfx, keras2("TopKCategoricalAccuracy", name="top2", dtype="float32", k=2),
                  "top_k", {"k": 2},
                  make_batches(lambda b: (onehot(rng.integers(0, 4, 6), 4), probs((6, 4))), 2, weighted))
    accuracy_case("sparse_top_k_categorical_accuracy" + sfx, "sparse_top_k_categorical_accuracy",
                  "sparse_top_k", {"k": 5},
                  make_batches(lambda b: (f32(rng.integers(0, 7, (5,))), probs((5, 7))), 3, weighted))

# Ties: the first maximum for argmax; in_top_k counts every class tied at the k-th place as in.
tie_pred = f32([[0.25, 0.25, 0.25, 0.25], [0.1, 0.4, 0.4, 0.1], [0.3, 0.3, 0.2, 0.2]])
tie_onehot = onehot(np.array([1, 2, 0]), 4)
accuracy_case("categorical_accuracy_ties", "categorical_accuracy", "categorical", {},
              [{"y_true": tie_onehot, "y_pred": tie_pred}])
accuracy_case("top_k_ties", keras2("TopKCategoricalAccuracy", name="t1", dtype="float32", k=1), "top_k",
              {"k": 1}, [{"y_true": tie_onehot, "y_pred": tie_pred}])
# MeanMetricWrapper as tf.keras 2.x saves "accuracy" compiled on a sigmoid output.
accuracy_case("mean_metric_wrapper_binary",
              keras2("MeanMetricWrapper", name="accuracy", dtype="float32", fn="binary_accuracy"), "binary", {},
              make_batches(lambda b: (binary_labels((5, 1)), binary_probs((5, 1))), 2, False))


def precision_result(counts):
    tp, fp = counts[0][0], counts[1][0]
    return tp / (tp + fp) if tp + fp else 0.0


def recall_result(counts):
    tp, fn = counts[0][0], counts[3][0]
    return tp / (tp + fn) if tp + fn else 0.0


for weighted in (False, True):
    sfx = "_weighted" if weighted else ""
    for cls, fn in (("Precision", precision_result), ("Recall", recall_result)):
        low = cls.lower()
        confusion_case(f"{low}_default{sfx}", cls, {"thresholds_list": [0.5]},
                       make_batches(lambda b: (binary_labels((6, 1)), binary_probs((6, 1))), 3, weighted), fn)
        confusion_case(f"{low}_threshold_multilabel{sfx}",
                       keras2(cls, name=f"{low}_t", dtype="float32", thresholds=0.3, top_k=None, class_id=None),
                       {"thresholds_list": [0.3]},
                       make_batches(lambda b: (binary_labels((4, 3)), binary_probs((4, 3))), 3, weighted), fn)
        confusion_case(f"{low}_class_id{sfx}",
                       keras2(cls, name=f"{low}_c", dtype="float32", thresholds=None, top_k=None, class_id=2),
                       {"thresholds_list": [0.5], "class_id": 2},
                       make_batches(lambda b: (onehot(rng.integers(0, 4, 6), 4), probs((6, 4)) * 2.2), 3, weighted),
                       fn)
        confusion_case(f"{low}_top_k{sfx}",
                       keras2(cls, name=f"{low}_k", dtype="float32", thresholds=None, top_k=2, class_id=None),
                       {"thresholds_list": [-1e10], "top_k": 2},
                       make_batches(lambda b: (binary_labels((5, 4)), binary_probs((5, 4))), 3, weighted), fn)


def auc_thresholds(n):
    return [0.0 - 1e-7] + [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)] + [1.0 + 1e-7]


for weighted in (False, True):
    sfx = "_weighted" if weighted else ""
    for curve in ("ROC", "PR"):
        for method in ("interpolation", "minoring", "majoring"):
            spec = keras2("AUC", name="auc", dtype="float32", num_thresholds=200, curve=curve,
                          summation_method=method, multi_label=False, num_labels=None, label_weights=None,
                          from_logits=False)
            confusion_case(f"auc_{curve}_{method}{sfx}", spec, {"thresholds_list": auc_thresholds(200)},
                           make_batches(lambda b: (binary_labels((16, 1)), binary_probs((16, 1))), 3, weighted),
                           lambda c, curve=curve, method=method: auc_area(c, curve, method))
    confusion_case("auc_string" + sfx, "AUC", {"thresholds_list": auc_thresholds(200)},
                   make_batches(lambda b: (binary_labels((12,)), binary_probs((12, 1))), 3, weighted),
                   lambda c: auc_area(c, "ROC", "interpolation"))
    confusion_case("auc_10_thresholds_multilabel" + sfx,
                   keras2("AUC", name="auc10", num_thresholds=10, curve="PR"), {"thresholds_list": auc_thresholds(10)},
                   make_batches(lambda b: (binary_labels((5, 3)), binary_probs((5, 3))), 3, weighted),
                   lambda c: auc_area(c, "PR", "interpolation"))
    confusion_case("auc_from_logits" + sfx, keras2("AUC", name="auc_logits", from_logits=True),
                   {"thresholds_list": auc_thresholds(200), "from_logits": True},
                   make_batches(lambda b: (binary_labels((10, 1)), f32(rng.normal(size=(10, 1)) * 2)), 2, weighted),
                   lambda c: auc_area(c, "ROC", "interpolation"))
    explicit = [0.1, 0.35, 0.5, 0.8]
    confusion_case("auc_explicit_thresholds" + sfx, keras2("AUC", name="auc_t", thresholds=explicit),
                   {"thresholds_list": [0.0 - 1e-7] + explicit + [1.0 + 1e-7]},
                   make_batches(lambda b: (binary_labels((10, 1)), binary_probs((10, 1))), 2, weighted),
                   lambda c: auc_area(c, "ROC", "interpolation"))
# One class only in the labels: ROC's x axis is all 0 and the AUC 0, as Keras gives.
confusion_case("auc_one_class", "AUC", {"thresholds_list": auc_thresholds(200)},
               [{"y_true": f32(np.ones((6, 1))), "y_pred": binary_probs((6, 1))}],
               lambda c: auc_area(c, "ROC", "interpolation"))


# ---------- sample-weighted loss, gradient and SGD steps ----------
def softmax(z):
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def weighted_loss_and_grads(x, y, w, kernel, bias):
    p = softmax(x @ kernel + bias)
    per_row = -np.sum(y * np.log(p), 1)
    batch = x.shape[0]
    loss = float(np.sum(w * per_row) / batch)  # SUM_OVER_BATCH_SIZE: / B, not / sum(w)
    dz = w[:, None] * (p - y) / batch
    return loss, x.T @ dz, dz.sum(0)


x = rng.normal(size=(10, 4))
labels = rng.integers(0, 3, 10)
y = np.eye(3)[labels]
w = rng.choice([0.0, 0.5, 1.0, 2.0, 4.0], size=10)
kernel = rng.normal(size=(4, 3)) * 0.5
bias = rng.normal(size=3) * 0.1
loss, gk, gb = weighted_loss_and_grads(x, y, w, kernel, bias)
steps = []
k, b_ = kernel.copy(), bias.copy()
lr = 0.1
batch_size = 4
for epoch in range(2):
    for start in range(0, 10, batch_size):
        sl = slice(start, start + batch_size)
        _, gk_, gb_ = weighted_loss_and_grads(x[sl], y[sl], w[sl], k, b_)
        k, b_ = k - lr * gk_, b_ - lr * gb_
    steps.append({"kernel": r(k), "bias": r(b_)})
# The epoch's weighted accuracy (weighted_metrics) and plain accuracy after the last epoch, on its batches'
# predictions as they came (before each step): recomputed by replaying the steps.
k, b_ = kernel.copy(), bias.copy()
acc_hits = acc_count = wacc = wcount = 0.0
for epoch in range(2):
    acc_hits = acc_count = wacc = wcount = 0.0
    losses = []
    for start in range(0, 10, batch_size):
        sl = slice(start, start + batch_size)
        p = softmax(x[sl] @ k + b_)
        hit = (p.argmax(1) == labels[sl]).astype(float)
        acc_hits += hit.sum()
        acc_count += hit.size
        wacc += float(np.sum(w[sl] * hit))
        wcount += float(np.sum(w[sl]))
        batch_loss, gk_, gb_ = weighted_loss_and_grads(x[sl], y[sl], w[sl], k, b_)
        losses.append((batch_loss, x[sl].shape[0]))
        k, b_ = k - lr * gk_, b_ - lr * gb_
epoch_loss = sum(l * n for l, n in losses) / sum(n for _, n in losses)
fit = {
    "x": r(x), "labels": labels.tolist(), "sample_weight": r(w), "kernel": r(kernel), "bias": r(bias),
    "loss": loss, "grad_kernel": r(gk), "grad_bias": r(gb),
    "learning_rate": lr, "batch_size": batch_size, "epochs": steps,
    "last_epoch": {"loss": epoch_loss, "accuracy": acc_hits / acc_count, "weighted_accuracy": wacc / wcount},
}

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump({"generator": "tests/parity/gen_metrics.py (numpy " + np.__version__ + ")", "cases": cases,
               "weighted_fit": fit}, f, indent=None, separators=(",", ":"))
    f.write("\n")
print(len(cases), "metric cases ->", OUT)
