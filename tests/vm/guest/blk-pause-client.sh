# Client side of the node-pause test (VM 1): the pool daemon on VM 2 is frozen (SIGSTOP) for
# less than the node's I/O timeout, then past it, and thawed each time; then restarted.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

one_node_device 128M 64M
head -c $((16 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M oflag=direct status=none

# Frozen for 6 s (the I/O timeout is 10 s): the connection is lost and reopened, the reads
# in flight wait and complete, nothing fails.
touch "$S/stop-vm2"
wait_file "$S/vm2.stop-done"
rm -f "$S/vm2.stop-done" "$S/vm2.cont-done"
dd if=/dev/omx0 of=/tmp/back bs=1M count=16 iflag=direct status=none &
reader=$!
sleep 6
touch "$S/cont-vm2"
wait_file "$S/vm2.cont-done"
rm -f "$S/vm2.cont-done"
wait "$reader" || { echo "a read failed during a pause shorter than the I/O timeout"; exit 1; }
cmp /tmp/pattern /tmp/back
"$C" -j node show 1 >"$S/node-short-pause.json"
"$C" -j dev show omx0 >"$S/dev-short-pause.json"

# Frozen past the bound (2.2 s + the 10 s I/O timeout): I/O fails with EIO, the node is dead.
touch "$S/stop-vm2"
wait_file "$S/vm2.stop-done"
if dd if=/dev/omx0 of=/dev/null bs=64k count=16 iflag=direct status=none; then
	echo "read from a frozen node succeeded"; exit 1
fi
wait_state dead
# Thawed: the node answers with the same contents identity, so the device works again and
# its data is intact.
touch "$S/cont-vm2"
wait_file "$S/vm2.cont-done"
wait_state up
dd if=/dev/omx0 of=/tmp/back bs=1M count=16 iflag=direct status=none
cmp /tmp/pattern /tmp/back
dd if=/tmp/pattern of=/dev/omx0 bs=1M seek=20 oflag=direct status=none
"$C" -j dev show omx0 >"$S/dev-thawed.json"

# Restarted: a new daemon has an empty memory and another identity: the device's I/O on it
# fails for good instead of returning zeros.
touch "$S/kill-vm2"
wait_file "$S/vm2.kill-done"
wait_state dead
touch "$S/restart-vm2"
wait_file "$S/vm2.restart-done"
wait_state up
if dd if=/dev/omx0 of=/tmp/back bs=1M count=1 iflag=direct status=none; then
	echo "read from a restarted node succeeded"; exit 1
fi
# (grep -c reads all: grep -q would stop early and fail dmesg with SIGPIPE under pipefail.)
[ "$(dmesg | grep -c "node 1: its memory contents were lost")" -ge 1 ] || { echo "no contents-lost message"; exit 1; }
touch "$S/pause.ok"
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
