#!/usr/bin/env bash
# A device striped over two pool nodes (VMs 2 and 3, 1 MiB chunks) on a jumbo-frame segment
# (MTU 9000: one 4 KiB message per page, where 40-blk-fio uses 1 KiB ones): a dd pattern and fio
# with crc32c verification across chunk boundaries, traffic on both nodes; dev-add's checks
# (names, sizes, capacity, replicas, unknown and duplicate nodes), write-zeroes and dev-get dumps.
. "$(dirname "$0")/lib.sh"

gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"
segment_up 9000
vm_start 1 "$OMX_ROOT/tests/vm/guest/blk-stripe-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/blk-pool-jumbo.sh" "96M"
vm_start 3 "$OMX_ROOT/tests/vm/guest/blk-pool-jumbo.sh" "96M"
vm_wait

[ -e "$SHARED/stripe.ok" ] || fail "striping check did not pass"
jq -r '.jobs[] | "\(.jobname): read \(.read.iops | floor) IOPS, write \(.write.iops | floor) IOPS, errors \(.error)"' "$SHARED/fio-stripe.json"
for id in 1 2; do
	jq -e '.mtu == 9000 and .stats.rx_bytes > 16000000' "$SHARED/node$id.json" >/dev/null || fail "node $id: not jumbo or little data: $(cat "$SHARED/node$id.json")"
	# 4 KiB messages: on average well above 1 KiB per received frame.
	jq -e '.stats.rx_bytes / .stats.rx_frames > 2000' "$SHARED/node$id.json" >/dev/null || fail "node $id: small frames: $(cat "$SHARED/node$id.json")"
done
