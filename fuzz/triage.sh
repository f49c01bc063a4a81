#!/usr/bin/env bash
# Reruns every finding of fuzz/run.sh (build-fuzz/findings/TARGET/{crash,leak,timeout,oom}-*) and prints the
# innermost stack frame of its report, so that findings in rnnkit's code stand apart from those inside a
# library (libhdf5, libzip). A finding that still runs after 20 s is reported as a hang with its stack.
#
# Usage: fuzz/triage.sh [TARGET...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
export LSAN_OPTIONS="suppressions=$root/fuzz/lsan.supp"
targets=("$@")
((${#targets[@]})) || targets=(fuzz_h5 fuzz_zip fuzz_config)
for target in "${targets[@]}"; do
  for finding in "$build/findings/$target"/{crash,leak,timeout,oom,slow-unit}-*; do
    [[ -e $finding ]] || continue
    report=$(timeout 20 "$build/fuzz/$target" -runs=1 -timeout=1000 "$finding" 2>&1)
    status=$?
    if ((status == 0)); then
      echo "$target $(basename "$finding"): no longer reproduces (fixed, or a suppressed libhdf5 leak)"
      continue
    fi
    if ((status == 124)); then  # still running: where is it?
      frames=$(timeout -s INT 10 gdb -q -batch -ex run -ex "bt 12" --args "$build/fuzz/$target" -runs=1 \
        -timeout=1000 "$finding" 2>&1 | grep -E "^#" | awk '{print $4}' | head -8 | tr '\n' ' ')
      echo "$target $(basename "$finding"): hang in ${frames:-?}"
      continue
    fi
    kind=$(grep -oE "ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer): [a-z-]+|runtime error: .{0,60}" <<<"$report" | head -1)
    frame=$(grep -E "^ +#[0-9]+ " <<<"$report" | grep -vE "__interceptor|__sanitizer|libc\.so|malloc|free|operator new|fuzzer::" | head -1 |
      sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in //; s/ \(BuildId.*//')
    [[ -n $kind ]] || kind="exit status $status"
    echo "$target $(basename "$finding"): $kind @ ${frame:-?}"
  done
done
