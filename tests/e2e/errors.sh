#!/usr/bin/env bash
# End-to-end: bad input makes rnnkit exit with status 1 and one message starting "rnnkit: error:" that names
# what is at fault (file, field, layer, weight, shape, token id), and never crashes: an exit status of 128 or
# more (a signal: abort, segfault), an uncaught exception or a sanitizer report fails the check.
#
# The bad files are made in a temporary directory from the fixtures of tests/e2e/fixtures/.
#
# Usage: errors.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail

rnnkit=${1:?usage: errors.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: errors.sh RNNKIT_BINARY TESTS_DIR}
python=/usr/bin/python3  # Debian's interpreter has numpy (scripts/setup installs it)
fixtures=$tests/e2e/fixtures
tokens=$fixtures/embedding_lstm_dense      # Embedding(100, 3) -> LSTM(4) -> Dense(1); int32 token ids (2, 6)
bidirectional=$fixtures/embedding_bilstm_dense  # Embedding -> Bidirectional(LSTM(4)) -> Dense(1)
floats=$fixtures/stacked_lstm_float_input  # LSTM(3) -> LSTM(2) on float input (2, 4, 2)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
checks=0

fail_check() {
  echo "FAIL $1"
  shift
  local line
  for line in "$@"; do echo "     $line"; done
  failures=$((failures + 1))
}

# run_rnnkit ARGS...: runs rnnkit, leaving its exit status in $status and its output in $work/out, $work/err.
# The subshell keeps bash's own "Aborted"/"Segmentation fault" notices out of the log; crash_reason reports them.
run_rnnkit() {
  status=0
  rm -f "$work/y.npy"
  ("$rnnkit" "$@" >"$work/out" 2>"$work/err" </dev/null; exit $?) 2>/dev/null || status=$?
}

# crash_reason: why the last run counts as a crash, or nothing.
crash_reason() {
  if ((status >= 128)); then
    echo "exit status $status (killed by signal $((status - 128)))"
  elif grep -qE 'Sanitizer|runtime error:|terminate called|Segmentation fault|Aborted' "$work/err"; then
    echo "a crash report on stderr"
  fi
}

show_output() {
  echo "     stderr:"
  sed 's/^/       /' "$work/err"
  if [[ -s $work/out ]]; then
    echo "     stdout:"
    sed 's/^/       /' "$work/out" | head -n 10
  fi
}

# expect_error NAME SUBSTRING... -- RNNKIT_ARGS...
#   rnnkit must exit with status 1, its stderr must start with "rnnkit: error:" and contain every SUBSTRING.
expect_error() {
  local name=$1
  shift
  local wanted=()
  while [[ $1 != -- ]]; do
    wanted+=("$1")
    shift
  done
  shift
  checks=$((checks + 1))
  run_rnnkit "$@"
  local crash problems=() substring
  crash=$(crash_reason)
  [[ -z $crash ]] || problems+=("crashed: $crash")
  ((status == 1)) || problems+=("exit status $status, expected 1")
  [[ $(head -c 14 "$work/err") == "rnnkit: error:" ]] || problems+=("stderr does not start with 'rnnkit: error:'")
  for substring in "${wanted[@]}"; do
    grep -qF -- "$substring" "$work/err" || problems+=("stderr lacks: $substring")
  done
  [[ ! -e $work/y.npy ]] || problems+=("it wrote the output file $work/y.npy all the same")
  if ((${#problems[@]} == 0)); then
    echo "ok   $name: $(head -n 1 "$work/err")"
  else
    fail_check "$name" "command: rnnkit $*" "${problems[@]}"
    show_output
  fi
}

# expect_usage_error NAME SUBSTRING... -- RNNKIT_ARGS...
#   a command line CLI11 rejects: a non-zero exit status below 128, every SUBSTRING in stdout or stderr.
expect_usage_error() {
  local name=$1
  shift
  local wanted=()
  while [[ $1 != -- ]]; do
    wanted+=("$1")
    shift
  done
  shift
  checks=$((checks + 1))
  run_rnnkit "$@"
  local crash problems=() substring
  crash=$(crash_reason)
  [[ -z $crash ]] || problems+=("crashed: $crash")
  ((status != 0)) || problems+=("exit status 0, expected non-zero")
  for substring in "${wanted[@]}"; do
    cat "$work/out" "$work/err" | grep -qF -- "$substring" || problems+=("output lacks: $substring")
  done
  if ((${#problems[@]} == 0)); then
    echo "ok   $name: exit status $status: $(cat "$work/out" "$work/err" | head -n 1)"
  else
    fail_check "$name" "command: rnnkit ${*:-(no arguments)}" "${problems[@]}"
    show_output
  fi
}

# ---- Bad files, made from the fixtures.
bad=$work/bad
mkdir "$bad"
model=$tokens/model.json
sed_model() {  # sed_model SED_EXPRESSION OUTPUT: the token model with one edit, which must change something
  sed "$1" "$model" >"$2"
  if cmp -s "$model" "$2"; then
    echo "errors.sh: '$1' does not change $model; the fixture changed, update errors.sh"
    exit 1
  fi
}
head -c 300 "$model" >"$bad/truncated.json"
sed_model 's/"class_name": "LSTM"/"class_name": "LSTMish"/' "$bad/unknown_class.json"
sed_model 's/"activation": "tanh"/"activation": "swishy"/' "$bad/unknown_activation.json"
sed_model 's/"units": 4,/"units": 0,/' "$bad/units0.json"
sed_model 's/"name": "lstm",/"name": 5,/' "$bad/name_not_string.json"
sed_model 's/"units": 4,/"units": 99999999999999,/' "$bad/units_huge.json"

"$python" - "$tokens" "$floats" "$bidirectional" "$bad" <<'PY'
import json
import sys
import numpy as np
tokens, floats, bidirectional, bad = sys.argv[1:]

with open(f"{bidirectional}/model.json") as source:
    model = json.load(source)
wrapper = model["config"]["layers"][1]
assert wrapper["class_name"] == "Bidirectional"
del wrapper["config"]["layer"]
with open(f"{bad}/bidirectional_without_layer.json", "w") as target:
    json.dump(model, target)

weights = dict(np.load(f"{tokens}/weights.npz"))
assert "lstm/lstm_cell_1/recurrent_kernel:0" in weights and weights["lstm/lstm_cell_1/kernel:0"].shape == (3, 16)

missing = dict(weights)
del missing["lstm/lstm_cell_1/recurrent_kernel:0"]
np.savez(f"{bad}/missing_weight.npz", **missing)

wrong_shape = dict(weights)
wrong_shape["lstm/lstm_cell_1/kernel:0"] = np.zeros((3, 12), np.float32)
np.savez(f"{bad}/wrong_shape.npz", **wrong_shape)

extra = dict(weights)
extra["attention/attention_score/kernel:0"] = np.zeros((4, 4), np.float32)
np.savez(f"{bad}/extra_array.npz", **extra)

x = np.load(f"{floats}/x.npy")
assert x.shape == (2, 4, 2)
np.save(f"{bad}/wrong_features.npy", np.zeros((2, 4, 5), np.float32))

ids = np.load(f"{tokens}/x.npy")
assert ids.shape == (2, 6) and ids.dtype == np.int32
too_big = ids.copy()
too_big[1, 2] = 100  # input_dim is 100: ids lie in [0, 100)
np.save(f"{bad}/token_too_big.npy", too_big)
negative = ids.copy()
negative[0, 4] = -7
np.save(f"{bad}/token_negative.npy", negative)

with open(f"{tokens}/x.npy", "rb") as source:
    data = source.read()
with open(f"{bad}/truncated_header.npy", "wb") as target:
    target.write(data[:40])   # the 128-byte header is cut short
with open(f"{bad}/truncated_data.npy", "wb") as target:
    target.write(data[:-6])   # 48 bytes of int32 data, 6 missing
PY

predict() {  # predict MODEL WEIGHTS INPUT [options...]: the rnnkit arguments of one prediction
  local model=$1 weights=$2 input=$3
  shift 3
  printf '%s\n' predict "$model" --weights "$weights" --input "$input" --output "$work/y.npy" "$@"
}
mapfile -t good < <(predict "$tokens/model.json" "$tokens/weights.npz" "$tokens/x.npy")

# ---- The model file.
expect_error "missing model file (summary)" "$bad/no_such_model.json" -- summary "$bad/no_such_model.json"
expect_error "missing model file (predict)" "$bad/no_such_model.json" -- \
  predict "$bad/no_such_model.json" --input "$tokens/x.npy" --output "$work/y.npy"
expect_error "malformed JSON (truncated file)" "truncated.json" "not valid JSON" -- summary "$bad/truncated.json"
expect_error "unknown class_name" "'LSTMish'" "unknown_class.json" -- summary "$bad/unknown_class.json"
expect_error "unknown activation" "'swishy'" "activation" "'lstm'" -- summary "$bad/unknown_activation.json"
expect_error "units 0" "units" "'lstm'" -- summary "$bad/units0.json"
expect_error "units 0 (predict)" "units" "'lstm'" -- \
  predict "$bad/units0.json" --input "$tokens/x.npy" --output "$work/y.npy"
expect_error "layer name not a string" "name" "name_not_string.json" -- summary "$bad/name_not_string.json"
expect_error "units too large to allocate" "units" "'lstm'" -- summary "$bad/units_huge.json"
expect_error "Bidirectional without 'layer'" "'bidirectional'" "layer" -- summary "$bad/bidirectional_without_layer.json"
expect_error "model path is a directory" "$bad" -- summary "$bad"

# ---- The weights file.
mapfile -t args < <(predict "$tokens/model.json" "$bad/missing_weight.npz" "$tokens/x.npy")
expect_error "weights: missing weight" "missing_weight.npz" "recurrent_kernel" "'lstm'" -- "${args[@]}"
mapfile -t args < <(predict "$tokens/model.json" "$bad/wrong_shape.npz" "$tokens/x.npy")
expect_error "weights: wrong shape" "wrong_shape.npz" "'lstm'" "kernel" "(3, 16)" "(3, 12)" -- "${args[@]}"
mapfile -t args < <(predict "$tokens/model.json" "$bad/extra_array.npz" "$tokens/x.npy")
expect_error "weights: extra unknown array" "extra_array.npz" "'attention/attention_score/kernel:0'" -- "${args[@]}"
mapfile -t args < <(predict "$tokens/model.json" "$bad/no_such_weights.npz" "$tokens/x.npy")
expect_error "weights: missing file" "no_such_weights.npz" -- "${args[@]}"
mapfile -t args < <(predict "$tokens/model.json" "$tokens/x.npy" "$tokens/x.npy")
expect_error "weights: not an .npz" "x.npy" -- "${args[@]}"

# ---- The input file.
mapfile -t args < <(predict "$floats/model.json" "$floats/weights.npz" "$bad/wrong_features.npy")
expect_error "input: wrong feature size" "(None, 4, 2)" "(2, 4, 5)" -- "${args[@]}"
mapfile -t args < <(predict "$tokens/model.json" "$tokens/weights.npz" "$bad/token_too_big.npy")
expect_error "input: token id out of range" "'embedding'" "100" -- "${args[@]}"
mapfile -t args < <(predict "$tokens/model.json" "$tokens/weights.npz" "$bad/token_negative.npy")
expect_error "input: negative token id" "'embedding'" "-7" -- "${args[@]}"
mapfile -t args < <(predict "$tokens/model.json" "$tokens/weights.npz" "$bad/truncated_header.npy")
expect_error "input: truncated .npy (header)" "truncated_header.npy" "truncated" -- "${args[@]}"
mapfile -t args < <(predict "$tokens/model.json" "$tokens/weights.npz" "$bad/truncated_data.npy")
expect_error "input: truncated .npy (data)" "truncated_data.npy" "truncated" -- "${args[@]}"
mapfile -t args < <(predict "$tokens/model.json" "$tokens/weights.npz" "$bad/no_such_input.npy")
expect_error "input: missing file" "no_such_input.npy" -- "${args[@]}"

# ---- Options.
expect_error "unknown --style" "keras4" "keras2.12" -- summary "$tokens/model.json" --style keras4
expect_error "--batch-size 0" "batch_size" -- "${good[@]}" --batch-size 0
expect_error "output in a missing directory" "$bad/no_such_dir" -- \
  predict "$tokens/model.json" --weights "$tokens/weights.npz" --input "$tokens/x.npy" \
  --output "$bad/no_such_dir/y.npy"
expect_usage_error "no arguments at all" "subcommand" "--help" --
expect_usage_error "predict without --input" "--input" -- predict "$tokens/model.json" --output "$work/y.npy"
expect_usage_error "--batch-size not a number" "--batch-size" -- "${good[@]}" --batch-size abc

echo "$((checks - failures)) of $checks checks passed"
((failures == 0))
