#!/usr/bin/env bash
# Runs omx's tests: host-side cargo tests, the source checks in scripts/checks/ (one test each,
# named check-NAME), then every VM test in tests/vm/ (each in its own network namespace, under a
# time limit). Ends with "N passed, M failed".
#   scripts/run-tests.sh [PATTERN]   only tests whose name matches PATTERN ('^check-': the checks)
# DEBUG_TESTS=PATTERN also runs the matching VM tests on the debug kernel (scripts/debug-tests.sh;
# `make check` does it for 50-swap), counted in the same summary.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

pattern=${1:-}
# A hang guard above every test's own VM_TIMEOUT (the swap tests': 1200 s, room for a CI host
# running half as fast as usual).
TEST_TIMEOUT=${TEST_TIMEOUT:-1500}
kdir=$(kernel_build_dir)
export OMX_KERNEL=$kdir/arch/x86/boot/bzImage
export OMX_ROOT
selected() { [ -z "$pattern" ] || [[ $1 =~ $pattern ]]; }
vm_tests=()
for test in "$OMX_ROOT"/tests/vm/[0-9]*.sh; do
	selected "$(basename "$test" .sh)" && vm_tests+=("$test")
done
# Only the VM tests need the guest kernel and the module.
if [ ${#vm_tests[@]} -gt 0 ] || [ -n "${DEBUG_TESTS:-}" ]; then
	[ -f "$OMX_KERNEL" ] || die "no guest kernel at $OMX_KERNEL (make kernel)"
	[ -f "$OMX_ROOT/omx_mod.ko" ] || die "omx_mod.ko not built (make module)"
fi

runs=$OMX_CACHE/test-runs/$(date +%Y%m%d-%H%M%S)
mkdir -p "$runs"
passed=0 failed=0 failures=()

record() { # name status seconds [label]
	if [ "$2" = 0 ]; then
		passed=$((passed + 1)); printf 'PASS  %-40s %4ss\n' "${4:-$1}" "$3"
	else
		failed=$((failed + 1)); failures+=("$1"); printf 'FAIL  %-40s %4ss  (logs: %s)\n' "${4:-$1}" "$3" "$runs/$1"
	fi
}

if selected host-cargo-test; then
	start=$(date +%s)
	mkdir -p "$runs/host-cargo-test"
	cargo test --workspace --release >"$runs/host-cargo-test/output.log" 2>&1
	rc=$?
	# Every host test counts: add cargo's per-binary totals.
	read -r p f < <(awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$runs/host-cargo-test/output.log")
	printf '%s  %-40s %4ss  (%s passed, %s failed)\n' "$([ $rc = 0 ] && echo PASS || echo FAIL)" \
		"host: cargo test --workspace" $(( $(date +%s) - start )) "$p" "$f"
	passed=$((passed + p)) failed=$((failed + f))
	if [ $rc != 0 ]; then
		[ "$f" -gt 0 ] || failed=$((failed + 1))
		failures+=(host-cargo-test)
		tail -30 "$runs/host-cargo-test/output.log"
	fi
fi

# Source checks (scripts/checks/README): each executable script is one test; exit 0 passes.
for check in "$OMX_ROOT"/scripts/checks/*.sh; do
	[ -x "$check" ] || continue
	name=check-$(basename "$check" .sh)
	selected "$name" || continue
	mkdir -p "$runs/$name"
	start=$(date +%s)
	(cd "$OMX_ROOT" && "$check") >"$runs/$name/output.log" 2>&1
	rc=$?
	record "$name" $rc $(( $(date +%s) - start )) "host: check ${name#check-}"
	[ $rc = 0 ] || sed 's/^/      /' "$runs/$name/output.log" | tail -25
done

for test in "${vm_tests[@]}"; do
	name=$(basename "$test" .sh)
	export OMX_TEST_DIR=$runs/$name
	mkdir -p "$OMX_TEST_DIR"
	start=$(date +%s)
	timeout --kill-after=15 "$TEST_TIMEOUT" unshare --net bash "$test" >"$OMX_TEST_DIR/output.log" 2>&1
	rc=$?
	[ $rc = 124 ] && echo "timed out after ${TEST_TIMEOUT}s" >>"$OMX_TEST_DIR/output.log"
	record "$name" $rc $(( $(date +%s) - start ))
	[ $rc = 0 ] || sed 's/^/      /' "$OMX_TEST_DIR/output.log" | tail -25
done

if [ -n "${DEBUG_TESTS:-}" ]; then
	echo "--- on the debug kernel: tests matching $DEBUG_TESTS (log: $runs/debug.log)"
	start=$(date +%s)
	bash "$OMX_ROOT/scripts/debug-tests.sh" "$DEBUG_TESTS" >"$runs/debug.log" 2>&1
	sed -n 's/^\(PASS\|FAIL\)  /\1  debug:/p' "$runs/debug.log"
	p= f=
	read -r p f < <(tail -1 "$runs/debug.log" | awk '/ passed, / { print $1, $3 }')
	if [ -z "${p:-}" ]; then
		p=0 f=1
		tail -20 "$runs/debug.log"
	fi
	passed=$((passed + p)) failed=$((failed + f))
	[ "$f" = 0 ] || failures+=(debug-kernel)
	echo "    debug kernel run: $(( $(date +%s) - start )) s"
fi

[ ${#failures[@]} = 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
