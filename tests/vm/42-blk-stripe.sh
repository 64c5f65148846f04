#!/usr/bin/env bash
# A device striped over two pool nodes (VMs 2 and 3, 1 MiB chunks): a dd pattern and fio
# with crc32c verification across chunk boundaries, traffic on both nodes; dev-add's checks
# (names, sizes, capacity, replicas, unknown and duplicate nodes) and dev-get dumps.
. "$(dirname "$0")/lib.sh"

gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"
segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/blk-stripe-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" "96M"
vm_start 3 "$OMX_ROOT/tests/vm/guest/pool.sh" "96M"
vm_wait

[ -e "$SHARED/stripe.ok" ] || fail "striping check did not pass"
jq -r '.jobs[] | "\(.jobname): read \(.read.iops | floor) IOPS, write \(.write.iops | floor) IOPS, errors \(.error)"' "$SHARED/fio-stripe.json"
for id in 1 2; do
	jq -e '.stats.rx_bytes > 16000000' "$SHARED/node$id.json" >/dev/null || fail "node $id carried little data: $(cat "$SHARED/node$id.json")"
done
