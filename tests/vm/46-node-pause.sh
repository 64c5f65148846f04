#!/usr/bin/env bash
# A pool node that stops answering for a while is not a node that lost its memory: omx-node on
# VM 2 is frozen with SIGSTOP for 6 s, less than the node's I/O timeout (the connection is lost
# and reopened, the reads waiting meanwhile complete, nothing fails), then past the dead-node
# bound (I/O fails with EIO, the node is dead), then thawed: the node answers the contents identity (omx_proto::identity) as before, so the
# unmirrored device works again and the data written before reads back intact. A restarted
# daemon (empty memory, new identity) is recognised: the device's I/O there fails for good.
. "$(dirname "$0")/lib.sh"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/blk-pause-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh"
vm_wait
[ -e "$SHARED/pause.ok" ] || fail "the pause check did not pass"
jq -r '"short pause: \(.stats.reconnects) reconnects"' "$SHARED/node-short-pause.json"
jq -e '.stats.reconnects >= 1' "$SHARED/node-short-pause.json" >/dev/null || fail "the short pause did not reopen the connection"
jq -e '.stats.errors == 0' "$SHARED/dev-short-pause.json" >/dev/null || fail "I/O failed during the short pause"
jq -r '"after the thaw: \(.stats.errors) failed requests, \(.stats.reads) reads"' "$SHARED/dev-thawed.json"
