#!/usr/bin/python3
"""Hand values for tests/unit/layers_test.cpp: the Keras cell equations (design.md section 3, Keras's
lstm.py / gru.py docstrings) written out with numpy, one unit at a time, for the few cases whose numbers
are too tedious to work out on paper. Run with Debian's /usr/bin/python3 (numpy 1.24); the printed values
are pasted into the tests. Nothing here imports rnnkit.
"""
import numpy as np


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def lstm_case():
    # LSTM(1): kernel (1,4) and recurrent_kernel (1,4) in gate order i, f, c, o; bias (4).
    w = np.array([0.1, 0.2, 0.3, 0.4])
    u = np.array([0.5, 0.6, 0.7, 0.8])
    b = np.array([0.01, 1.0, 0.02, 0.03])
    h, c = 0.0, 0.0
    hs = []
    for x in [1.0, 2.0, 3.0]:
        z = x * w + h * u + b
        i, f, g, o = sigmoid(z[0]), sigmoid(z[1]), np.tanh(z[2]), sigmoid(z[3])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    print("lstm_gate_order h:", ", ".join("%.9g" % v for v in hs), " c:", "%.9g" % c)


def gru_case(reset_after):
    # GRU(2) on one feature: kernel (1,6), recurrent_kernel (2,6) in gate order z, r, h.
    w = np.array([[0.5, -0.4, 0.3, 0.2, 0.1, -0.6]])
    u = np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
                  [-0.6, -0.5, -0.4, -0.3, -0.2, -0.1]])
    b_in = np.array([0.05, -0.05, 0.1, -0.1, 0.2, -0.2])  # bias row 0 (reset_after) or the bias (reset_before)
    b_rec = np.array([0.3, 0.3, -0.3, -0.3, 0.4, -0.4])   # bias row 1, reset_after only
    h = np.zeros(2)
    hs = []
    for x in [1.0, -2.0]:
        xw = x * w[0] + b_in
        if reset_after:
            hu = h @ u + b_rec
            z = sigmoid(xw[0:2] + hu[0:2])
            r = sigmoid(xw[2:4] + hu[2:4])
            hh = np.tanh(xw[4:6] + r * hu[4:6])
        else:
            hu = h @ u
            z = sigmoid(xw[0:2] + hu[0:2])
            r = sigmoid(xw[2:4] + hu[2:4])
            hh = np.tanh(xw[4:6] + (r * h) @ u[:, 4:6])
        h = z * h + (1 - z) * hh
        hs.extend(h)
    print("gru reset_after=%s h:" % reset_after, ", ".join("%.9g" % v for v in hs))


lstm_case()
gru_case(True)
gru_case(False)
