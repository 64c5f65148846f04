#!/usr/bin/env bash
# make soak: swap at 3x RAM on a mirrored /dev/omx0 (two pool nodes) for SOAK_MINUTES (default
# 30) while the host injects faults on the segment, then a summary: bytes verified, faults
# injected, I/O errors, lost pages. Fails unless no page was lost, no I/O failed, pages were
# swapped out and in, and every VM finished cleanly with nothing in its kernel log (vm_wait).
# SOAK_WS_MIB sets another working set (default 768 MiB).
#
# Faults, one at a time with a pause after each: netem loss 2% and 10%, reordering,
# duplication, corruption, delay, put by every VM on what it sends (tests/vm/guest/
# netem-watch.sh: the host kernel need not have sch_netem); link flaps (VM 2's tap down for 1 s,
# and for 5 s: the connection is lost and reopened within the node's 10 s I/O timeout); VM 2's
# daemon frozen for 1 s and for 5 s (SIGSTOP/SIGCONT). None of them may lose data or fail I/O.
# Two thirds into the run VM 3's daemon is killed: the mirror must carry on alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${1:-}" != --in-netns ]; then
	kdir=$(kernel_build_dir)
	export OMX_KERNEL=$kdir/arch/x86/boot/bzImage OMX_ROOT
	export OMX_TEST_DIR=$OMX_CACHE/soak/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$OMX_TEST_DIR"
	exec unshare --net bash "$0" --in-netns
fi

minutes=${SOAK_MINUTES:-30}
seconds=$((minutes * 60))
VM_TIMEOUT=$((seconds + 900))
. "$OMX_ROOT/tests/vm/lib.sh"
echo "soak: $minutes min, logs in $OMX_TEST_DIR"
segment_up
VM_MEM=$SWAP_CLIENT_MEM vm_start 1 "$OMX_ROOT/tests/vm/guest/soak-client.sh" "${SOAK_WS_MIB:-768},$seconds"
VM_MEM=1536 vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" "1100M"
VM_MEM=1536 vm_start 3 "$OMX_ROOT/tests/vm/guest/pool.sh" "1100M"
wait_for_files "$SHARED/soak-running"

faults=(loss2 loss10 reorder duplicate corrupt delay flap pause flap5 pause5)
declare -A injected=()
netem() { # netem arguments, or off: every VM applies them to what it sends
	local n
	for n in 1 2 3; do echo "$*" >"$SHARED/netem-vm$n"; done
}
clear_netem() { netem off; }
killed=0 i=0 start=$SECONDS
while [ ! -e "$SHARED/done" ]; do
	if [ $killed = 0 ] && [ $((SECONDS - start)) -ge $((seconds * 2 / 3)) ]; then
		touch "$SHARED/kill-vm3"
		killed=1 injected[kill-node]=1
		echo "soak: $((SECONDS - start)) s: killed VM 3's daemon"
	fi
	f=${faults[$((i % ${#faults[@]}))]}
	i=$((i + 1))
	case $f in
	loss2) netem loss 2% ;;
	loss10) netem loss 10% ;;
	# Mild reordering only: Go-Back-N answers each reordered frame with a NAK and a resend of
	# the window, so heavy reordering (64-link-faults' 25 %) slows swap traffic until requests
	# hit the 30 s block-layer timeout. A single Ethernet segment keeps order.
	reorder) netem delay 1ms reorder 2% ;;
	duplicate) netem duplicate 5% ;;
	corrupt) netem corrupt 1% ;;
	delay) netem delay 5ms 2ms rate 1gbit ;; # jitter without reordering, as a real link
	flap) ip link set tap2 down; sleep 1; ip link set tap2 up ;;
	pause) touch "$SHARED/stop-vm2"; sleep 1; touch "$SHARED/cont-vm2" ;;
	flap5) ip link set tap2 down; sleep 5; ip link set tap2 up ;;
	pause5) touch "$SHARED/stop-vm2"; sleep 5; touch "$SHARED/cont-vm2" ;;
	esac
	injected[$f]=$(( ${injected[$f]:-0} + 1 ))
	sleep 20
	clear_netem
	sleep 10
done
# The summary is printed whatever the VMs did; their verdict counts at the end.
vm_status=0
vm_wait || vm_status=$?

summary=$(grep -a '^soak-summary ' "$SHARED/soak.txt" | sed 's/^soak-summary //' || true)
[ -n "$summary" ] || fail "no soak summary (see $OMX_TEST_DIR/vm1.log)"
total=0
for f in "${!injected[@]}"; do total=$((total + injected[$f])); done
echo "=== soak summary ($minutes min)"
echo "$summary" | jq -r '"passes: \(.passes), bytes written: \(.bytes_written), bytes verified: \(.bytes_verified), lost pages: \(.lost_pages)"'
echo "faults injected: $total ($(for f in "${!injected[@]}"; do printf '%s=%s ' "$f" "${injected[$f]}"; done))"
jq -r '"device: errors \(.stats.errors), failovers \(.stats.failovers), out of mirror: \(.failed_nodes)"' "$SHARED/dev.json"
for n in 1 2; do
	jq -r '"node \(.id): retransmits \(.stats.retransmits), naks sent \(.stats.naks_sent), naks received \(.stats.naks_received), malformed \(.stats.malformed), timeouts \(.stats.timeouts), reconnects \(.stats.reconnects)"' "$SHARED/node$n.json" 2>/dev/null || true
done
cat "$SHARED/vmstat.txt"
lost=$(echo "$summary" | jq .lost_pages)
errors=$(jq .stats.errors "$SHARED/dev.json")
[ "$lost" = 0 ] && [ "$errors" = 0 ] || fail "lost pages: $lost, I/O errors: $errors"
grep -q '^omx-guest: exit 0' "$OMX_TEST_DIR/vm1.log" || fail "the client did not finish cleanly"
for v in pswpout pswpin; do
	[ "$(awk -v v=$v '$1 == v {print $2}' "$SHARED/vmstat.txt")" -gt 0 ] || fail "no $v: the soak did not swap"
done
[ "$vm_status" = 0 ] || fail "a VM reported a problem or a guest script failed (see above, $OMX_TEST_DIR)"
echo "soak: passed"
