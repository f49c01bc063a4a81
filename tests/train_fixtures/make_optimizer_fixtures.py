#!/usr/bin/python3
"""Oracle fixtures for tests/unit/optimizers_test.cpp: optimizers.json.

Run with Debian's /usr/bin/python3 (python3-numpy 1.24, python3-torch 1.13) from anywhere:
    /usr/bin/python3 tests/train_fixtures/make_optimizer_fixtures.py
It rewrites optimizers.json beside itself; the output is deterministic. Nothing here imports rnnkit.

Each case starts from the same two float32 weights, shapes (3,2) and (2,), takes five steps with the same
five float32 gradient sets (grads scaled so that clipping bites on some steps and not on others) and records
the weights after every step, the learning rate of every step and the slots after the last one.

Where the expected values come from (each case names its "oracle"):

* torch.optim, where PyTorch has Keras's rule exactly (computed in float64):
  - SGD with or without momentum/nesterov at a constant learning rate. PyTorch keeps v = mu*v + g and steps
    w -= lr*v (nesterov: w -= lr*(g + mu*v)); Keras keeps m = mu*m - lr*g and steps w += m (nesterov:
    w += mu*m - lr*g). With m = -lr*v the two are the same rule while lr is constant; they part when a
    schedule changes lr (then: numpy).
  - SGD without momentum under a schedule: torch.optim.lr_scheduler.LambdaLR at epoch = iterations.
  - clipvalue through torch.nn.utils.clip_grad_value_ (the same clip as tf.clip_by_value).
  - Adagrad and RMSprop with epsilon = 0: PyTorch adds eps to the root, Keras inside it; with no eps the
    rules agree (Adagrad with initial_accumulator_value set to Keras's).
* numpy float64, a line-by-line transcription of the tf.keras 2.11 source
  (keras/optimizers/optimizer_experimental/{adam,rmsprop,sgd,adagrad}.py update_step, dense branch;
  optimizer.py _clip_gradients with TF's clip_by_norm / clip_by_global_norm / clip_by_value formulas;
  keras/optimizers/schedules/learning_rate_schedule.py ExponentialDecay), everywhere else. Every numpy case
  is cross-checked against PyTorch, and the generator fails if a check misses its tolerance:
  - Adam: torch.optim.Adam adds eps to sqrt(v_hat) = sqrt(v)/sqrt(1-b2^t); Keras adds it to sqrt(v) and
    scales by sqrt(1-b2^t) afterwards. Setting torch's eps to eps/sqrt(1-b2^t) before each step makes the
    rules identical (checked to 1e-12); plain torch.optim.Adam is checked loosely (differs at eps level).
  - RMSprop, Adagrad: the numpy transcription run with epsilon = 0 against torch with eps = 0 (1e-12), and
    with the case's epsilon against torch with the same eps loosely.
  - clipnorm / global_clipnorm: torch.nn.utils.clip_grad_norm_ divides by (norm + 1e-6), TF by norm:
    loose check only.
  - SGD with momentum under a schedule: PyTorch's rule differs there (see above); the check is skipped
    and the case says so.
The C++ test replays each case in float32 and compares with 1e-6 relative tolerance.
"""
import json
import math
import os
import re

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 5

# Keras's defaults (tf.keras 2.11 constructors; ExponentialDecay has no defaults but these are written out).
DEFAULTS = {
    "adam": {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False},
    "rmsprop": {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0, "epsilon": 1e-7, "centered": False},
    "sgd": {"learning_rate": 0.01, "momentum": 0.0, "nesterov": False},
    "adagrad": {"learning_rate": 0.001, "initial_accumulator_value": 0.1, "epsilon": 1e-7},
}
COMMON = {"clipnorm": None, "clipvalue": None, "global_clipnorm": None, "schedule": None}


def f32(a):
    """Values representable in float32, held as float64."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def make_data():
    rng = np.random.default_rng(20240611)
    sign = lambda shape: np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    weights = [f32(sign((3, 2)) * rng.uniform(0.2, 1.0, (3, 2))), f32(sign((2,)) * rng.uniform(0.2, 1.0, (2,)))]
    scales = [0.5, 2.0, 1.0, 3.0, 0.2]  # norms ~ scale * 2.5 (kernel), scale * 1.4 (bias)
    grads = [[f32(s * rng.standard_normal((3, 2))), f32(s * rng.standard_normal((2,)))] for s in scales]
    return weights, grads


# ---- numpy float64 transcription of tf.keras 2.11 ---------------------------------------------------------

def schedule_lr(schedule, step):
    # learning_rate_schedule.py ExponentialDecay.__call__
    p = step / schedule["decay_steps"]
    if schedule["staircase"]:
        p = math.floor(p)
    return schedule["initial_learning_rate"] * schedule["decay_rate"] ** p


def clip_gradients(grads, common):
    # optimizer.py _BaseOptimizer._clip_gradients: clipnorm, else global_clipnorm, else clipvalue.
    if common["clipnorm"]:
        c = common["clipnorm"]
        # tf.clip_by_norm: t * clip_norm / maximum(l2norm, clip_norm)
        return [g * c / max(math.sqrt(float(np.sum(g * g))), c) for g in grads]
    if common["global_clipnorm"]:
        c = common["global_clipnorm"]
        # tf.clip_by_global_norm: t * clip_norm * minimum(1 / global_norm, 1 / clip_norm)
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        scale = c * min(1.0 / norm if norm > 0 else math.inf, 1.0 / c)
        return [g * scale for g in grads]
    if common["clipvalue"]:
        c = common["clipvalue"]
        return [np.clip(g, -c, c) for g in grads]
    return grads


def keras_numpy(optimizer, hp, common, weights, grad_sets):
    """Returns (weights after each step, lr of each step, final slots by Keras 3 name)."""
    w = [x.copy() for x in weights]
    n = len(w)
    zeros = lambda: [np.zeros_like(x) for x in w]
    slots = {}
    if optimizer == "adam":
        slots["momentum"], slots["velocity"] = zeros(), zeros()
        if hp["amsgrad"]:
            slots["velocity_hat"] = zeros()
    elif optimizer == "rmsprop":
        slots["velocity"] = zeros()
        if hp["momentum"] > 0:
            slots["momentum"] = zeros()
        if hp["centered"]:
            slots["average_gradient"] = zeros()
    elif optimizer == "sgd":
        if hp["momentum"] != 0:
            slots["momentum"] = zeros()
    elif optimizer == "adagrad":
        slots["accumulator"] = [np.full_like(x, hp["initial_accumulator_value"]) for x in w]
    history, lrs = [], []
    iterations = 0
    for grads in grad_sets:
        lr = schedule_lr(common["schedule"], iterations) if common["schedule"] else hp["learning_rate"]
        lrs.append(lr)
        grads = clip_gradients(grads, common)
        for i in range(n):
            g = grads[i]
            if optimizer == "adam":
                # adam.py Adam.update_step
                local_step = iterations + 1
                beta_1_power = hp["beta_1"] ** local_step
                beta_2_power = hp["beta_2"] ** local_step
                alpha = lr * math.sqrt(1 - beta_2_power) / (1 - beta_1_power)
                m, v = slots["momentum"][i], slots["velocity"][i]
                m += (g - m) * (1 - hp["beta_1"])
                v += (np.square(g) - v) * (1 - hp["beta_2"])
                if hp["amsgrad"]:
                    v_hat = slots["velocity_hat"][i]
                    np.maximum(v_hat, v, out=v_hat)
                    v = v_hat
                w[i] -= (m * alpha) / (np.sqrt(v) + hp["epsilon"])
            elif optimizer == "rmsprop":
                # rmsprop.py RMSprop.update_step
                rho = hp["rho"]
                velocity = slots["velocity"][i]
                velocity[...] = rho * velocity + (1 - rho) * np.square(g)
                if hp["centered"]:
                    average_grad = slots["average_gradient"][i]
                    average_grad[...] = rho * average_grad + (1 - rho) * g
                    denominator = velocity - np.square(average_grad) + hp["epsilon"]
                else:
                    denominator = velocity + hp["epsilon"]
                increment = lr * g / np.sqrt(denominator)
                if hp["momentum"] > 0:
                    momentum = slots["momentum"][i]
                    momentum[...] = hp["momentum"] * momentum + increment
                    w[i] -= momentum
                else:
                    w[i] -= increment
            elif optimizer == "sgd":
                # sgd.py SGD.update_step
                if hp["momentum"] != 0:
                    m = slots["momentum"][i]
                    m[...] = -g * lr + m * hp["momentum"]
                    if hp["nesterov"]:
                        w[i] += -g * lr + m * hp["momentum"]
                    else:
                        w[i] += m
                else:
                    w[i] += -g * lr
            elif optimizer == "adagrad":
                # adagrad.py Adagrad.update_step
                accumulator = slots["accumulator"][i]
                accumulator += g * g
                w[i] -= lr * g / np.sqrt(accumulator + hp["epsilon"])
        iterations += 1
        history.append([x.copy() for x in w])
    return history, lrs, slots


# ---- PyTorch --------------------------------------------------------------------------------------------

def torch_run(optimizer, hp, common, weights, grad_sets, *, adam_eps_rescaled=False, eps=None,
              norm_clip=False):
    """The same steps through torch.optim (float64). Returns the weights after each step."""
    params = [torch.nn.Parameter(torch.tensor(x)) for x in weights]
    lr = common["schedule"]["initial_learning_rate"] if common["schedule"] else hp["learning_rate"]
    epsilon = hp.get("epsilon") if eps is None else eps
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=hp["momentum"], nesterov=hp["nesterov"])
    elif optimizer == "adam":
        opt = torch.optim.Adam(params, lr=lr, betas=(hp["beta_1"], hp["beta_2"]), eps=epsilon,
                               amsgrad=hp["amsgrad"])
    elif optimizer == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=lr, alpha=hp["rho"], eps=epsilon, momentum=hp["momentum"],
                                  centered=hp["centered"])
    elif optimizer == "adagrad":
        opt = torch.optim.Adagrad(params, lr=lr, initial_accumulator_value=hp["initial_accumulator_value"],
                                  eps=epsilon)
    scheduler = None
    if common["schedule"]:
        s = common["schedule"]
        factor = (lambda e: s["decay_rate"] ** math.floor(e / s["decay_steps"])) if s["staircase"] else \
                 (lambda e: s["decay_rate"] ** (e / s["decay_steps"]))
        scheduler = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    history = []
    for t, grads in enumerate(grad_sets, start=1):
        for p, g in zip(params, grads):
            p.grad = torch.tensor(g)
        if common["clipvalue"]:
            torch.nn.utils.clip_grad_value_(params, common["clipvalue"])
        if norm_clip and common["clipnorm"]:
            for p in params:
                torch.nn.utils.clip_grad_norm_([p], common["clipnorm"])
        if norm_clip and common["global_clipnorm"]:
            torch.nn.utils.clip_grad_norm_(params, common["global_clipnorm"])
        if adam_eps_rescaled:
            opt.param_groups[0]["eps"] = epsilon / math.sqrt(1 - hp["beta_2"] ** t)
        opt.step()
        if scheduler:
            scheduler.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history


def max_relative_diff(a_history, b_history):
    worst = 0.0
    for a_step, b_step in zip(a_history, b_history):
        for a, b in zip(a_step, b_step):
            worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12))))
    return worst


# ---- cases ----------------------------------------------------------------------------------------------

def exponential(initial, steps, rate, staircase):
    return {"initial_learning_rate": initial, "decay_steps": steps, "decay_rate": rate, "staircase": staircase}


CASES = [
    # name, optimizer, hyperparameter overrides, common overrides
    ("adam_defaults", "adam", {}, {}),
    ("adam_amsgrad", "adam", {"learning_rate": 0.05, "amsgrad": True}, {}),
    ("adam_betas_epsilon", "adam", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 0.1}, {}),
    ("adam_clipnorm", "adam", {"learning_rate": 0.05}, {"clipnorm": 1.0}),
    ("adam_clipvalue", "adam", {"learning_rate": 0.05}, {"clipvalue": 0.5}),
    ("adam_global_clipnorm", "adam", {"learning_rate": 0.05}, {"global_clipnorm": 2.0}),
    ("adam_exponential_decay", "adam", {}, {"schedule": exponential(0.05, 2, 0.5, False)}),
    ("adam_exponential_decay_staircase", "adam", {"amsgrad": True}, {"schedule": exponential(0.05, 2, 0.5, True)}),
    ("rmsprop_defaults", "rmsprop", {}, {}),
    ("rmsprop_momentum", "rmsprop", {"learning_rate": 0.01, "momentum": 0.9}, {}),
    ("rmsprop_centered", "rmsprop", {"learning_rate": 0.01, "centered": True}, {}),
    ("rmsprop_centered_momentum", "rmsprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}, {}),
    ("rmsprop_rho_epsilon", "rmsprop", {"learning_rate": 0.01, "rho": 0.8, "epsilon": 0.01}, {}),
    ("rmsprop_epsilon0_momentum", "rmsprop", {"learning_rate": 0.01, "momentum": 0.9, "epsilon": 0.0}, {}),
    ("rmsprop_clipnorm", "rmsprop", {"learning_rate": 0.01}, {"clipnorm": 1.0}),
    ("rmsprop_clipvalue", "rmsprop", {"learning_rate": 0.01}, {"clipvalue": 0.5}),
    ("rmsprop_global_clipnorm", "rmsprop", {"learning_rate": 0.01}, {"global_clipnorm": 2.0}),
    ("rmsprop_exponential_decay", "rmsprop", {}, {"schedule": exponential(0.01, 2, 0.5, False)}),
    ("rmsprop_exponential_decay_staircase", "rmsprop", {"momentum": 0.9},
     {"schedule": exponential(0.01, 2, 0.5, True)}),
    ("sgd_defaults", "sgd", {}, {}),
    ("sgd_momentum", "sgd", {"learning_rate": 0.05, "momentum": 0.9}, {}),
    ("sgd_nesterov", "sgd", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}, {}),
    ("sgd_clipnorm", "sgd", {"learning_rate": 0.1}, {"clipnorm": 1.0}),
    ("sgd_clipvalue", "sgd", {"learning_rate": 0.1, "momentum": 0.5}, {"clipvalue": 0.5}),
    ("sgd_global_clipnorm", "sgd", {"learning_rate": 0.1, "momentum": 0.5}, {"global_clipnorm": 2.0}),
    ("sgd_exponential_decay", "sgd", {"momentum": 0.9}, {"schedule": exponential(0.1, 2, 0.5, False)}),
    ("sgd_exponential_decay_staircase", "sgd", {}, {"schedule": exponential(0.1, 2, 0.5, True)}),
    ("adagrad_defaults", "adagrad", {}, {}),
    ("adagrad_accumulator_epsilon", "adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5,
                                                "epsilon": 0.05}, {}),
    ("adagrad_epsilon0", "adagrad", {"learning_rate": 0.1, "epsilon": 0.0}, {}),
    ("adagrad_clipnorm", "adagrad", {"learning_rate": 0.1}, {"clipnorm": 1.0}),
    ("adagrad_clipvalue", "adagrad", {"learning_rate": 0.1}, {"clipvalue": 0.5}),
    ("adagrad_global_clipnorm", "adagrad", {"learning_rate": 0.1}, {"global_clipnorm": 2.0}),
    ("adagrad_exponential_decay", "adagrad", {}, {"schedule": exponential(0.1, 2, 0.5, False)}),
    ("adagrad_exponential_decay_staircase", "adagrad", {}, {"schedule": exponential(0.1, 2, 0.5, True)}),
]

TIGHT = 1e-12


def check(label, worst, tolerance):
    if not worst <= tolerance:
        raise SystemExit(f"cross-check failed: {CURRENT_CASE}: {label}: max relative difference {worst:.3g} > "
                         f"{tolerance:g}")
    return {"against": label, "max_relative_difference": float(f"{worst:.3g}"), "tolerance": tolerance}


CURRENT_CASE = None


def build_case(name, optimizer, overrides, common_overrides, weights, grad_sets):
    global CURRENT_CASE
    CURRENT_CASE = name
    hp = {**DEFAULTS[optimizer], **overrides}
    common = {**COMMON, **common_overrides}
    expected, lrs, slots = keras_numpy(optimizer, hp, common, weights, grad_sets)
    oracle = "numpy float64 transcription of tf.keras 2.11"
    checks = []
    schedule = common["schedule"]
    norm_clip = bool(common["clipnorm"] or common["global_clipnorm"])
    if optimizer == "sgd":
        if not (schedule and hp["momentum"] != 0):
            torch_history = torch_run(optimizer, hp, common, weights, grad_sets, norm_clip=norm_clip)
            if norm_clip:
                checks.append(check("torch.optim.SGD after torch.nn.utils.clip_grad_norm_ (divides by norm + 1e-6)",
                                    max_relative_diff(torch_history, expected), 1e-5))
            else:
                checks.append(check("numpy float64 transcription of tf.keras 2.11",
                                    max_relative_diff(expected, torch_history), TIGHT))
                expected = torch_history
                oracle = "torch.optim.SGD" + (" + LambdaLR" if schedule else "") + \
                         (" after torch.nn.utils.clip_grad_value_" if common["clipvalue"] else "")
        else:
            checks.append({"against": "none: torch's momentum buffer v = mu*v + g, w -= lr*v is Keras's rule only "
                                      "while lr is constant, and this schedule changes it"})
    elif optimizer == "adam":
        torch_history = torch_run(optimizer, hp, common, weights, grad_sets, adam_eps_rescaled=True,
                                  norm_clip=norm_clip)
        checks.append(check("torch.optim.Adam with eps set to epsilon/sqrt(1-beta_2^t) before each step" +
                            (" after torch.nn.utils.clip_grad_norm_" if norm_clip else ""),
                            max_relative_diff(torch_history, expected), 1e-5 if norm_clip else TIGHT))
        if hp["epsilon"] < 1e-3:
            plain = torch_run(optimizer, hp, common, weights, grad_sets, norm_clip=norm_clip)
            checks.append(check("torch.optim.Adam (eps added to sqrt(v_hat): differs at the epsilon level)",
                                max_relative_diff(plain, expected), 1e-4))
    elif optimizer == "rmsprop" and schedule and hp["momentum"] > 0:
        checks.append({"against": "none: torch's RMSprop momentum buffer b = mu*b + g/avg, w -= lr*b is Keras's "
                                  "mom = mu*mom + lr*g/avg, w -= mom only while lr is constant, and this schedule "
                                  "changes it"})
    else:  # rmsprop, adagrad: epsilon inside the root in Keras, added to the root in PyTorch
        no_eps = {**hp, "epsilon": 0.0}
        numpy_no_eps, _, _ = keras_numpy(optimizer, no_eps, common, weights, grad_sets)
        torch_no_eps = torch_run(optimizer, no_eps, common, weights, grad_sets, norm_clip=norm_clip)
        label = f"torch.optim.{'RMSprop' if optimizer == 'rmsprop' else 'Adagrad'}"
        clip_note = " after torch.nn.utils.clip_grad_norm_" if norm_clip else ""
        if hp["epsilon"] == 0.0 and not norm_clip:
            checks.append(check("numpy float64 transcription of tf.keras 2.11",
                                max_relative_diff(expected, torch_no_eps), TIGHT))
            expected = torch_no_eps
            oracle = label + (" + LambdaLR" if schedule else "") + \
                     (" after torch.nn.utils.clip_grad_value_" if common["clipvalue"] else "")
        else:
            checks.append(check(f"the same steps with epsilon 0 against {label} with eps 0{clip_note}",
                                max_relative_diff(torch_no_eps, numpy_no_eps), 1e-5 if norm_clip else TIGHT))
            if hp["epsilon"] < 1e-3:
                with_eps = torch_run(optimizer, hp, common, weights, grad_sets, norm_clip=norm_clip)
                checks.append(check(f"{label} with the same eps (added to the root: differs at the epsilon level)"
                                    f"{clip_note}", max_relative_diff(with_eps, expected), 1e-2))
    # Expected values to 12 significant digits: ample for a float32 comparison, and half the file.
    tensor = lambda x: {"shape": list(x.shape), "data": [float(f"{v:.12g}") for v in x.reshape(-1)]}
    return {
        "name": name,
        "optimizer": optimizer,
        "options": overrides,  # on top of Keras's defaults, which the test takes from rnnkit's option structs
        "hyperparameters": hp,
        **{k: v for k, v in common.items() if v is not None},
        "oracle": oracle,
        "cross_checks": checks,
        "learning_rates": lrs,
        "weights_after_step": [[tensor(x) for x in step] for step in expected],
        "final_slots": {k: [tensor(x) for x in v] for k, v in slots.items()},
    }


def main():
    weights, grad_sets = make_data()
    tensor = lambda x: {"shape": list(x.shape), "data": [float(v) for v in x.reshape(-1)]}
    cases = [build_case(*case, weights, grad_sets) for case in CASES]
    out = {
        "generator": "tests/train_fixtures/make_optimizer_fixtures.py",
        "about": "Weights after each of 5 steps of tf.keras 2.11's optimizers, from torch.optim where it has "
                 "Keras's rule and a numpy float64 transcription of the Keras source otherwise (see 'oracle' and "
                 "'cross_checks' per case). Every case starts from initial_weights and takes the steps with "
                 "gradients[0..4].",
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "initial_weights": [tensor(x) for x in weights],
        "gradients": [[tensor(g) for g in grads] for grads in grad_sets],
        "cases": cases,
    }
    path = os.path.join(HERE, "optimizers.json")
    text = json.dumps(out, indent=1)
    # Arrays of plain numbers on one line each, for a readable diff.
    text = re.sub(r"\[\s*([-+0-9.eE,\s]+?)\s*\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
    with open(path, "w") as f:
        f.write(text + "\n")
    print(f"wrote {len(cases)} cases to {path}")
    for case in cases:
        print(f"  {case['name']:40s} {case['oracle']}")


if __name__ == "__main__":
    main()
