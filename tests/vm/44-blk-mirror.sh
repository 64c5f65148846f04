#!/usr/bin/env bash
# Mirroring (--replicas 2) over the pool nodes of VMs 2 and 3: dev-add's checks, a pattern
# and fio with crc32c verification on both copies; then VM 3's daemon is SIGKILLed while fio
# (randrw, crc32c) and a reader comparing the pattern have requests in flight, and the device
# must go on without an error: fio verifies every block it wrote across the kill, the pattern
# reads back intact throughout (reads fail over to VM 2), fio verifies degraded, node 2 is
# reported out of the mirror (dev-get, dev-error-ntf).
. "$(dirname "$0")/lib.sh"

gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"
segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/blk-mirror-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" "96M"
vm_start 3 "$OMX_ROOT/tests/vm/guest/pool.sh" "96M"
vm_wait

[ -e "$SHARED/mirror.ok" ] || fail "mirroring check did not pass"
[ -e "$SHARED/killed-under-fio" ] || fail "VM 3's daemon was not killed while fio ran"
[ "$(cat "$SHARED/reader-rounds")" -ge 1 ] || fail "the pattern reader never completed a round"
echo "the pattern was read and compared $(cat "$SHARED/reader-rounds") times across the kill"
for run in healthy under-kill degraded; do
	jq -r '.jobs[] | "\(.jobname): read \(.read.iops | floor) IOPS, write \(.write.iops | floor) IOPS, errors \(.error)"' "$SHARED/fio-$run.json"
done
jq -e '.replicas == 2 and .failed_nodes == [] and .nodes == [1, 2]' "$SHARED/dev-before.json" >/dev/null ||
	fail "unexpected device: $(cat "$SHARED/dev-before.json")"
# Both nodes received every write: each holds a full copy.
for id in 1 2; do
	jq -e '.stats.rx_frames > 0 and .stats.tx_bytes > 33554432' "$SHARED/node$id-healthy.json" >/dev/null ||
		fail "node $id did not get its copy: $(cat "$SHARED/node$id-healthy.json")"
done
jq -e '.failed_nodes == [2] and .stats.errors == 0 and .stats.in_flight == 0' "$SHARED/dev-after.json" >/dev/null ||
	fail "unexpected degraded device: $(cat "$SHARED/dev-after.json")"
echo "reads failed over: $(jq .stats.failovers "$SHARED/dev-after.json")"
# Each request counted once, also a read sent again to the other copy: the device's counts are
# the block layer's (/sys/block/omx0/stat: read I/Os, sectors; write I/Os, sectors).
read -r rd_ios _ rd_sec _ wr_ios _ wr_sec _ <"$SHARED/blk-stat-after"
jq -e --argjson r "$rd_ios" --argjson rs "$rd_sec" --argjson w "$wr_ios" --argjson ws "$wr_sec" \
	'.stats.reads == $r and .stats.read_bytes == $rs * 512 and .stats.writes == $w and .stats.write_bytes == $ws * 512' \
	"$SHARED/dev-after.json" >/dev/null ||
	fail "device counts $(jq -c '.stats' "$SHARED/dev-after.json") against the block layer's $rd_ios reads ($rd_sec sectors), $wr_ios writes ($wr_sec sectors)"
jq -e -s 'any(.[]; .event == "dev-error" and .dev.name == "omx0" and .dev.nodes == [2])' "$SHARED/monitor.jsonl" >/dev/null ||
	fail "no dev-error event for node 2: $(cat "$SHARED/monitor.jsonl")"
