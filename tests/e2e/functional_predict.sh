#!/usr/bin/env bash
# End-to-end: `rnnkit predict` on Functional models with several inputs and outputs
# (tests/model_files/functional): inputs as one .npz named by input layer, as one --input per input in order,
# or as NAME=FILE; several outputs into an .npz named by output layer, one output into .npy; each matches the
# numpy forward pass of functional.json to 1e-5.
#
# Usage: functional_predict.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail

rnnkit=${1:?usage: functional_predict.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: functional_predict.sh RNNKIT_BINARY TESTS_DIR}
python=/usr/bin/python3
fixtures=$tests/model_files/functional

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"  # expect_error (lib/checks.bash) writes out.txt and err.txt here

# The inputs and expected outputs of each fixture model as .npy/.npz files.
"$python" - "$fixtures/functional.json" "$work" <<'PY'
import json, sys
import numpy as np
models = json.load(open(sys.argv[1]))["models"]
for name, entry in models.items():
    arrays = {k: np.array(v["data"], np.float32).reshape(v["shape"]) for k, v in entry["inputs"].items()}
    np.savez(f"{sys.argv[2]}/{name}.x.npz", **arrays)
    for k, a in arrays.items():
        np.save(f"{sys.argv[2]}/{name}.{k}.npy", a)
    for k, v in entry["outputs"].items():
        np.save(f"{sys.argv[2]}/{name}.y.{k}.npy", np.array(v["data"]).reshape(v["shape"]))
PY

# compare OUTPUT MODEL OUTPUT_NAMES...: OUTPUT (.npy for one name, .npz keyed by the names in order) matches.
compare() {
  "$python" - "$work" "$@" <<'PY'
import sys
import numpy as np
work, output, model, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
if output.endswith(".npz"):
    z = np.load(output)
    if list(z.files) != names:
        sys.exit(f"output arrays {z.files}, expected {names}")
    got = [z[n] for n in names]
else:
    got = [np.load(output)]
for name, actual in zip(names, got):
    expected = np.load(f"{work}/{model}.y.{name}.npy")
    if actual.dtype != np.float32 or actual.shape != expected.shape:
        sys.exit(f"{name}: {actual.dtype} {actual.shape}, expected float32 {expected.shape}")
    if not np.all(np.abs(actual - expected) <= 1e-5):
        sys.exit(f"{name}: max |diff| {np.max(np.abs(actual - expected))}")
PY
}

source "$here/lib/checks.bash"
run() {
  local name=$1
  shift
  local output status=0
  output=$("$@" 2>&1) || status=$?
  if ((status == 0)); then
    echo "ok   $name"
  else
    echo "FAIL $name"
    echo "$output" | sed 's/^/     /'
    failures=$((failures + 1))
  fi
}

for file in shared_two_in_two_out.tf2.11.h5 shared_two_in_two_out.keras3.keras; do
  m=shared_two_in_two_out
  run "$file: one .npz in, .npz out" "$rnnkit" predict "$fixtures/$file" --input "$work/$m.x.npz" --output "$work/a.npz"
  run "$file: compare .npz" compare "$work/a.npz" $m head_a head_b
  run "$file: --input per input, by name" "$rnnkit" predict "$fixtures/$file" --input "input_b=$work/$m.input_b.npy" \
    --input "input_a=$work/$m.input_a.npy" --output "$work/b.npz"
  run "$file: compare by name" compare "$work/b.npz" $m head_a head_b
done
for file in seq2seq.tf2.11.h5 seq2seq.keras3.keras; do
  m=seq2seq
  run "$file: --input in order, .npy out" "$rnnkit" predict "$fixtures/$file" --input "$work/$m.encoder_inputs.npy" \
    --input "$work/$m.decoder_inputs.npy" --output "$work/c.npy"
  run "$file: compare .npy" compare "$work/c.npy" $m decoder_dense
done
# Errors: a missing input, an unknown input name, several outputs into one .npy.
m=shared_two_in_two_out
expect_error "one --input for two inputs" "input_a, input_b" \
  -- predict "$fixtures/$m.tf2.11.h5" --input "$work/$m.input_a.npy" --output "$work/d.npz"
expect_error "unknown input name" "no input 'bogus'" \
  -- predict "$fixtures/$m.tf2.11.h5" --input "bogus=$work/$m.input_a.npy" \
  --input "input_b=$work/$m.input_b.npy" --output "$work/d.npz"
expect_error "two outputs into .npy" ".npz" \
  -- predict "$fixtures/$m.tf2.11.h5" --input "$work/$m.x.npz" --output "$work/d.npy"
((failures == 0)) || { echo "$failures check(s) failed"; exit 1; }
