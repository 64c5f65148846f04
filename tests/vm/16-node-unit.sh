#!/usr/bin/env bash
# omx-node@.service under a real systemd: VM 2 boots the host's systemd and udev (VM_INIT),
# installs omx as make install does, and enables omx-node@omx0 before omx0 exists; the node
# starts when the interface appears, serves VM 1's I/O, ignores SIGHUP, stops cleanly when the
# interface goes and starts again when it returns (guest/node-unit-pool.sh).
. "$(dirname "$0")/lib.sh"

root=$SHARED/root
DESTDIR=$root PREFIX=/usr/local bash "$OMX_ROOT/scripts/install.sh" install >/dev/null
segment_up
VM_INIT=systemd VM_MEM=256 vm_start 2 "$OMX_ROOT/tests/vm/guest/node-unit-pool.sh"
VM_MEM=256 vm_start 1 "$OMX_ROOT/tests/vm/guest/node-unit-client.sh"
vm_wait
[ -e "$SHARED/vm1.io-ok" ] || fail "the client's I/O through omx-node@omx0 failed"
[ -e "$SHARED/vm2.unit-ok" ] || fail "omx-node@omx0 did not follow its interface"
log_grep 2 'started when omx0 appeared' || fail "no start line"
