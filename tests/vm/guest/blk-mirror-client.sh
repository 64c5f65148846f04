# Client side of the mirroring test (VM 1): /dev/omx0 with two copies of every chunk on the
# pool nodes of VMs 2 and 3; VM 3's daemon is killed under verified fio and a pattern reader.
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

# VM 3's node dies under load: fio writes and reads a region (crc32c in every block, all
# read back and checked at its end) while a reader compares the pattern over and over. The
# kill lands while both have requests in flight on VM 3: reads of its chunks must fail over to
# VM 2's copies, writes go on there, nothing fails and nothing reads back wrong.
writes() { "$C" -j dev show omx0 | jq .stats.writes; }
fio_verify under-kill 32M 32M randrw &
fio=$!
(
	rounds=0
	while [ ! -e /tmp/stop-reader ]; do
		dd if=/dev/omx0 of=/tmp/back-r bs=1M count=32 iflag=direct status=none
		cmp /tmp/pattern /tmp/back-r
		rounds=$((rounds + 1))
	done
	echo "$rounds" >"$S/reader-rounds"
) &
reader=$!
# fio has started writing (not just forked) before the kill is asked for.
before=$(writes)
for _ in $(seq 100); do
	kill -0 "$fio" 2>/dev/null && [ "$(writes)" -le $((before + 100)) ] || break
	sleep 0.1
done
touch "$S/kill-vm3"
wait_file "$S/vm3.kill-done"
kill -0 "$fio" 2>/dev/null || { echo "fio was over before VM 3's daemon died: nothing in flight"; exit 1; }
touch "$S/killed-under-fio"
wait "$fio" || { echo "fio failed across the kill"; cat "$S/fio-under-kill.json"; exit 1; }
touch /tmp/stop-reader
wait "$reader" || { echo "the pattern read back wrong across the kill"; exit 1; }
dd if=/dev/omx0 of=/tmp/back bs=1M count=32 iflag=direct status=none
cmp /tmp/pattern /tmp/back
fio_verify degraded 32M 24M randrw
dd if=/dev/omx0 of=/tmp/back bs=1M count=32 iflag=direct status=none
cmp /tmp/pattern /tmp/back
"$C" -j dev show omx0 | tee "$S/dev-after.json"
# The block layer's own count of the requests it completed, to compare the device's with.
cat /sys/block/omx0/stat >"$S/blk-stat-after"
"$C" dev show omx0
touch "$S/mirror.ok"
kill "$mon"
"$C" dev del omx0
"$C" node del 1
"$C" node del 2
rmmod omx_mod
