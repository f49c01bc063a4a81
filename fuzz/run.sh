#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 180), seeded with
# the fixtures and the malformed corpus of tests/model_files. Findings (crash-*, leak-*, timeout-*) land in
# build-fuzz/findings/TARGET/; the grown corpora in build-fuzz/corpus/TARGET/.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]      targets: fuzz_h5 fuzz_zip fuzz_config
#   IGNORE_CRASHES=1 fuzz/run.sh ...   go on after a crash (each is still written to findings/); then
#   fuzz/triage.sh lists where each finding happened (rnnkit's code or a library's).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-180}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_h5 fuzz_zip fuzz_config)
build=$root/build-fuzz
ignore_crashes=${IGNORE_CRASHES:-0}

CXX=clang++ cmake -S "$root" -B "$build" -DRNNKIT_FUZZ=ON -DRNNKIT_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C "$build" -j"$(nproc)" "${targets[@]}" >/dev/null

seed() {  # seed TARGET: fills build-fuzz/corpus/TARGET from the fixtures
  local corpus=$build/corpus/$1
  mkdir -p "$corpus"
  case $1 in
    fuzz_h5)
      cp "$root"/tests/model_files/files/*.h5 "$root"/tests/model_files/files/*.h5py "$corpus"/
      for file in "$root"/tests/model_files/malformed/*.h5; do cp "$file" "$corpus/malformed_$(basename "$file")"; done
      ;;
    fuzz_zip)
      cp "$root"/tests/model_files/files/*.keras "$corpus"/
      for file in "$root"/tests/model_files/malformed/*.keras; do cp "$file" "$corpus/malformed_$(basename "$file")"; done
      ;;
    fuzz_config)
      cp "$root"/tests/model_files/files/*.json "$corpus"/
      for file in "$root"/tests/acceptance/summaries/*.json; do cp "$file" "$corpus/acceptance_$(basename "$file")"; done
      /usr/bin/python3 - "$root/tests/model_files/files" "$corpus" <<'PY'
import glob, os, sys, zipfile
import h5py
for path in glob.glob(os.path.join(sys.argv[1], "*")):
    name = os.path.basename(path)
    if path.endswith(".keras"):
        with zipfile.ZipFile(path) as zf:
            open(os.path.join(sys.argv[2], name + ".config.json"), "wb").write(zf.read("config.json"))
    elif path.endswith(".h5"):
        with h5py.File(path, "r") as f:
            if "model_config" in f.attrs:
                value = f.attrs["model_config"]
                open(os.path.join(sys.argv[2], name + ".model_config.json"), "wb").write(
                    value if isinstance(value, bytes) else value.encode())
PY
      ;;
  esac
}

# libhdf5's own leaks on corrupt files (see fuzz/lsan.supp) are not findings of ours.
export LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

status=0
for target in "${targets[@]}"; do
  seed "$target"
  mkdir -p "$build/findings/$target"
  echo "== $target: ${seconds}s"
  # -rss_limit_mb: a reader that allocates what a corrupt header asks for is a finding. Fork mode goes on
  # after a timeout (libhdf5 1.10.8 loops forever on some corrupt global heaps, inside H5Aread: not ours to
  # fix), recording each; a crash or sanitizer report still stops the run.
  "$build/fuzz/$target" "$build/corpus/$target" -fork=1 -ignore_timeouts=1 -ignore_crashes="$ignore_crashes" \
    -max_total_time="$seconds" \
    -rss_limit_mb=2048 -max_len=65536 -timeout=3 -artifact_prefix="$build/findings/$target/" \
    -print_final_stats=1 >"$build/findings/$target.log" 2>&1 || status=1
  grep -E "^#[0-9]+: cov|stat::|ERROR|SUMMARY|Test unit written|INFO: fuzzed for|crash|timeout" \
    "$build/findings/$target.log" | tail -n 12
done
exit $status
