# What the end-to-end scripts share: counting checks, and a command that must fail with a clear error.
# Source it after setting $rnnkit; report with `((failures == 0))` at the end.
failures=0
pass() { echo "ok   $1"; }
fail_check() {
  echo "FAIL $1"
  failures=$((failures + 1))
}

# expect_error NAME SUBSTRING -- ARGS...: `rnnkit ARGS` exits 1 with one "rnnkit: error:" line holding SUBSTRING.
expect_error() {
  local name=$1 wanted=$2
  shift 3
  local status=0
  "$rnnkit" "$@" >out.txt 2>err.txt </dev/null || status=$?
  if ((status == 1)) && [[ $(head -c 14 err.txt) == "rnnkit: error:" ]] && grep -qF -- "$wanted" err.txt; then
    pass "$name: $(head -n 1 err.txt)"
  else
    fail_check "$name: status $status, stderr: $(cat err.txt)"
  fi
}
