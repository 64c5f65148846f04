# Client side of the MACsec test (VM 1): omx_mod on macsec0 toward VM 2; the host spoofs
# plain OmniXtend frames in VM 2's name in the middle.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"
. "$OMX_ROOT/tests/vm/guest/macsec-up.sh" 2

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
ip -s macsec show macsec0 >"$S/macsec-stats.txt"
touch "$S/macsec.ok"
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
