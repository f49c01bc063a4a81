#!/usr/bin/python3
"""Oracle values for tests/unit/keras_names_test.cpp: Keras's OrthogonalRegularizer (tf.keras 2.11
keras/regularizers.py, Keras 3 keras/src/regularizers/regularizers.py) written out in PyTorch, its gradient by
autograd. Run with Debian's /usr/bin/python3 (python3-torch); the printed values are pasted into the test.
Nothing here imports rnnkit."""
import torch

torch.set_default_dtype(torch.float64)


def orthogonal_penalty(w, factor, mode):
    # tf.math.l2_normalize: x / sqrt(max(sum(x^2), 1e-12)).
    axis = 1 if mode == "rows" else 0
    n = w / torch.sqrt(torch.clamp((w * w).sum(dim=axis, keepdim=True), min=1e-12))
    product = n @ n.T if mode == "rows" else n.T @ n
    size = product.shape[0]
    no_diagonal = product * (1.0 - torch.eye(size))
    pairs = size * (size - 1.0) / 2.0
    return factor * 0.5 * no_diagonal.abs().sum() / pairs


W = [[0.5, -1.0, 0.25, 2.0], [1.5, 0.75, -0.5, 0.1], [-0.3, 0.2, 1.0, -1.2]]
for mode, factor in (("rows", 0.01), ("columns", 0.2)):
    w = torch.tensor(W, requires_grad=True)
    penalty = orthogonal_penalty(w, factor, mode)
    penalty.backward()
    print(mode, "penalty %.12g" % penalty.item())
    print(mode, "gradient", ", ".join("%.12g" % v for v in w.grad.flatten().tolist()))
