# Client side of the striping test (VM 1): /dev/omx0 over the pool nodes on VMs 2 and 3.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

ip link set eth0 mtu 9000
insmod "$OMX_ROOT/omx_mod.ko"
wait_file "$S/vm2.daemon-up"
wait_file "$S/vm3.daemon-up"
"$C" node add eth0 52:54:00:0a:aa:02 --size 96M
"$C" node add eth0 52:54:00:0a:aa:03 --size 96M
wait_up 1
wait_up 2

refused "no such node" "$C" dev add omx0 --size 64M --nodes 1,7
refused "twice" "$C" dev add omx0 --size 64M --nodes 1,1
refused "omxN" "$C" dev add sda --size 64M
refused "omxN" "$C" dev add omx01 --size 64M
refused "capacity" "$C" dev add omx0 --size 512M
refused "at least two" "$C" dev add omx0 --size 64M --replicas 2 --nodes 2

"$C" dev add omx0 --size 160M --nodes 1,2
"$C" dev add omx1 --size 16M --nodes 2
refused "exists" "$C" dev add omx1 --size 16M
refused "capacity" "$C" dev add omx2 --size 24M --nodes 2
"$C" -j dev show | tee "$S/devs.json"
[ "$(jq 'length' "$S/devs.json")" = 2 ] || [ "$(jq '.devices | length' "$S/devs.json")" = 2 ]
refused "in use" "$C" node del 2
"$C" dev del omx1

# A pattern across chunk (and so node) boundaries, odd offsets and sizes.
head -c $((24 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=12k seek=100 oflag=direct status=none
dd if=/dev/omx0 of=/tmp/back bs=12k skip=100 count=2048 iflag=direct status=none
cmp /tmp/pattern /tmp/back

# 8 KiB messages (two pages each at MTU 9000). Frames for 1 MiB on node 1 (chunk 32 is
# member 0's), counted by the node's counters, for the host to check.
frames() { "$C" -j node show 1 | jq -r '"\(.stats.tx_frames) \(.stats.rx_frames)"'; }
head -c $((4 << 20)) /dev/urandom >/tmp/img
read -r t0 r0 < <(frames)
dd if=/tmp/img of=/dev/omx0 bs=1M seek=32 count=1 oflag=direct status=none
read -r t1 r1 < <(frames)
dd if=/dev/omx0 of=/tmp/back bs=1M skip=32 count=1 iflag=direct status=none
read -r t2 r2 < <(frames)
cmp -n $((1 << 20)) /tmp/img /tmp/back
echo "write $((t1 - t0)) $((r1 - r0)) read $((t2 - t1)) $((r2 - r1))" >"$S/frames-1m.txt"
# Mixed alignments: a message's address is aligned to its size, so requests starting or
# ending off an 8 KiB boundary begin or end with 4 KiB messages. The same writes go to a
# local image; reads in other shapes (whole MiBs, MiBs at an odd page, 20 KiB runs at odd
# pages, single pages) must all return it.
dd if=/tmp/img of=/dev/omx0 bs=1M seek=33 skip=1 count=3 oflag=direct status=none
put() { # offset count (in 4 KiB pages, from 32 MiB)
	head -c $(($2 * 4096)) /dev/urandom >/tmp/piece
	dd if=/tmp/piece of=/tmp/img bs=4k seek="$1" conv=notrunc status=none
	dd if=/tmp/piece of=/dev/omx0 bs=$(($2 * 4096)) seek=$(((32 << 20) + $1 * 4096)) \
		oflag=direct,seek_bytes status=none
}
put 1 1
put 3 5
put 10 3
put 17 256
put 511 2
put 700 7
put 1023 1
back() { # bs skip_bytes count
	dd if=/dev/omx0 of=/tmp/back bs="$1" skip=$(((32 << 20) + $2)) count="$3" \
		iflag=direct,skip_bytes status=none
	cmp -n "$(stat -c %s /tmp/back)" /tmp/back <(tail -c +$(($2 + 1)) /tmp/img) ||
		{ echo "read back bs=$1 at +$2: differs"; exit 1; }
}
back 1M 0 4
back 1M 4096 3
back 20k 12288 50
back 12k 4096 100
back 4k 0 300
# Write-zeroes (BLKZEROOUT -> REQ_OP_WRITE_ZEROES, no data pages sent from the host) over
# three chunks of random bytes.
[ "$(cat /sys/block/omx0/queue/write_zeroes_max_bytes)" -gt 0 ]
dd if=/dev/urandom of=/dev/omx0 bs=1M seek=130 count=3 oflag=direct status=none
blkdiscard -z -o $((130 << 20)) -l $((3 << 20)) /dev/omx0
dd if=/dev/omx0 of=/tmp/zeroes bs=1M skip=130 count=3 iflag=direct status=none
cmp -n $((3 << 20)) /dev/zero /tmp/zeroes
LD_PRELOAD=$S/noshm.so fio --name=stripe --thread --filename=/dev/omx0 --direct=1 --verify=crc32c \
	--verify_fatal=1 --do_verify=1 --verify_state_save=0 --rw=randrw --bs=4k-256k --size=48M \
	--offset=64M --ioengine=libaio --iodepth=16 --output-format=json --output="$S/fio-stripe.json"
"$C" -j node show 1 >"$S/node1.json"
"$C" -j node show 2 >"$S/node2.json"
"$C" dev show omx0
touch "$S/stripe.ok"
"$C" dev del omx0
"$C" node del 1
"$C" node del 2
rmmod omx_mod
