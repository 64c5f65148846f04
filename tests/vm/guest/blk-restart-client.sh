# Client side of the node-restart test (VM 1): the pool daemon on VM 2 keeps its memory in a
# file (pool-file.sh, --memory-file). It is SIGKILLed (then stopped with SIGTERM) and started
# again on the same file: the node comes back with the same contents identity, the unmirrored
# device works on and its data is intact. Then it is killed, its file deleted and started again: the identity changed, the
# device's I/O there fails for good.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"
errors() { "$C" -j dev show omx0 | jq -r .stats.errors; }
# pool CMD: has VM 2's pool script carry out CMD and waits until it has.
pool() {
	rm -f "$S/vm2.$1-done"
	touch "$S/$1-vm2"
	wait_file "$S/vm2.$1-done"
}
lost() { dmesg | grep -c "node 1: its memory contents were lost" || true; }

one_node_device 128M 64M
head -c $((16 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M oflag=direct status=none
echo "written; $(errors) errors so far"

# check_back STEP: the node is up again with its memory: the pattern reads back intact, new
# writes work, and no request failed since the node came back.
check_back() {
	local before
	wait_state up
	before=$(errors)
	dd if=/dev/omx0 of=/tmp/back bs=1M count=16 iflag=direct status=none
	cmp /tmp/pattern /tmp/back
	dd if=/tmp/pattern of=/dev/omx0 bs=1M seek=32 oflag=direct status=none
	dd if=/dev/omx0 of=/tmp/back bs=1M skip=32 count=16 iflag=direct status=none
	cmp /tmp/pattern /tmp/back
	[ "$(errors)" = "$before" ] || { echo "$1: $(errors) errors, $before when the node came back"; return 1; }
	[ "$(lost)" = 0 ] || { echo "$1: the node's memory was taken for lost"; return 1; }
	"$C" -j dev show omx0 >"$S/dev-$1.json"
	echo "$1: data intact, $before errors"
}

# SIGKILL, restart on the same file.
pool kill
wait_state dead
pool restart
check_back killed

# SIGTERM (a clean stop: the daemon closes its connections), restart on the same file: the
# node goes dead, is reopened and resumes.
pool term
wait_state dead
pool restart
check_back stopped

# SIGKILL, the memory file deleted, restart: a new identity; the device's I/O on the node fails
# for good instead of returning zeros.
pool kill
wait_state dead
pool rmfile
pool restart
wait_state up
if dd if=/dev/omx0 of=/tmp/back bs=1M count=1 iflag=direct status=none; then
	echo "read from a node that lost its memory succeeded"; exit 1
fi
[ "$(lost)" = 1 ] || { echo "no contents-lost message"; exit 1; }
touch "$S/restart.ok"
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
