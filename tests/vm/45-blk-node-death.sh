#!/usr/bin/env bash
# A pool node dies under I/O: /dev/omx0 (swapped on, and read by a direct-I/O loop) lives on
# omx-node on VM 2, which is SIGKILLed. The reads must fail with EIO within the dead-node
# bound (11 retransmit timeouts of 200 ms, then the default I/O timeout of 10 s during which
# the module tries to reconnect; allow for TCG), no task may hang, and swapoff, dev del and
# rmmod must still complete. Once the node is dead, a new read fails with EIO at once: in
# under 5 s, half the I/O timeout that a request waiting for the node would take at least.
# The daemon is restarted: the node comes back up, but the device keeps failing (the node's
# memory was lost). Listeners hear dev-error-ntf for omx0 and node 1.
. "$(dirname "$0")/lib.sh"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/blk-death-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" 256M
vm_wait

[ -s "$SHARED/t-eio" ] || fail "no EIO seen"
echo "EIO after the kill request: $(cat "$SHARED/t-eio") s"
awk '{ exit !($1 < 25) }' "$SHARED/t-eio" || fail "EIO only after $(cat "$SHARED/t-eio") s"
grep -q 'Input/output error' "$SHARED/reader.log" || fail "the reader did not fail with EIO"
grep -q 'Input/output error' "$SHARED/dead-read.log" || fail "a read on the dead node: $(cat "$SHARED/dead-read.log")"
echo "EIO on the dead node after $(cat "$SHARED/t-dead-read") s"
awk '{ exit !($1 < 5) }' "$SHARED/t-dead-read" || fail "a read on the dead node took $(cat "$SHARED/t-dead-read") s to fail"
jq -e '.stats.errors >= 3 and .stats.in_flight == 0' "$SHARED/dev-dead.json" >/dev/null ||
	fail "unexpected device stats: $(cat "$SHARED/dev-dead.json")"
jq -e -s 'map(select(.event == "dev-error" and .dev.name == "omx0" and .dev.nodes == [1])) | length >= 1' "$SHARED/monitor.jsonl" >/dev/null ||
	fail "no dev-error event: $(cat "$SHARED/monitor.jsonl")"
