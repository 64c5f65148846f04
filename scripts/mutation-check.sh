#!/usr/bin/env bash
# Proof that the data checks bite: builds deliberately broken variants of omx ("mutants"), each in
# its own copy of the tree, runs the data-verifying VM tests against them and prints a table
# mutation -> test -> FAILED (caught) / PASSED (missed). Every run must fail; the script exits
# non-zero if one passed (a missed mutation) or could not be judged.
#   scripts/mutation-check.sh [MUTATION...]     (default: all, in the order below)
#
# Mutations (none of them is ever in a normal build):
#   flip-read   omx_mod built with OMX_MUTATION=flip_read (Kbuild -> --cfg,
#               omx_mod/mutation.rs): one byte of every 128th read request is flipped on its way into the
#               bio, as real corruption would be.
#   flip-write  the same for every 128th write request, before its data leaves.
#   drop-write  omx-node built with the cargo feature mutation-drop-write (omx_node/src/mutation.rs):
#               every 100th write message is acknowledged and not stored.
#   bad-page    the copy's swap verifiers (tests/vm/guest/swap-check.py, swap-soak.py) expect other
#               contents for page 1 in every pass (the repository's files stay as they are).
# Which tests each mutation must fail: MUTANT_TESTS below ("soak" is scripts/soak.sh with
# SOAK_MINUTES=3 unless set; its first 768 MiB pass always runs to its end: ~13 min under TCG).
#
# MUTATION_TESTS=REGEX runs only the mapped tests matching it (e.g. '^40-blk-fio$').
# The tests' own knobs pass through, to make mutant runs shorter if wanted (the default is the
# tests as `make check` runs them): SWAP_WS_MIB (50-swap), SWAP_WS_SHORT_MIB (52, 55),
# OMX_FAULT_MIB and OMX_FAULT_SCENARIOS (64-link-faults), SOAK_MINUTES (the soak).
#
# Trees: $OMX_CACHE/mutants/<mutation> (visible to the guests, which keep $OMX_CACHE: nothing
# there may point back into the clone, which may live under /tmp). Each keeps its cargo target
# directory between runs. Logs: $OMX_CACHE/mutants/runs/<date>/. Needs the normal guest kernel
# (make kernel) and runs VMs one at a time: the whole matrix takes hours under TCG.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The mapping: mutation -> the tests that must fail against it.
ALL_MUTATIONS=(flip-read drop-write bad-page flip-write)
declare -A MUTANT_TESTS=(
	[flip-read]="40-blk-fio 42-blk-stripe 44-blk-mirror 50-swap 52-swap-stripe 55-swap-mirror 64-link-faults soak"
	[drop-write]="40-blk-fio 42-blk-stripe 44-blk-mirror 50-swap 52-swap-stripe 55-swap-mirror 64-link-faults soak"
	[bad-page]="50-swap 52-swap-stripe 55-swap-mirror soak"
	[flip-write]="40-blk-fio 50-swap"
)
# What a mutant prints when it runs (module load, daemon start, verifier start): a run whose
# logs lack it did not exercise the mutant, whatever its verdict.
declare -A MARKER=(
	[flip-read]="test-only mutation flip_read"
	[flip-write]="test-only mutation flip_write"
	[drop-write]="test-only mutation drop-write"
	[bad-page]="test-only mutation bad-page"
)

mutations=("$@")
[ ${#mutations[@]} -gt 0 ] || mutations=("${ALL_MUTATIONS[@]}")
for m in "${mutations[@]}"; do
	[ -n "${MUTANT_TESTS[$m]:-}" ] || die "unknown mutation '$m' (known: ${ALL_MUTATIONS[*]})"
done
export KERNEL_VARIANT=normal
unset DEBUG_TESTS OMX_MUTATION
[ -f "$(kernel_build_dir)/.omx-built" ] || die "guest kernel not built yet (make kernel)"
runs=$OMX_CACHE/mutants/runs/$(date +%Y%m%d-%H%M%S)
mkdir -p "$runs"

# A fresh copy of the working tree (as scripts/debug-tests.sh makes), keeping its target/.
copy_tree() { # TREE
	mkdir -p "$1"
	find "$1" -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
	tar -C "$OMX_ROOT" --exclude=./target --exclude=./.git --exclude='*.ko' --exclude='*.o' -cf - . |
		tar -C "$1" -xf -
	rm -f "$1/.omx-module-kdir"
}

# bad-page: each verifier's page() returns other contents the second time it is asked for page 1
# with a seed (the writer asks first, the checker second), so one page per pass is "wrong".
BAD_PAGE_PY='
# --- test-only mutation bad-page (scripts/mutation-check.sh): not in the repository ---
import sys as _mut_sys
_mut_page, _mut_seen = page, {}
def page(i, seed):
    if i == 1:
        _mut_seen[seed] = _mut_seen.get(seed, 0) + 1
        if _mut_seen[seed] == 2:
            return bytes(PAGE)
    return _mut_page(i, seed)
print("test-only mutation bad-page: page 1 is expected to differ", file=_mut_sys.stderr, flush=True)
'
mutate_verifier() { # FILE
	grep -q '^def page(i, seed):' "$1" && grep -q '^if __name__ == "__main__":' "$1" ||
		die "$1 no longer has page(i, seed) and a __main__ block: adapt bad-page"
	python3 - "$1" "$BAD_PAGE_PY" <<-'EOF'
		import sys
		path, code = sys.argv[1], sys.argv[2]
		src = open(path).read()
		main = 'if __name__ == "__main__":'
		open(path, "w").write(src.replace(main, code + "\n\n" + main, 1))
	EOF
}
# The verifiers (1 MiB, no swap) must pass as they are and fail mutated: on the host, seconds.
check_verifiers() { # TREE
	local f g=tests/vm/guest
	for f in "swap-check.py 1 7" "swap-soak.py 1 0"; do
		# shellcheck disable=SC2086
		python3 "$OMX_ROOT/$g/"$f >/dev/null || die "the repository's $g/${f%% *} fails on its own"
		# shellcheck disable=SC2086
		! python3 "$1/$g/"$f >/dev/null 2>&1 || die "the mutated ${f%% *} passes: bad-page not applied"
	done
}

build_mutant() { # MUTATION TREE
	local m=$1 tree=$2 features=()
	note "$m: building in $tree"
	copy_tree "$tree"
	case $m in
	flip-read | flip-write) OMX_MUTATION=${m/-/_} bash "$tree/scripts/build-module.sh" ;;
	*) bash "$tree/scripts/build-module.sh" ;;
	esac
	[ "$m" != drop-write ] || features=(--features omx_node/mutation-drop-write)
	# The guests run $OMX_ROOT/target/release/*: the copy's own, built here (incremental).
	(cd "$tree" && CARGO_TARGET_DIR=$tree/target cargo build --workspace --release --quiet "${features[@]}")
	case $m in
	drop-write)
		(cd "$tree" && CARGO_TARGET_DIR=$tree/target cargo test --release --quiet -p omx_node \
			"${features[@]}" --lib mutation::) >"$runs/$m-unit-tests.log" 2>&1 ||
			{ cat "$runs/$m-unit-tests.log"; die "drop-write: the drop counter's unit tests failed"; }
		grep -q "${MARKER[$m]}" "$tree/target/release/omx-node" || die "$m: omx-node built without the mutation" ;;
	flip-read | flip-write)
		grep -q "${MARKER[$m]}" "$tree/omx_mod.ko" || die "$m: omx_mod.ko built without the mutation" ;;
	bad-page)
		mutate_verifier "$tree/tests/vm/guest/swap-check.py"
		mutate_verifier "$tree/tests/vm/guest/swap-soak.py"
		check_verifiers "$tree" ;;
	esac
}

# Normal builds must be free of every mutation.
for f in "$OMX_ROOT/omx_mod.ko" "$OMX_ROOT/target/release/omx-node"; do
	[ ! -e "$f" ] || ! grep -q 'test-only mutation' "$f" || die "$f, a normal build, contains a test-only mutation"
done

rows=() missed=0 unjudged=0
# run_one MUTATION TREE TEST: runs TEST from the mutant's tree, adds a row to the table.
run_one() {
	local m=$1 tree=$2 t=$3 log=$runs/$1-$3.log rc=0 dir verdict why start=$SECONDS
	note "$m: running $t (log: $log)"
	if [ "$t" = soak ]; then
		local minutes=${SOAK_MINUTES:-3}
		SOAK_MINUTES=$minutes timeout --kill-after=30 $((minutes * 60 + 1800)) \
			bash "$tree/scripts/soak.sh" >"$log" 2>&1 || rc=$?
		dir=$(sed -n 's/^soak: .* logs in //p' "$log" | head -1)
	else
		bash "$tree/scripts/run-tests.sh" "^$t\$" >"$log" 2>&1 || rc=$?
		dir=$(sed -n "s/^FAIL  $t .*(logs: \(.*\))\$/\1/p" "$log" | head -1)
		[ -n "$dir" ] || dir=$(ls -d "$OMX_CACHE"/test-runs/*/"$t" 2>/dev/null | tail -1)
		grep -qE "^(PASS|FAIL)  $t " "$log" || rc=-1
	fi
	# What noticed the mutant first, for the table: the guest's verifier, else the host's verdict.
	why=$(cat "${dir:-/nonexistent}"/vm1.log "$log" 2>/dev/null | tr -d '\r' |
		grep -aoE -m1 '[a-z0-9]+: verify failed at [^(]*|verify: bad [a-z ]*|page [0-9]+ is wrong|[0-9]+ pages verified, [1-9][0-9]* wrong|[1-9][0-9]* wrong pages|lost pages: [1-9].*|"mismatches": [1-9][0-9]*|[^ ]+ differ: .*|FAIL: .*|did not finish cleanly.*' |
		head -1 | cut -c1-100 || true)
	if [ "$rc" = -1 ]; then
		verdict="ERROR (no verdict)" why="see $log" unjudged=$((unjudged + 1))
	elif [ "$rc" = 0 ]; then
		verdict="PASSED (missed)" missed=$((missed + 1))
	# Not `cat | grep -q`: under pipefail, cat's SIGPIPE would read as "not found".
	elif ! grep -aqs "${MARKER[$m]}" "${dir:-/nonexistent}"/vm*.log; then
		verdict="FAILED (mutant not in the logs)" unjudged=$((unjudged + 1))
	else
		verdict="FAILED (caught)"
	fi
	rows+=("$(printf '%-11s %-16s %-32s %5ss  %s' "$m" "$t" "$verdict" $((SECONDS - start)) "${why:-see $log}")")
	printf '%s\n' "${rows[-1]}"
}

for m in "${mutations[@]}"; do
	tree=$OMX_CACHE/mutants/$m
	build_mutant "$m" "$tree" 2>&1 | tee "$runs/$m-build.log" >&2
	for t in ${MUTANT_TESTS[$m]}; do
		[ -z "${MUTATION_TESTS:-}" ] || [[ $t =~ $MUTATION_TESTS ]] || continue
		run_one "$m" "$tree" "$t"
	done
done

{
	echo "=== mutation check ($runs)"
	printf '%-11s %-16s %-32s %6s  %s\n' mutation test result time "what noticed it"
	printf '%s\n' "${rows[@]}"
	echo "$missed missed, $unjudged not judged, $((${#rows[@]} - missed - unjudged)) caught"
} | tee "$runs/table.txt"
[ "$missed" = 0 ] && [ "$unjudged" = 0 ]
