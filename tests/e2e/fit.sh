#!/usr/bin/env bash
# End-to-end: `rnnkit fit` trains the Korean tutorial's word-level RNN language model from .npy files to
# Keras's reported accuracy (>= 0.9), saves it as .keras, and `rnnkit evaluate` reads the file back.
#
# Usage: fit.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail
rnnkit=${1:?usage: fit.sh RNNKIT_BINARY TESTS_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# 경마장에 있는 말이 뛰고 있다 / 그의 말이 법이다 / 가는 말이 고와야 오는 말이 곱다, numbered as Keras's Tokenizer
# does; every prefix padded 'pre' to 6: 5 inputs and the next word.
/usr/bin/python3 - <<'PY'
import numpy as np
lines = [[2, 3, 1, 4, 5], [6, 1, 7], [8, 1, 9, 10, 1, 11]]
rows = [[0] * (6 - end) + line[:end] for line in lines for end in range(2, len(line) + 1)]
data = np.array(rows, dtype=np.int32)
np.save("x.npy", data[:, :5])
np.save("y.npy", np.eye(12, dtype=np.float32)[data[:, 5]])
PY
cat >model.json <<'JSON'
{"class_name": "Sequential", "config": {"name": "sequential", "layers": [
 {"class_name": "Embedding", "config": {"name": "embedding", "input_dim": 12, "output_dim": 10, "batch_input_shape": [null, 5]}},
 {"class_name": "SimpleRNN", "config": {"name": "simple_rnn", "units": 32}},
 {"class_name": "Dense", "config": {"name": "dense", "units": 12, "activation": "softmax"}}]}}
JSON

"$rnnkit" fit model.json --x x.npy --y y.npy --loss categorical_crossentropy --optimizer adam --epochs 200 \
  --verbose 2 -o lm.keras >fit.log
grep -q "^Epoch 200/200$" fit.log || { echo "FAIL: no 200th epoch in the log"; tail -n 5 fit.log; exit 1; }
"$rnnkit" evaluate lm.keras --x x.npy --y y.npy --loss categorical_crossentropy >evaluate.log
accuracy=$(sed -n 's/^accuracy: //p' evaluate.log)
/usr/bin/python3 -c "import sys; sys.exit(0 if float('$accuracy') >= 0.9 else 1)" ||
  { echo "FAIL: accuracy $accuracy < 0.9"; exit 1; }
echo "ok   tutorial RNN language model: accuracy $accuracy after 200 epochs"

# --metrics names Keras's metrics; top-5 accuracy is at least the accuracy; an unknown name is a clear error.
"$rnnkit" evaluate lm.keras --x x.npy --y y.npy --loss categorical_crossentropy \
  --metrics accuracy,top_k_categorical_accuracy,precision >metrics.log
top5=$(sed -n 's/^top_k_categorical_accuracy: //p' metrics.log)
grep -q "^precision: " metrics.log || { echo "FAIL: no precision in"; cat metrics.log; exit 1; }
/usr/bin/python3 -c "import sys; sys.exit(0 if float('$top5') >= float('$accuracy') else 1)" ||
  { echo "FAIL: top-5 accuracy $top5 < accuracy $accuracy"; exit 1; }
"$rnnkit" evaluate lm.keras --x x.npy --y y.npy --loss categorical_crossentropy --metrics f1 >bad.log 2>&1 &&
  { echo "FAIL: an unknown metric was accepted"; exit 1; }
grep -q "unknown metric 'f1'" bad.log || { echo "FAIL: no clear error for --metrics f1"; cat bad.log; exit 1; }
echo "ok   evaluate --metrics: top-5 accuracy $top5"

# Training goes on from a saved model and saves in the other format.
"$rnnkit" fit lm.keras --x x.npy --y y.npy --loss categorical_crossentropy --epochs 1 --verbose 0 -o lm.h5 >/dev/null
"$rnnkit" summary lm.h5 | grep -q "Total params: 1,892" || { echo "FAIL: lm.h5 summary"; exit 1; }
echo "ok   fit resumes from .keras and saves .h5"

# Without --loss/--optimizer, fit goes on with the training state saved in the file: 2 epochs, save, 1 more
# equals 3 straight, bit for bit (no shuffling, so both see the same batches); compiling afresh does not.
for epochs in 2 3; do
  "$rnnkit" fit model.json --x x.npy --y y.npy --loss categorical_crossentropy --epochs $epochs --no-shuffle \
    --verbose 0 -o straight$epochs.keras >/dev/null
done
"$rnnkit" fit straight2.keras --x x.npy --y y.npy --epochs 1 --no-shuffle --verbose 0 -o resumed.keras >/dev/null
"$rnnkit" fit straight2.keras --x x.npy --y y.npy --loss categorical_crossentropy --epochs 1 --no-shuffle \
  --verbose 0 -o recompiled.keras >/dev/null
for model in straight3 resumed recompiled; do
  "$rnnkit" predict $model.keras --input x.npy --output $model.npy >/dev/null
done
cmp -s straight3.npy resumed.npy || { echo "FAIL: resumed training differs from training straight through"; exit 1; }
cmp -s straight3.npy recompiled.npy && { echo "FAIL: a fresh compile kept the optimizer state"; exit 1; }
"$rnnkit" fit model.json --x x.npy --y y.npy --epochs 1 -o never.keras >missing.log 2>&1 &&
  { echo "FAIL: fit without --loss on an uncompiled model"; exit 1; }
grep -q "give --loss" missing.log || { echo "FAIL: no clear error without --loss"; cat missing.log; exit 1; }
echo "ok   fit goes on from the saved optimizer state (bit for bit), or compiles afresh when asked"

# A file whose optimizer state another Keras wrote in a form that does not fit still loads: fit warns, naming
# what was dropped, and trains on with a fresh optimizer.
/usr/bin/python3 - <<'PY'
import h5py, numpy as np
with h5py.File("lm.h5", "r+") as f:
    g = f["optimizer_weights"]
    g.attrs["weight_names"] = [n for n in g.attrs["weight_names"]][:-1]
PY
"$rnnkit" fit lm.h5 --x x.npy --y y.npy --epochs 1 --verbose 0 -o refreshed.keras >/dev/null 2>dropped.log ||
  { echo "FAIL: fit of a file with unmappable optimizer state"; cat dropped.log; exit 1; }
grep -q "^rnnkit: warning: lm.h5: dropped the optimizer state: .*object /optimizer_weights: holds .*training starts with a fresh optimizer$" dropped.log ||
  { echo "FAIL: no warning naming the dropped optimizer state"; cat dropped.log; exit 1; }
echo "ok   fit warns about optimizer state it cannot map and trains on"
