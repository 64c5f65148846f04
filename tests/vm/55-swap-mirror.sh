#!/usr/bin/env bash
# Swap on a mirrored /dev/omx0 (--replicas 2 over the pool nodes of VMs 2 and 3), and VM 3's
# daemon is SIGKILLed halfway through writing the 512 MiB working set (2x RAM): nothing may be
# lost. Every page reads back intact, no I/O error reaches the device (reads fail over to
# VM 2's copies, writes go on there), node 2 is out of the mirror, no OOM kill, and swapoff,
# dev del and rmmod complete.
VM_TIMEOUT=${VM_TIMEOUT:-1200}
. "$(dirname "$0")/lib.sh"

segment_up
VM_MEM=$SWAP_CLIENT_MEM vm_start 1 "$OMX_ROOT/tests/vm/guest/swap-client.sh" "$SWAP_WS_SHORT_MIB",1100M,1024M,2,2,kill
VM_MEM=1536 vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" "1100M"
VM_MEM=1536 vm_start 3 "$OMX_ROOT/tests/vm/guest/pool.sh" "1100M"
vm_wait
check_swap_run "$SWAP_WS_SHORT_MIB"
[ -e "$SHARED/vm3.kill-done" ] || fail "VM 3's daemon was not killed"
jq -e '.replicas == 2 and .failed_nodes == [2] and .stats.errors == 0' "$SHARED/dev-after.json" >/dev/null ||
	fail "unexpected device after the kill: $(cat "$SHARED/dev-after.json")"
echo "reads failed over: $(jq .stats.failovers "$SHARED/dev-after.json")"
