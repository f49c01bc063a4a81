#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 180), seeded with
# the fixtures and the malformed corpus of tests/model_files. Findings (crash-*, leak-*, timeout-*) land in
# build-fuzz/findings/TARGET/; the grown corpora in build-fuzz/corpus/TARGET/.
#
# Usage: fuzz/run.sh [SECONDS] [TARGET...]      targets: fuzz_h5 fuzz_zip fuzz_config
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-180}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(fuzz_h5 fuzz_zip fuzz_config)
build=$root/build-fuzz

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

status=0
for target in "${targets[@]}"; do
  seed "$target"
  mkdir -p "$build/findings/$target"
  echo "== $target: ${seconds}s"
  # -rss_limit_mb: a reader that allocates what a corrupt header asks for is a finding.
  "$build/fuzz/$target" "$build/corpus/$target" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
    -timeout=10 -artifact_prefix="$build/findings/$target/" -print_final_stats=1 2>&1 |
    grep -E "^#[0-9]+ +DONE|stat::|ERROR|SUMMARY|Test unit written|==[0-9]+==" || status=1
done
exit $status
