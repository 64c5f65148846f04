#!/usr/bin/env bash
# The block device over one pool node: omx-node on VM 2 lends 256 MiB, VM 1 creates
# /dev/omx0 (128 MiB) on it, writes and reads back a dd pattern, reads it again 32 KiB at a
# time (most reads answered by the read-ahead; a write after a fetch reads back), runs fio with crc32c
# verification (random 4k/64k, read/write mix, iodepth 1 and 32), discards the whole device
# (omx-node's RSS must fall by most of what was written, the data must read as zeros), checks
# that rmmod is refused while the device is open, writes 32 MiB and removes the device (dev del
# releases its memory: the RSS falls again, and a device added in its place reads zeros), then
# unloads the module.
. "$(dirname "$0")/lib.sh"

# fio needs System V shm, which the guest kernel lacks: see tests/tools/noshm.c.
gcc -shared -fPIC -O2 -o "$SHARED/noshm.so" "$OMX_ROOT/tests/tools/noshm.c"

segment_up
capture_start "$OMX_TEST_DIR/segment.pcap"
vm_start 1 "$OMX_ROOT/tests/vm/guest/blk-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh"
vm_wait

for f in dd.ok readahead.ok fio.ok discard.ok rmmod-refused.ok dev-del-release.ok; do
	[ -e "$SHARED/$f" ] || fail "missing $f"
done
for j in "$SHARED"/fio-*.json; do
	jq -r '.jobs[] | "\(.jobname): read \(.read.iops | floor) IOPS \(.read.bw) KiB/s, write \(.write.iops | floor) IOPS \(.write.bw) KiB/s, errors \(.error)"' "$j"
done
jq -e '.stats.errors == 0 and .stats.in_flight == 0 and .stats.writes > 0 and .stats.reads > 0 and .stats.discards > 0' "$SHARED/dev-final.json" >/dev/null ||
	fail "unexpected device stats: $(cat "$SHARED/dev-final.json")"
# Every frame on the segment must be valid OmniXtend as the protocol core decodes it.
"$OMX_ROOT/target/release/omx-pcap-check" "$OMX_TEST_DIR/segment.pcap" || fail "invalid OmniXtend frames on the segment"
rm -f "$OMX_TEST_DIR/segment.pcap" # ~130 MB; kept only when the check fails
