#!/usr/bin/env bash
# End-to-end: the command line on Keras model files (tests/model_files, written by make_fixtures.py in the
# layouts of Keras 1.2.2, 2.2.4, tf.keras 1.x/2.11 and Keras 3):
#   rnnkit summary FILE --style keras2.12   prints the summary in fixtures.json
#   rnnkit summary FILE                     picks the summary style of the Keras that wrote the file
#   rnnkit predict FILE --input --output    gives the oracle's output (1e-5)
#   rnnkit convert A B                      .h5 <-> .keras, and the converted model predicts the same
#   broken files exit 1 with "rnnkit: error:" naming the file; NaN weights load with a warning
#
# Usage: model_files.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail

rnnkit=${1:?usage: model_files.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: model_files.sh RNNKIT_BINARY TESTS_DIR}
python=/usr/bin/python3  # Debian's interpreter has numpy (scripts/setup installs it)
files=$tests/model_files/files
malformed=$tests/model_files/malformed

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
checks=0

fail_check() {
  echo "FAIL $*"
  failures=$((failures + 1))
}

# The inputs, oracle outputs and summaries of fixtures.json as files: NAME.x.npy, NAME.y.npy, FILE.summary.
"$python" - "$tests/model_files/fixtures.json" "$work" <<'EOF'
import json, sys
import numpy as np
manifest = json.load(open(sys.argv[1]))
for name, model in manifest["models"].items():
    for key, suffix in (("input", "x"), ("output", "y")):
        t = model[key]
        np.save(f"{sys.argv[2]}/{name}.{suffix}.npy", np.asarray(t["data"], np.float32).reshape(t["shape"]))
with open(f"{sys.argv[2]}/files.txt", "w") as listing:
    for entry in manifest["files"]:
        if "weights_only" in entry or "summary_keras2.12" not in entry:
            continue
        listing.write(f"{entry['file']} {entry['model']}\n")
        with open(f"{sys.argv[2]}/{entry['file']}.summary", "w") as f:
            f.write(entry["summary_keras2.12"])
EOF

# close A.npy B.npy: the arrays agree to 1e-5.
close() {
  "$python" -c 'import sys, numpy as np; a, b = np.load(sys.argv[1]), np.load(sys.argv[2]); sys.exit(0 if a.shape == b.shape and np.allclose(a, b, atol=1e-5, rtol=1e-5) else 1)' "$1" "$2"
}

while read -r file model; do
  checks=$((checks + 1))
  if ! "$rnnkit" summary "$files/$file" --style keras2.12 >"$work/summary.txt" 2>"$work/err"; then
    fail_check "summary $file: $(cat "$work/err")"
  elif ! cmp -s "$work/summary.txt" "$work/$file.summary"; then
    fail_check "summary $file differs:"
    diff "$work/$file.summary" "$work/summary.txt" || true
  fi
  checks=$((checks + 1))
  if ! "$rnnkit" predict "$files/$file" --input "$work/$model.x.npy" --output "$work/y.npy" 2>"$work/err"; then
    fail_check "predict $file: $(cat "$work/err")"
  elif ! close "$work/y.npy" "$work/$model.y.npy"; then
    fail_check "predict $file: not the oracle's output"
  fi
  # .h5 -> .keras -> .h5: the same predictions.
  checks=$((checks + 1))
  if ! "$rnnkit" convert "$files/$file" "$work/converted.keras" 2>"$work/err" ||
    ! "$rnnkit" convert "$work/converted.keras" "$work/converted.h5" 2>>"$work/err" ||
    ! "$rnnkit" predict "$work/converted.h5" --input "$work/$model.x.npy" --output "$work/y2.npy" 2>>"$work/err"; then
    fail_check "convert $file: $(cat "$work/err")"
  elif ! close "$work/y2.npy" "$work/$model.y.npy"; then
    fail_check "convert $file: the converted model predicts differently"
  fi
done <"$work/files.txt"

# Without --style: the summary of the Keras that wrote the file.
checks=$((checks + 1))
"$rnnkit" summary "$files/simple_rnn.keras3.keras" >"$work/keras3.txt"
"$rnnkit" summary "$files/simple_rnn.keras3.keras" --style keras3 >"$work/keras3_explicit.txt"
cmp -s "$work/keras3.txt" "$work/keras3_explicit.txt" || fail_check "summary of a Keras 3 file is not in the keras3 style"
checks=$((checks + 1))
"$rnnkit" summary "$files/simple_rnn.tf2.11.h5" >"$work/keras2.txt"
cmp -s "$work/keras2.txt" "$work/simple_rnn.tf2.11.h5.summary" || fail_check "summary of a tf.keras 2.11 file is not in the keras2.12 style"

# Weights from a Keras weights file, for a model from JSON.
checks=$((checks + 1))
if ! "$rnnkit" predict "$files/embedding_lstm_dense.json" --weights "$files/embedding_lstm_dense.tf2.11.weights.h5py" \
  --input "$work/embedding_lstm_dense.x.npy" --output "$work/y.npy" 2>"$work/err"; then
  fail_check "predict with --weights .h5: $(cat "$work/err")"
elif ! close "$work/y.npy" "$work/embedding_lstm_dense.y.npy"; then
  fail_check "predict with --weights .h5: not the oracle's output"
fi

# NaN weights load, with a warning.
checks=$((checks + 1))
if ! "$rnnkit" summary "$malformed/nan_weights.h5" >/dev/null 2>"$work/err"; then
  fail_check "nan_weights.h5 does not load: $(cat "$work/err")"
elif ! grep -q "warning.*NaN" "$work/err"; then
  fail_check "nan_weights.h5: no warning about NaN weights"
fi

# Broken files: exit status 1, one error line naming the file, no crash.
for file in truncated.h5 wrong_magic.h5 empty.keras no_config.keras truncated.keras wrong_shape.h5 absurd_shape.h5 \
  external_link.h5 keras_weights_not_h5.keras; do
  checks=$((checks + 1))
  status=0
  ("$rnnkit" summary "$malformed/$file" >/dev/null 2>"$work/err" </dev/null; exit $?) 2>/dev/null || status=$?
  if ((status != 1)) || ! grep -q "^rnnkit: error: .*$file" "$work/err" || (($(wc -l <"$work/err") != 1)); then
    fail_check "summary $file: exit status $status, stderr: $(cat "$work/err")"
  fi
done
checks=$((checks + 1))
status=0
"$rnnkit" convert "$files/simple_rnn.tf2.11.h5" "$work/model.onnx" 2>"$work/err" || status=$?
if ((status != 1)) || [[ -e $work/model.onnx ]]; then fail_check "convert to .onnx: status $status"; fi

echo "$((checks - failures)) of $checks model file checks passed"
((failures == 0))
