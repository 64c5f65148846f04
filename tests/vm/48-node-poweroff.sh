#!/usr/bin/env bash
# A pool node's VM loses power (QEMU killed: no shutdown, no close handshake) while two devices
# use it: omx0, mirrored over VMs 2 and 3, must go on without an error and keep every byte;
# omx1, only on VM 3, must fail with EIO (no hang), and the module must still remove both
# devices, both nodes and itself.
. "$(dirname "$0")/lib.sh"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/poweroff-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh"
vm_start 3 "$OMX_ROOT/tests/vm/guest/pool.sh"
wait_for_files "$SHARED/poweroff-now"
sleep 3
vm_poweroff 3
touch "$SHARED/powered-off"
vm_wait

[ -e "$SHARED/poweroff.ok" ] || fail "the client did not finish"
jq -e '.failed_nodes == [2] and .stats.errors == 0' "$SHARED/omx0.json" >/dev/null ||
	fail "mirrored device after the power cut: $(cat "$SHARED/omx0.json")"
jq -e '.stats.errors > 0' "$SHARED/omx1.json" >/dev/null || fail "omx1 saw no error: $(cat "$SHARED/omx1.json")"
jq -e '.state == "dead"' "$SHARED/node2.json" >/dev/null || fail "node 2 not dead: $(cat "$SHARED/node2.json")"
grep -q 'Input/output error' "$SHARED/omx1-reader.log" || fail "omx1's reader did not fail with EIO"
jq -r '"omx0 after the power cut: \(.stats.errors) errors, \(.stats.failovers) reads failed over"' "$SHARED/omx0.json"
