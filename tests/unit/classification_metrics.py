#!/usr/bin/python3
"""Writes tests/unit/fixtures/classification_metrics.json for tests/unit/classification_test.cpp: labels,
class probabilities and the report scikit-learn would give (accuracy, precision/recall/F1 per class with
zero_division=0, macro and weighted means, confusion matrix, roc_auc_score, log loss with Keras's 1e-7 clip),
computed here with numpy alone from the definitions. The ROC AUC is the trapezoidal area under the ROC curve
over every distinct threshold (as roc_auc_score does), not the rank statistic rnnkit uses. Run with Debian's
/usr/bin/python3; nothing here imports rnnkit.
"""
import json
import os

import numpy as np


def roc_auc_trapezoid(truth, score):
    thresholds = np.unique(score)[::-1]
    positives = np.sum(truth == 1)
    negatives = np.sum(truth == 0)
    tpr = [0.0]
    fpr = [0.0]
    for t in thresholds:
        predicted = score >= t
        tpr.append(np.sum(predicted & (truth == 1)) / positives)
        fpr.append(np.sum(predicted & (truth == 0)) / negatives)
    return float(np.trapz(tpr, fpr))


def report(truth, probabilities):
    k = probabilities.shape[1]
    if k == 2:
        predicted = (probabilities[:, 1] > 0.5).astype(int)  # Keras's binary threshold
    else:
        predicted = np.argmax(probabilities, axis=1)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (truth, predicted), 1)
    precision, recall, f1, support = [], [], [], []
    for c in range(k):
        tp = np.sum((truth == c) & (predicted == c))
        pp = np.sum(predicted == c)
        ap = np.sum(truth == c)
        p = tp / pp if pp else 0.0
        r = tp / ap if ap else 0.0
        precision.append(float(p))
        recall.append(float(r))
        f1.append(float(2 * p * r / (p + r)) if p + r else 0.0)
        support.append(int(ap))
    weights = np.array(support) / len(truth)
    p_true = np.clip(probabilities[np.arange(len(truth)), truth], 1e-7, 1 - 1e-7)
    result = {
        "truth": truth.tolist(),
        "probabilities": probabilities.tolist(),
        "loss": float(-np.mean(np.log(p_true))),
        "accuracy": float(np.mean(truth == predicted)),
        "confusion": confusion.tolist(),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support,
        "macro": [float(np.mean(precision)), float(np.mean(recall)), float(np.mean(f1))],
        "weighted": [float(np.dot(weights, precision)), float(np.dot(weights, recall)), float(np.dot(weights, f1))],
    }
    if k == 2:
        result["roc_auc"] = roc_auc_trapezoid(truth, probabilities[:, 1])
    return result


def main():
    rng = np.random.default_rng(19)
    cases = {}
    # Binary, scores rounded to tenths so that many tie (the AUC counts a tied pair one half), and a few
    # exactly 0.5 (predicted class 0).
    truth = rng.integers(0, 2, 60)
    p = np.round(np.clip(0.3 * truth + rng.uniform(0, 0.7, 60), 0, 1), 1)
    p[:3] = 0.5
    cases["binary_ties"] = report(truth, np.stack([1 - p, p], axis=1))
    # Binary without ties, imbalanced.
    truth = (rng.uniform(size=40) < 0.2).astype(int)
    p = np.clip(0.25 * truth + rng.uniform(0, 0.75, 40), 0, 1)
    cases["binary_imbalanced"] = report(truth, np.stack([1 - p, p], axis=1))
    # Four classes, one of them never predicted (its precision is 0 by zero_division) and one never true.
    truth = rng.choice([0, 1, 2], 50)
    logits = rng.normal(size=(50, 4))
    logits[np.arange(50), truth] += 1.0
    logits[:, 3] = -10.0
    logits[:5, 2] += 20.0
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    cases["four_classes"] = report(truth, probabilities)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "classification_metrics.json")
    with open(path, "w") as f:
        json.dump(cases, f, indent=1)


if __name__ == "__main__":
    main()
