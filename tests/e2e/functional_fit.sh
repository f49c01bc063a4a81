#!/usr/bin/env bash
# End-to-end: `rnnkit fit` and `rnnkit evaluate` on a Functional model with two inputs and two outputs
# (tests/model_files/functional/shared_two_in_two_out): one --x per input and one --y per output (in order or
# NAME=FILE) or one .npz each; the log names each output's loss as tf.keras does; the trained model saves and
# predicts; a wrong number of arrays is a clear error.
#
# Usage: functional_fit.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail
rnnkit=${1:?usage: functional_fit.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: functional_fit.sh RNNKIT_BINARY TESTS_DIR}
source "$(dirname "$0")/lib/checks.bash"
model=$tests/model_files/functional/shared_two_in_two_out.tf2.11.h5
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Two inputs (N,3,2); targets: a 0/1 label for head_a (sigmoid) and one-hot pairs for head_b (softmax).
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(7)
a = rng.normal(size=(40, 3, 2)).astype(np.float32)
b = rng.normal(size=(40, 3, 2)).astype(np.float32)
ya = (a.sum(axis=(1, 2)) > 0).astype(np.float32)[:, None]
yb = np.eye(2, dtype=np.float32)[(b[:, -1, 0] > 0).astype(int)]
np.save("a.npy", a); np.save("b.npy", b); np.save("ya.npy", ya); np.save("yb.npy", yb)
np.savez("x.npz", input_a=a, input_b=b)
np.savez("y.npz", head_a=ya, head_b=yb)
PY

if "$rnnkit" fit "$model" --x a.npy --x b.npy --y head_b=yb.npy --y head_a=ya.npy --loss binary_crossentropy \
  --epochs 3 --verbose 2 -o trained.keras >fit.log 2>&1; then
  if grep -q "head_a_loss: .* head_b_loss: " fit.log && grep -q "^saved trained.keras$" fit.log; then
    pass "fit: two inputs in order, two outputs by name; the log shows each output's loss"
  else
    fail_check "fit log: $(cat fit.log)"
  fi
else
  fail_check "fit: $(cat fit.log)"
fi
if "$rnnkit" evaluate trained.keras --x x.npz --y y.npz --loss binary_crossentropy >evaluate.log 2>&1 &&
  grep -q "^head_b_loss: " evaluate.log && grep -q "^loss: " evaluate.log; then
  pass "evaluate: inputs and targets as .npz named by layer"
else
  fail_check "evaluate: $(cat evaluate.log)"
fi
if "$rnnkit" predict trained.keras --input x.npz --output out.npz >/dev/null 2>&1; then
  pass "the trained Functional model saves and predicts"
else
  fail_check "predict of the trained model"
fi
expect_error "fit: one --y for two outputs" "head_a, head_b" -- \
  fit "$model" --x a.npy --x b.npy --y ya.npy --loss binary_crossentropy -o never.keras
expect_error "fit: unknown output name" "no output 'bogus'" -- \
  fit "$model" --x x.npz --y bogus=ya.npy --y head_b=yb.npy --loss binary_crossentropy -o never.keras
((failures == 0))
