#!/usr/bin/env bash
# The client host stalls (what an emulated host under memory pressure does for seconds at a
# time, and what failed 52-swap-stripe in CI once): VM 1's QEMU is frozen (SIGSTOP) for 5, 5
# and 15 s while fio writes and verifies /dev/omx0 with crc32c. The last time the pool's daemon
# gives the silent client up and drops its connection; once thawed, omx_mod finds its
# connection dead, holds the I/O in flight, reconnects, checks that the node kept its memory,
# and sends the I/O again: every block verifies, no request fails, and no frame of the old
# connection is taken for one of the new (the node's retransmissions queue up at the frozen
# VM). The first two freezes (5 s) are shorter than the daemon's patience (11 s): they are
# ridden out on the same connection (no reconnect counted after either, asserted).
. "$(dirname "$0")/lib.sh"

gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"
segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/stall-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh"
wait_for_files "$SHARED/freeze-me"
qemu1=$(pgrep -P "${VM_PIDS[1]}" qemu-system)
# A snapshot of the node's counters taken after the thaw (the second one to appear: the first
# may have been started before the freeze).
reconnects_after_thaw() {
	local _
	for _ in 1 2; do
		rm -f "$SHARED/node-live.json"
		wait_for_files "$SHARED/node-live.json"
	done
	jq .stats.reconnects "$SHARED/node-live.json"
}
sleep 4
for secs in 5 5 15; do
	kill -STOP "$qemu1"
	sleep $secs
	kill -CONT "$qemu1"
	echo "froze VM 1 for $secs s"
	[ $secs = 5 ] || continue # the 15 s freeze's reconnect is checked at the end
	# What a freeze sets off (the client's retransmit timeouts, a reconnect) is over well
	# within 10 s of the thaw.
	sleep 10
	r=$(reconnects_after_thaw)
	echo "reconnects so far: $r"
	[ "$r" = 0 ] || fail "a 5 s freeze was not ridden out on the same connection: $r reconnects"
done
touch "$SHARED/thawed"
vm_wait
[ -e "$SHARED/fio.ok" ] || fail "fio did not verify"
jq -r '"device: \(.stats.writes) writes, \(.stats.reads) reads, \(.stats.errors) failed"' "$SHARED/dev-final.json"
jq -r '"node: \(.stats.reconnects) reconnects, \(.stats.retransmits) retransmits, \(.stats.timeouts) timeouts"' "$SHARED/node-final.json"
jq -e '.stats.errors == 0 and .stats.in_flight == 0' "$SHARED/dev-final.json" >/dev/null ||
	fail "I/O failed: $(cat "$SHARED/dev-final.json")"
grep -q "stopped answering" "$OMX_TEST_DIR/vm2.log" || fail "the freeze never made the daemon drop the client"
jq -e '.stats.reconnects >= 1' "$SHARED/node-final.json" >/dev/null || fail "no reconnect counted"
