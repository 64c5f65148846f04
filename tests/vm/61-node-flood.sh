#!/usr/bin/env bash
# omx-node under a flood of hostile clients stays within its memory ceiling and keeps serving
# its registered client. VM 2's omx-node lends 64 MiB to two --client MACs: VM 1, which writes
# and reads back /dev/omx0 in rounds, and a hostile one; the host (omx-fuzz-frames --flood)
# sends, as that hostile MAC and as 2000 random MACs, OpenConnections and frames full of Gets
# whose answers need more credits than it ever grants, never acknowledging anything. The
# daemon's peak resident memory must stay within the ceiling it printed at start, itself
# within the formula of Documentation/pool-node.md; the strangers must be counted and cost
# nothing; the hostile client must be held back (back-pressure drops). Before the daemon
# starts, with no huge pages reserved: --size twice the VM's RAM fails at start with exit
# code 5 (EXIT_MEMORY), and the daemon runs with --hugepages, which falls back to normal
# pages (logged) instead of dying of SIGBUS at the first request.
#   OMX_FLOOD_SECONDS  how long the flood lasts (default 30)
#   OMX_FLOOD_RATE     frames per second (default 4000)
#   OMX_FLOOD_HUGEPAGES=0  run the daemon without --hugepages (to see the memory checks alone)
VM_TIMEOUT=${VM_TIMEOUT:-420}
. "$(dirname "$0")/lib.sh"
seconds=${OMX_FLOOD_SECONDS:-30}
rate=${OMX_FLOOD_RATE:-4000}
hostile=02:00:00:66:66:66
size_mb=64
max_clients=8
huge=,--hugepages
[ "${OMX_FLOOD_HUGEPAGES:-1}" = 0 ] && huge=

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/hostile-flood-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/hostile-flood-pool.sh" "${size_mb}M,--client,$(vm_mac 1)=32M,--client,$hostile=32M$huge,--max-clients,$max_clients,--stats-file,/mnt/shared/node-stats.json,--stats-interval,1"
wait_for_files "$SHARED/flood-go" "$SHARED/node-stats.json"
cp "$SHARED/node-stats.json" "$SHARED/node-stats-before.json"
echo "flooding for ${seconds}s at $rate frames/s"
flood "$(vm_mac 2)" "$hostile" "$rate" "$seconds"
touch "$SHARED/flood-done"
vms=0
vm_wait || vms=1

# Every check is reported; the test fails if any failed.
failed=()
bad() {
	echo "FAIL: $*" >&2
	failed+=("$*")
}
log=$OMX_TEST_DIR/vm2.log
sent=$(jq .sent "$SHARED/flood.json")
hwm_kb=$(cat "$SHARED/node-hwm" 2>/dev/null || echo 0)
ceiling=$({ grep -aoE 'memory ceiling [0-9]+ bytes' "$log" || true; } | head -1 | awk '{print $3}')
# The documented formula, with its upper bounds (Documentation/pool-node.md): lent + connections
# x (S x MTU + 2 x 2S x (MTU + 64) + 256 KiB) + 64 x (MTU + 64) + receive ring + send ring +
# 16 MiB, the receive ring being ceil(16 x 64 / floor(64 KiB / R)) blocks of 64 KiB, R = MTU +
# 144 rounded up to 16, the send ring ceil(4 x 64 / floor(64 KiB / F)) blocks, F = MTU + 96
# rounded up to 16, S = 8 MiB / MTU within 256..1024; two connections (two --client entries,
# fewer than --max-clients); --batch 64.
mtu=1500
slots=$((8388608 / mtu)); slots=$((slots < 256 ? 256 : slots > 1024 ? 1024 : slots))
r=$(((mtu + 144 + 15) / 16 * 16))
rx_ring=$(((16 * 64 + 65536 / r - 1) / (65536 / r) * 65536))
f=$(((mtu + 96 + 15) / 16 * 16))
ring=$(((4 * 64 + 65536 / f - 1) / (65536 / f) * 65536))
bound=$((size_mb * 1048576 + 2 * (slots * mtu + 2 * 2 * slots * (mtu + 64) + 262144) + 64 * (mtu + 64) + rx_ring + ring + 16 * 1048576))
echo "flood: $(jq -c . "$SHARED/flood.json"); omx-node peak RSS $hwm_kb kB, ceiling printed ${ceiling:-none}, formula $bound"
b=$SHARED/node-stats-before.json a=$SHARED/node-stats.json
delta() { echo $(($(jq "$1 // 0" "$a") - $(jq "$1 // 0" "$b"))); }
echo "omx-node: $(delta .frames_rx) frames received, no region $(delta .no_region), backpressure drops $(delta .backpressure_drops), deferred $(delta .deferred), malformed $(delta .malformed), opened $(delta .connections_opened); client: $(cat "$SHARED/io-rounds" 2>/dev/null || echo 0) verified rounds"

[ "$sent" -ge $((seconds * rate / 4)) ] || bad "only $sent frames sent"
# Memory.
[ "$hwm_kb" -gt 0 ] || bad "no peak RSS recorded for omx-node"
[ $((hwm_kb * 1024)) -le "$bound" ] || bad "omx-node peaked at $hwm_kb kB, above the documented ceiling of $bound bytes"
if [ -n "$ceiling" ]; then
	[ $((hwm_kb * 1024)) -le "$ceiling" ] || bad "omx-node peaked at $hwm_kb kB, above the ceiling it printed ($ceiling bytes)"
	[ "$ceiling" -le "$bound" ] || bad "the printed ceiling $ceiling exceeds the documented formula ($bound)"
else
	bad "omx-node printed no memory ceiling"
fi
# The registered client was served, its data intact.
[ -e "$SHARED/io.ok" ] || bad "the registered client's verified I/O did not complete"
jq -e '.stats.errors == 0' "$SHARED/dev-final.json" >/dev/null 2>&1 || bad "device errors: $(cat "$SHARED/dev-final.json" 2>/dev/null)"
# Strangers counted and dropped; the hostile registered client held to its budget.
[ "$(delta .no_region)" -gt 0 ] || bad "no frame counted as from a MAC without a region"
[ "$(delta .backpressure_drops)" -gt 0 ] || bad "the hostile client was never held back (no backpressure drops)"
# At start: --size beyond the VM's RAM refused with EXIT_MEMORY; --hugepages fell back.
rc=$(cat "$SHARED/size-check.rc")
[ "$rc" = 5 ] || bad "omx-node --size twice the RAM: exit code $rc, not 5 (EXIT_MEMORY): $(head -c 300 "$SHARED/size-check.err")"
grep -q 'MemAvailable' "$SHARED/size-check.err" || bad "omx-node --size twice the RAM: no clear message"
[ -z "$huge" ] || log_grep 2 'huge pages unavailable.*using normal pages' || bad "--hugepages without reserved huge pages: no fallback logged"
! log_grep 2 'SIGBUS|Bus error' || bad "omx-node died of SIGBUS"
# The daemon survived to a clean SIGTERM shutdown (it prints its counters).
log_grep 2 '(^|\] )frames rx [0-9]+ tx' || bad "omx-node did not shut down cleanly"
[ "$vms" = 0 ] || bad "a VM did not finish cleanly"
[ ${#failed[@]} = 0 ] || fail "${#failed[@]} check(s) failed: ${failed[*]}"
