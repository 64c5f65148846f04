#!/usr/bin/env bash
# A pool node restarted with its memory: omx-node on VM 2 keeps the lent memory in a file on
# tmpfs (--memory-file /run/omx-pool.mem). SIGKILLed (and later stopped cleanly with SIGTERM,
# which closes its connections) and started again on the same file, it resumes the client's region with the same contents identity: the unmirrored device on VM 1
# works on and its data reads back intact. Killed with its file deleted, it starts with empty
# memory and a new identity: the device's I/O there fails for good.
. "$(dirname "$0")/lib.sh"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/blk-restart-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool-file.sh" "128M,/run/omx-pool.mem"
vm_wait
[ -e "$SHARED/restart.ok" ] || fail "the restart check did not pass"
log_grep 2 'starting with empty memory \(new file\)' || fail "the first daemon did not create the memory file"
[ "$(grep -acF 'resuming 1 regions from /run/omx-pool.mem' "$OMX_TEST_DIR/vm2.log")" = 2 ] ||
	fail "the restarted daemons (after SIGKILL and after SIGTERM) did not both resume the region"
[ "$(grep -acF 'starting with empty memory (new file)' "$OMX_TEST_DIR/vm2.log")" = 2 ] ||
	fail "the daemon did not start over once its file was deleted"
jq -r '"after the killed daemon came back: \(.stats.errors) failed requests, \(.stats.reads) reads"' "$SHARED/dev-killed.json"
