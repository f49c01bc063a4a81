#!/usr/bin/env bash
# End-to-end: `rnnkit train --resume` goes on exactly. 2 epochs, then --resume to 4, equals 4 epochs straight
# through with shuffling, dropout and recurrent dropout on: the same weights and optimizer state to the last
# bit, the same history and samples. --learning-rate, --clipnorm and --optimizer given with --resume take
# effect as they do for `rnnkit fit`. And `rnnkit fit` resumed with shuffling goes on exactly too.
#
# Usage: resume.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail
rnnkit=${1:?usage: resume.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: resume.sh RNNKIT_BINARY TESTS_DIR}
python=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

source "$tests/e2e/lib/checks.bash"

for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
  printf '경마장에 있는 말이 뛰고 있다\n그의 말이 법이다\nthe cat sat on the mat.\n'
done >corpus.txt

# Everything that decides the run but --epochs and --resume. The resumed runs take the same flags, less
# those the checkpoint keeps: the batch size, the validation split and the optimizer's settings.
flags=(--units 16 --layers 2 --embedding-dim 8 --seq-length 12 --dropout 0.2 --recurrent-dropout 0.1 --seed 3
  --threads 1 --verbose 2 --sample-length 20)
kept=(--batch-size 8 --validation-split 0.2 --learning-rate 0.01)
"$rnnkit" train corpus.txt -o straight.keras --epochs 4 "${flags[@]}" "${kept[@]}" >straight.log
"$rnnkit" train corpus.txt -o two.keras --epochs 2 "${flags[@]}" "${kept[@]}" >two.log
"$rnnkit" train corpus.txt -o resumed.keras --resume two.keras --epochs 4 "${flags[@]}" >resumed.log
# The best checkpoint is the last epoch's only while the validation loss falls, as it does on this corpus.
grep -q "^Epoch 4: val_loss improved" straight.log && grep -q "^Epoch 2: val_loss improved" two.log &&
  grep -q "^Epoch 4: val_loss improved" resumed.log ||
  { echo "FAIL: the validation loss did not fall every epoch; the checks below need it"; cat straight.log resumed.log; exit 1; }
grep -q "^resuming from two.keras after epoch 2$" resumed.log || fail_check "resume: no resume line"

# argv: two .keras files; prints whether every weight and optimizer variable is equal to the last bit.
cat >same_state.py <<'PY'
import io, sys, zipfile, h5py, numpy as np
def arrays(path):
    found = {}
    with h5py.File(io.BytesIO(zipfile.ZipFile(path).read("model.weights.h5")), "r") as f:
        f.visititems(lambda name, item: found.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return found
a, b = arrays(sys.argv[1]), arrays(sys.argv[2])
assert a.keys() == b.keys(), (sorted(a), sorted(b))
different = [name for name in a if a[name].tobytes() != b[name].tobytes()]
print("same" if not different else "different: " + ", ".join(sorted(different)))
print(len(a), "arrays,", sum(1 for name in a if name.startswith("optimizer")), "optimizer variables")
PY
"$python" same_state.py straight.keras resumed.keras >same.txt
[[ $(head -n 1 same.txt) == same ]] && pass "train 2 epochs + --resume to 4 = 4 straight: $(tail -n 1 same.txt), bit for bit" ||
  fail_check "resumed weights differ from 4 epochs straight: $(cat same.txt)"
cmp -s straight.history.csv resumed.history.csv && pass "the same history CSV (losses of all 4 epochs)" ||
  fail_check "history differs: $(diff straight.history.csv resumed.history.csv)"
# The per-epoch lines after each epoch: perplexities, the checkpoint line and the sample.
after_epoch() {
  sed -n "/^Epoch $1\/4\$/,\$p" "$2" | grep -v "^Epoch [0-9]/4$" | grep -v " - loss: " | head -n 6 |
    sed 's/, saving model to .*//'
}
for epoch in 3 4; do
  diff <(after_epoch $epoch straight.log) <(after_epoch $epoch resumed.log) >/dev/null &&
    pass "epoch $epoch logs the same perplexities and sample: $(after_epoch $epoch resumed.log | head -n 1)" ||
    fail_check "epoch $epoch logs differ: $(diff <(after_epoch $epoch straight.log) <(after_epoch $epoch resumed.log))"
done

# A batch size given with --resume that differs from the checkpoint's is taken, with a note.
"$rnnkit" train corpus.txt -o other.keras --resume two.keras --epochs 3 "${flags[@]}" --batch-size 4 >other.log
grep -q "^note: --batch-size 4 differs from the 8 two.keras was trained with" other.log &&
  grep -q "^Epoch 3/3$" other.log && pass "train --resume --batch-size 4 trains on, with a note" ||
  fail_check "no note for another --batch-size: $(head -n 3 other.log)"

# argv: a .keras file; prints its optimizer's class, learning rate, clipnorm and step count.
cat >optimizer.py <<'PY'
import io, json, sys, zipfile, h5py
z = zipfile.ZipFile(sys.argv[1])
optimizer = json.loads(z.read("config.json"))["compile_config"]["optimizer"]
with h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
    steps = int(f["optimizer/vars/0"][()])
c = optimizer["config"]
print(optimizer["class_name"], "%.7g" % c["learning_rate"], c["clipnorm"], steps)
PY
straight_optimizer=$("$python" optimizer.py straight.keras)
steps=${straight_optimizer##* }
[[ $straight_optimizer == "Adam 0.01 5.0 $steps" ]] || fail_check "straight optimizer: $straight_optimizer"

# --learning-rate and --clipnorm with --resume change the saved Adam and keep its state (the step count
# goes on); the loss trajectory then leaves the straight run's.
"$rnnkit" train corpus.txt -o slower.keras --resume two.keras --epochs 4 "${flags[@]}" --learning-rate 0.002 \
  --clipnorm 1 >slower.log
grep -q "^resuming from two.keras after epoch 2 with Adam, learning rate 0.002 (saved: 0.01), clipnorm 1 (saved: 5), its state kept$" slower.log ||
  fail_check "no line saying what --resume changed: $(grep resuming slower.log)"
[[ $("$python" optimizer.py slower.keras) == "Adam 0.002 1.0 $steps" ]] &&
  pass "train --resume --learning-rate 0.002 --clipnorm 1: the checkpoint's optimizer is $("$python" optimizer.py slower.keras)" ||
  fail_check "train --resume --learning-rate: $("$python" optimizer.py slower.keras), expected Adam 0.002 1.0 $steps"
"$python" - straight.history.csv slower.history.csv <<'PY' || fail_check "the loss trajectory after --learning-rate"
import csv, sys
straight, slower = ([row for row in csv.DictReader(open(name))] for name in sys.argv[1:])
assert [r["loss"] for r in straight[:2]] == [r["loss"] for r in slower[:2]], "epochs 1-2 are the checkpoint's"
assert all(a["loss"] != b["loss"] for a, b in zip(straight[2:], slower[2:])), (straight, slower)
PY
pass "the learning rate changes the losses of epochs 3 and 4"

# --optimizer naming another optimizer compiles afresh with it: SGD, its own step count from 0.
"$rnnkit" train corpus.txt -o sgd.keras --resume two.keras --epochs 4 "${flags[@]}" --optimizer sgd --learning-rate 0.01 \
  >sgd.log
two_steps=$("$python" optimizer.py two.keras)
two_steps=${two_steps##* }
[[ $("$python" optimizer.py sgd.keras) == "SGD 0.01 5.0 $((steps - two_steps))" ]] &&
  pass "train --resume --optimizer sgd: $("$python" optimizer.py sgd.keras)" ||
  fail_check "train --resume --optimizer sgd: $("$python" optimizer.py sgd.keras)"

# `rnnkit fit` with shuffling: 2 epochs, then 1 more from the file, is 3 straight (the generator travels in
# the file); --learning-rate alone keeps the saved optimizer and its state.
"$python" - <<'PY'
import numpy as np
rng = np.random.default_rng(0)
np.save("x.npy", rng.integers(0, 9, size=(30, 6)).astype(np.int32))
np.save("y.npy", np.eye(9, dtype=np.float32)[rng.integers(0, 9, size=30)])
PY
cat >model.json <<'JSON'
{"class_name": "Sequential", "config": {"name": "sequential", "layers": [
 {"class_name": "Embedding", "config": {"name": "embedding", "input_dim": 9, "output_dim": 4, "batch_input_shape": [null, 6]}},
 {"class_name": "GRU", "config": {"name": "gru", "units": 8, "dropout": 0.2, "recurrent_dropout": 0.2}},
 {"class_name": "Dropout", "config": {"name": "dropout", "rate": 0.3}},
 {"class_name": "Dense", "config": {"name": "dense", "units": 9, "activation": "softmax"}}]}}
JSON
fit_flags=(--x x.npy --y y.npy --batch-size 4 --verbose 0 --seed 4)
"$rnnkit" fit model.json "${fit_flags[@]}" --loss categorical_crossentropy --epochs 3 -o fit3.keras >/dev/null
"$rnnkit" fit model.json "${fit_flags[@]}" --loss categorical_crossentropy --epochs 2 -o fit2.keras >/dev/null
"$rnnkit" fit fit2.keras "${fit_flags[@]}" --epochs 1 -o fit2+1.keras >/dev/null
"$python" same_state.py fit3.keras fit2+1.keras >same_fit.txt
[[ $(head -n 1 same_fit.txt) == same ]] && pass "fit 2 epochs + 1 from the file = 3 straight, shuffled, with dropout" ||
  fail_check "fit resumed with shuffling differs: $(cat same_fit.txt)"
"$rnnkit" fit fit2.keras "${fit_flags[@]}" --epochs 1 --learning-rate 0.0005 -o fit_lr.keras >fit_lr.log
fit2_steps=$("$python" optimizer.py fit2.keras)
[[ $("$python" optimizer.py fit_lr.keras) == "Adam 0.0005 None $((${fit2_steps##* } + 8))" ]] &&
  pass "fit --learning-rate on a saved model: $("$python" optimizer.py fit_lr.keras), state kept" ||
  fail_check "fit --learning-rate: $("$python" optimizer.py fit_lr.keras); $(cat fit_lr.log)"

((failures == 0))
