#!/usr/bin/env bash
# End-to-end: `rnnkit predict` on every fixture of tests/e2e/fixtures/ (written by make_fixtures.py from the
# TF.js/Keras oracle fixtures) matches the oracle's output to 1e-5, with the default batch size and with
# --batch-size 1.
#
# Usage: predict.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail

rnnkit=${1:?usage: predict.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: predict.sh RNNKIT_BINARY TESTS_DIR}
python=/usr/bin/python3  # Debian's interpreter has numpy (scripts/setup installs it)
tolerance=1e-5

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
checks=0

# compare ACTUAL.npy EXPECTED.npy: exits non-zero, printing what differs, unless shapes match and every
# element is within $tolerance.
compare() {
  "$python" - "$1" "$2" "$tolerance" <<'PY'
import sys
import numpy as np
actual, expected, tolerance = np.load(sys.argv[1]), np.load(sys.argv[2]), float(sys.argv[3])
if actual.dtype != np.float32:
    sys.exit(f"output dtype is {actual.dtype}, expected float32")
if actual.shape != expected.shape:
    sys.exit(f"output shape is {actual.shape}, expected {expected.shape}")
difference = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
if not np.all(difference <= tolerance):  # also catches NaN
    worst = np.unravel_index(np.nanargmax(np.where(np.isnan(difference), np.inf, difference)), difference.shape)
    sys.exit(f"{np.count_nonzero(~(difference <= tolerance))} of {difference.size} elements differ by more "
             f"than {tolerance}; worst at index {tuple(int(i) for i in worst)}: got {actual[worst]!r}, "
             f"expected {expected[worst]!r}")
PY
}

# check NAME COMMAND...: runs one check, prints "ok"/"FAIL" with NAME, and counts failures.
check() {
  local name=$1
  shift
  checks=$((checks + 1))
  local output status=0
  output=$("$@" 2>&1) || status=$?
  if ((status == 0)); then
    echo "ok   $name"
  else
    echo "FAIL $name"
    local line
    while IFS= read -r line; do echo "     $line"; done <<<"$output"
    failures=$((failures + 1))
  fi
}

# predict_matches FIXTURE OUTPUT [rnnkit predict options...]
predict_matches() {
  local fixture=$1 output=$2
  shift 2
  local status=0
  "$rnnkit" predict "$fixture/model.json" --weights "$fixture/weights.npz" --input "$fixture/x.npy" \
    --output "$output" "$@" || status=$?
  if ((status >= 128)); then
    echo "rnnkit predict crashed: exit status $status (signal $((status - 128)))"
    return 1
  elif ((status != 0)); then
    echo "rnnkit predict exited with status $status"
    return 1
  fi
  compare "$output" "$fixture/expected.npy"
}

# Same numbers whatever the batch size: one sample per forward pass against the default batch size.
same_as() {
  "$python" -c '
import sys
import numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
if a.shape != b.shape or not np.allclose(a, b, rtol=0, atol=float(sys.argv[3])):
    sys.exit(f"--batch-size 1 gives {a.tolist()}, the default batch size {b.tolist()}")
' "$1" "$2" "$tolerance"
}

shopt -s nullglob
fixtures=("$tests"/e2e/fixtures/*/)
if ((${#fixtures[@]} == 0)); then
  echo "no fixtures under $tests/e2e/fixtures (run /usr/bin/python3 tests/e2e/make_fixtures.py)"
  exit 1
fi

for fixture in "${fixtures[@]}"; do
  fixture=${fixture%/}
  name=$(basename "$fixture")
  check "predict $name" predict_matches "$fixture" "$work/$name.npy"
  check "predict $name --batch-size 1" predict_matches "$fixture" "$work/$name.b1.npy" --batch-size 1
  if [[ -f $work/$name.npy && -f $work/$name.b1.npy ]]; then
    check "predict $name: --batch-size 1 equals the default batch size" same_as "$work/$name.b1.npy" "$work/$name.npy"
  fi
done

echo "$((checks - failures)) of $checks checks passed"
((failures == 0))
