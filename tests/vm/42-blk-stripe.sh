#!/usr/bin/env bash
# A device striped over two pool nodes (VMs 2 and 3, 1 MiB chunks) on a jumbo-frame segment
# (MTU 9000: 8 KiB messages of two pages, where 40-blk-fio uses 1 KiB ones): a dd pattern and fio
# with crc32c verification across chunk boundaries, writes and reads at odd page offsets and
# sizes read back in other shapes, frames per MiB counted, traffic on both nodes; dev-add's checks
# (names, sizes, capacity, replicas, unknown and duplicate nodes), write-zeroes and dev-get dumps.
. "$(dirname "$0")/lib.sh"

gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"
segment_up 9000
vm_start 1 "$OMX_ROOT/tests/vm/guest/blk-stripe-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/blk-pool-jumbo.sh" "96M"
vm_start 3 "$OMX_ROOT/tests/vm/guest/blk-pool-jumbo.sh" "96M"
vm_wait

[ -e "$SHARED/stripe.ok" ] || fail "striping check did not pass"
# 1 MiB in 8 KiB messages: 128 data frames each way (plus a few acknowledgements); 4 KiB
# messages, one per jumbo frame, would take 256.
read -r _ wtx wrx _ rtx rrx <"$SHARED/frames-1m.txt"
echo "1 MiB on node 1: write sent $wtx frames, got $wrx; read sent $rtx, got $rrx"
[ "$wtx" -lt 200 ] || fail "1 MiB write took $wtx frames: not 8 KiB messages"
[ "$rrx" -lt 200 ] || fail "1 MiB read took $rrx frames: not 8 KiB messages"
jq -r '.jobs[] | "\(.jobname): read \(.read.iops | floor) IOPS, write \(.write.iops | floor) IOPS, errors \(.error)"' "$SHARED/fio-stripe.json"
for id in 1 2; do
	jq -e '.mtu == 9000 and .stats.rx_bytes > 16000000' "$SHARED/node$id.json" >/dev/null || fail "node $id: not jumbo or little data: $(cat "$SHARED/node$id.json")"
	# 8 KiB messages: on average well above 1 KiB per received frame.
	jq -e '.stats.rx_bytes / .stats.rx_frames > 2000' "$SHARED/node$id.json" >/dev/null || fail "node $id: small frames: $(cat "$SHARED/node$id.json")"
done
