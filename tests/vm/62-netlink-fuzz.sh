#!/usr/bin/env bash
# Hostile input on the control plane: tests/tools/genl-fuzz.py sends thousands of random and
# mutated requests (random commands, flags, attribute types, lengths, values, nesting,
# truncation) to the omx generic netlink family, as root and as nobody, on a module with a
# live node and /dev/omx0. Unprivileged changes must all be refused with EPERM, nothing may
# hang or warn, and afterwards the node, the device and its data must be intact.
#   OMX_GENL_FUZZ_SEED      seed (default: random, printed)
#   OMX_GENL_FUZZ_MESSAGES  requests as root (default 12000; half as many as nobody)
. "$(dirname "$0")/lib.sh"
seed=${OMX_GENL_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
msgs=${OMX_GENL_FUZZ_MESSAGES:-12000}
echo "seed $seed, $msgs requests as root, $((msgs / 2)) as nobody"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/netlink-fuzz-client.sh" "$seed,$msgs,$((msgs / 2))"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" 64M
vm_wait

root=$SHARED/genl-root.json nobody=$SHARED/genl-nobody.json
for f in "$root" "$nobody"; do
	jq -c '{mode, messages, datagrams, seconds, answered, unanswered, hangs, errnos, cleanup}' "$f"
	jq -e '.hangs == 0' "$f" >/dev/null || fail "the family stopped answering: $(cat "$f")"
done
[ "$(jq .messages "$root")" -ge "$msgs" ] || fail "too few requests as root: $(cat "$root")"
[ "$(jq .messages "$nobody")" -ge $((msgs / 2)) ] || fail "too few requests as nobody: $(cat "$nobody")"
jq -e '.changes_checked > 0 and (.eperm_violations | length) == 0' "$nobody" >/dev/null ||
	fail "an unprivileged change was not refused with EPERM: $(jq -c .eperm_violations "$nobody")"
echo "unprivileged changes refused with EPERM: $(jq .changes_checked "$nobody")"
grep -h '^netlink fuzzing' "$OMX_TEST_DIR/vm1.log" || true
[ -e "$SHARED/data.ok" ] || fail "the device's data did not survive"
jq -e '.state == "up"' "$SHARED/node-after.json" >/dev/null || fail "node 1 not up: $(cat "$SHARED/node-after.json")"
jq -e '.stats.errors == 0' "$SHARED/dev-after.json" >/dev/null || fail "device errors: $(cat "$SHARED/dev-after.json")"
jq -e '(.nodes | length) == 1 and (.devices | length) == 1' "$SHARED/show-after.json" >/dev/null ||
	fail "the fuzzer's nodes or devices were left behind: $(cat "$SHARED/show-after.json")"
