# Client side of the MACsec test (VM 1): omx_mod on macsec0 toward VM 2. Connection 1 writes
# a pattern and runs fio; the host spoofs plain OmniXtend frames in VM 2's name in the middle.
# Then the client goes away (dev del, which releases the device's memory on the node, and node
# del): the host replays connection 1's recorded frames and forges an OpenConnection in this
# client's name. Connection 2 must read the region as the client left it: all zeros.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"
. "$OMX_ROOT/tests/vm/guest/macsec-up.sh" 2
# The pool node lends its memory to this MAC only (macsec-pool.sh: --client).
[ "$(cat /sys/class/net/macsec0/address)" = "$(node_mac 1)" ]

insmod "$OMX_ROOT/omx_mod.ko"
wait_file "$S/vm2.daemon-up"
"$C" node add macsec0 52:54:00:0a:aa:02 --size 128M
wait_up
"$C" -j node show 1 | tee "$S/node-up.json"
"$C" dev add omx0 --size 64M
head -c $((16 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M oflag=direct status=none
LD_PRELOAD=$S/noshm.so fio --name=macsec --thread --filename=/dev/omx0 --direct=1 --verify=crc32c \
	--verify_fatal=1 --do_verify=1 --verify_state_save=0 --rw=randrw --bs=4k --offset=32M --size=16M \
	--ioengine=libaio --iodepth=16 --output-format=json --output="$S/fio-macsec.json"
"$C" -j stats >"$S/stats-before.json"
touch "$S/spoof-now"
wait_file "$S/spoof-done"
dd if=/dev/omx0 of=/tmp/back bs=1M count=16 iflag=direct status=none
cmp /tmp/pattern /tmp/back
"$C" -j stats >"$S/stats-after.json"

# The end of connection 1: dev del releases the device's memory on the node (it reads zeros
# from then on; a replay of the connection's first frames, the pattern's first PutFullData,
# would put the pattern's bytes back). Then a clean close: the client is away.
head -c $((16 << 20)) /dev/zero >/tmp/expect
"$C" dev del omx0
"$C" node del 1
touch "$S/away"
wait_file "$S/back"

# Connection 2: the same region (the node keeps it for this MAC; the device's first fit is
# offset 0 again) must hold what connection 1 left: zeros.
id=$("$C" -j node add macsec0 52:54:00:0a:aa:02 --size 128M | jq -r .id)
wait_up "$id"
"$C" dev add omx0 --size 64M
dd if=/dev/omx0 of=/tmp/back bs=1M count=16 iflag=direct status=none
if cmp /tmp/expect /tmp/back; then touch "$S/reconnect-data.ok"; fi
ip -s macsec show macsec0 >"$S/vm1-end.macsec"
touch "$S/macsec.ok"
"$C" dev del omx0
"$C" node del "$id"
rmmod omx_mod
