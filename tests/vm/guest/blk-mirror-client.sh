# Client side of the mirroring test (VM 1): /dev/omx0 with two copies of every chunk on the
# pool nodes of VMs 2 and 3; VM 3's daemon is killed under I/O.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"
fio_verify() { # name offset size rw
	LD_PRELOAD=$S/noshm.so fio --name="$1" --thread --filename=/dev/omx0 --direct=1 --verify=crc32c \
		--verify_fatal=1 --do_verify=1 --verify_state_save=0 --rw="$4" --bs=4k-128k --offset="$2" \
		--size="$3" --ioengine=libaio --iodepth=16 --output-format=json --output="$S/fio-$1.json"
}

insmod "$OMX_ROOT/omx_mod.ko"
"$C" -j monitor >"$S/monitor.jsonl" &
mon=$!
wait_file "$S/vm2.daemon-up"
wait_file "$S/vm3.daemon-up"
"$C" node add eth0 52:54:00:0a:aa:02 --size 96M
"$C" node add eth0 52:54:00:0a:aa:03 --size 96M
wait_up 1
wait_up 2

refused "at least two" "$C" dev add omx0 --size 32M --replicas 2 --nodes 1
refused "capacity" "$C" dev add omx0 --size 128M --replicas 2
"$C" dev add omx0 --size 64M --replicas 2
"$C" -j dev show omx0 | tee "$S/dev-before.json"

# Both copies take the writes: a pattern, and fio with crc32c verification.
head -c $((32 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M oflag=direct status=none
fio_verify healthy 32M 24M randrw
"$C" -j node show 1 >"$S/node1-healthy.json"
"$C" -j node show 2 >"$S/node2-healthy.json"

# VM 3's node dies: reads of its chunks fail over to VM 2's copies, writes go on there.
touch "$S/kill-vm3"
wait_file "$S/vm3.kill-done"
dd if=/dev/omx0 of=/tmp/back bs=1M count=32 iflag=direct status=none
cmp /tmp/pattern /tmp/back
fio_verify degraded 32M 24M randrw
dd if=/dev/omx0 of=/tmp/back bs=1M count=32 iflag=direct status=none
cmp /tmp/pattern /tmp/back
"$C" -j dev show omx0 | tee "$S/dev-after.json"
"$C" dev show omx0
touch "$S/mirror.ok"
kill "$mon"
"$C" dev del omx0
"$C" node del 1
"$C" node del 2
rmmod omx_mod
