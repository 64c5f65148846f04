# The client of 43-lend (VM 1): /dev/omx0 on the memory VM 2 lends from its kernel.
trap 'touch $S/done' EXIT
set -euo pipefail
. "$OMX_ROOT/tests/vm/guest/lib.sh"
ip link set eth0 mtu 9000
one_node_device 256M 128M

head -c $((8 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M seek=3 conv=fsync status=none
dd if=/dev/omx0 of=/tmp/back bs=1M skip=3 count=8 iflag=direct status=none
cmp /tmp/pattern /tmp/back
touch "$S/dd.ok"

run_fio() { # name, extra args
	local name=$1; shift
	LD_PRELOAD=$S/noshm.so fio --eta=never --name="$name" --thread --filename=/dev/omx0 --direct=1 --verify=crc32c --verify_fatal=1 \
		--do_verify=1 --verify_state_save=0 --output-format=json --output="$S/fio-$name.json" "$@"
}
run_fio rand4k-qd32 --rw=randwrite --bs=4k --size=8M --offset=16M --ioengine=libaio --iodepth=32
run_fio rand64k-qd32 --rw=randwrite --bs=64k --size=16M --offset=32M --ioengine=libaio --iodepth=32
run_fio seq1m-qd8 --rw=write --bs=1m --size=48M --offset=64M --ioengine=libaio --iodepth=8
touch "$S/fio.ok"

# A discard releases the range on the node: it reads back as zeros from there (O_DIRECT).
blkdiscard /dev/omx0
dd if=/dev/omx0 bs=1M skip=3 count=8 iflag=direct status=none | cmp -n $((8 << 20)) - /dev/zero
touch "$S/discard.ok"

# The connection lost and made again: with the link down the node dies (2.2 s), then it comes
# back; the lending keeps the memory across the client's connections, and the data written
# before reads back.
head -c $((4 << 20)) /dev/urandom >/tmp/pattern2
dd if=/tmp/pattern2 of=/dev/omx0 bs=1M seek=100 oflag=direct status=none
ip link set eth0 down
wait_state dead
ip link set eth0 up
wait_up
dd if=/dev/omx0 bs=1M skip=100 count=4 iflag=direct status=none | cmp - /tmp/pattern2
# 32 KiB at a time: the read-ahead fetches the blocks after 101 MiB.
dd if=/dev/omx0 bs=32k skip=3200 count=32 iflag=direct status=none | cmp -n $((1 << 20)) - /tmp/pattern2
touch "$S/reconnect.ok"
"$C" -j dev show omx0 >"$S/dev-final.json"
# The pool reads its lending while this client is still connected.
touch "$S/io.done"
wait_file "$S/lend.shown"

# The lending made again (lend del, lend add: what a pool host's restart does): the node comes
# back with another contents identity, and the device's I/O there fails for good instead of
# reading the new lending's zeros.
touch "$S/relend"
wait_file "$S/relent"
wait_state up
# The read is of a block the reads of 32 KiB above had fetched ahead (at 101 MiB): data
# read ahead from the node before it lost its contents is not used either.
if dd if=/dev/omx0 of=/dev/null bs=128k skip=808 count=1 iflag=direct status=none; then
	echo "a read from a lending made again succeeded"; exit 1
fi
dmesg | grep -q "node 1: its memory contents were lost" || { echo "no contents-lost message"; exit 1; }
touch "$S/relend.ok"
