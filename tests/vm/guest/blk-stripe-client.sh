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
