# Client side of the node-death test (VM 1).
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

insmod "$OMX_ROOT/omx_mod.ko"
"$C" -j monitor >"$S/monitor.jsonl" &
mon=$!
wait_file "$S/vm2.daemon-up"
"$C" node add eth0 52:54:00:0a:aa:02 --size 256M
wait_state up
"$C" dev add omx0 --size 128M
dd if=/dev/urandom of=/dev/omx0 bs=1M count=8 seek=64 oflag=direct status=none
mkswap /dev/omx0 >/dev/null
swapon /dev/omx0

# Reads in a loop until one fails; its time is when EIO reached userspace.
(
	while dd if=/dev/omx0 of=/dev/null bs=64k count=64 skip=1024 iflag=direct status=none; do :; done
	date +%s.%N >"$S/eio-at"
) 2>"$S/reader.log" &
reader=$!
sleep 1
# Measured on this VM's clock from the kill request: an upper bound (includes the pool's
# reaction to the request file); the VMs' clocks are not synchronised.
kill_at=$(date +%s.%N)
touch "$S/kill-vm2"
wait_file "$S/vm2.kill-done"
wait "$reader"
echo "$(cat "$S/eio-at") - $kill_at" | bc >"$S/t-eio"
cat "$S/reader.log"
wait_state dead
# New I/O on a dead node fails at once (the host checks the error and the time).
start=$(date +%s.%N)
must_fail dd if=/dev/omx0 of=/dev/null bs=4k count=1 iflag=direct status=none 2>"$S/dead-read.log"
echo "$(date +%s.%N) - $start" | bc >"$S/t-dead-read"
echo "EIO on a dead node after $(cat "$S/t-dead-read") s"
# The restarted daemon has lost the device's data: the node comes back up, but the device's
# chunks on it keep failing instead of returning zeros.
touch "$S/restart-vm2"
wait_state up
if dd if=/dev/omx0 of=/dev/null bs=4k count=1 skip=16384 iflag=direct status=none; then echo "read from a restarted node succeeded"; exit 1; fi
# A device placed on the node after its restart works, while omx0's I/O keeps failing.
"$C" dev add omx1 --size 16M
head -c $((4 << 20)) /dev/urandom >/tmp/pattern
( for _ in $(seq 50); do dd if=/dev/omx0 of=/dev/null bs=64k count=4 iflag=direct status=none 2>/dev/null && exit 1; done; exit 0 ) &
failing=$!
dd if=/tmp/pattern of=/dev/omx1 bs=64k oflag=direct status=none
dd if=/dev/omx1 of=/tmp/back bs=64k count=64 iflag=direct status=none
cmp /tmp/pattern /tmp/back
wait "$failing" || { echo "a read of omx0 succeeded after the node's restart"; exit 1; }
"$C" dev del omx1
"$C" -j dev show omx0 | tee "$S/dev-dead.json"
swapoff /dev/omx0
kill "$mon"
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
