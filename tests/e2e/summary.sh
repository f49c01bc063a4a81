#!/usr/bin/env bash
# End-to-end: for every Keras model JSON under tests/acceptance/summaries/, `rnnkit summary` prints exactly,
# byte for byte, what Keras's model.summary() printed: STEM.keras2.12.txt by default, and STEM.keras2.6.txt /
# STEM.keras2.15.txt with --style keras2.6 / keras2.15.
#
# Usage: summary.sh RNNKIT_BINARY TESTS_DIR
set -euo pipefail

rnnkit=${1:?usage: summary.sh RNNKIT_BINARY TESTS_DIR}
tests=${2:?usage: summary.sh RNNKIT_BINARY TESTS_DIR}
summaries=$tests/acceptance/summaries

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failures=0
checks=0

# expect_summary NAME MODEL EXPECTED_TXT [rnnkit summary options...]
expect_summary() {
  local name=$1 model=$2 expected=$3
  shift 3
  checks=$((checks + 1))
  local actual=$work/actual.txt status=0
  "$rnnkit" summary "$model" "$@" >"$actual" 2>"$work/stderr" || status=$?
  if ((status != 0)); then
    echo "FAIL $name: rnnkit summary exited with status $status"
    sed 's/^/     /' "$work/stderr"
    failures=$((failures + 1))
  elif ! cmp -s "$actual" "$expected"; then
    echo "FAIL $name: output differs from $(basename "$expected") (diff expected actual):"
    diff "$expected" "$actual" | sed 's/^/     /' | head -n 40 || true
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

shopt -s nullglob
models=("$summaries"/*.json)
if ((${#models[@]} == 0)); then
  echo "no model JSON files under $summaries"
  exit 1
fi

for model in "${models[@]}"; do
  stem=$(basename "$model" .json)
  expected_default=$summaries/$stem.keras2.12.txt
  if [[ ! -f $expected_default ]]; then
    echo "FAIL $stem: $expected_default is missing"
    failures=$((failures + 1))
    checks=$((checks + 1))
    continue
  fi
  expect_summary "summary $stem" "$model" "$expected_default"
  for style in keras2.6 keras2.12 keras2.15; do
    expected=$summaries/$stem.$style.txt
    [[ -f $expected ]] || continue
    expect_summary "summary $stem --style $style" "$model" "$expected" --style "$style"
  done
done

echo "$((checks - failures)) of $checks checks passed"
((failures == 0))
