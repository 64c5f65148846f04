# Client side of the power-off test (VM 1): omx0 mirrored over VMs 2 and 3, omx1 on VM 3 only;
# the host pulls VM 3's plug while both are busy.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

insmod "$OMX_ROOT/omx_mod.ko"
wait_file "$S/vm2.daemon-up"
wait_file "$S/vm3.daemon-up"
"$C" node add eth0 52:54:00:0a:aa:02 --size 64M
"$C" node add eth0 52:54:00:0a:aa:03 --size 64M
wait_up 1
wait_up 2
"$C" dev add omx0 --size 32M --replicas 2 --nodes 1,2
"$C" dev add omx1 --size 16M --nodes 2
head -c $((16 << 20)) /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M oflag=direct status=none
dd if=/tmp/pattern of=/dev/omx1 bs=1M count=8 oflag=direct status=none

# Busy on both devices until well after the power cut: omx0 rewrites and checks its second
# half, omx1 is read until the first error.
touch "$S/poweroff-now"
(
	while dd if=/dev/omx1 of=/dev/null bs=64k count=16 iflag=direct status=none; do :; done
) 2>"$S/omx1-reader.log" &
reader=$!
head -c $((4 << 20)) /dev/urandom >/tmp/half
i=0
while [ ! -e "$S/powered-off" ] || [ $i -lt 5 ]; do
	[ -e "$S/powered-off" ] && i=$((i + 1))
	dd if=/tmp/half of=/dev/omx0 bs=1M seek=16 oflag=direct status=none
	dd if=/dev/omx0 of=/tmp/half-back bs=1M skip=16 count=4 iflag=direct status=none
	cmp /tmp/half /tmp/half-back
done
wait "$reader"
dd if=/dev/omx0 of=/tmp/back bs=1M count=16 iflag=direct status=none
cmp /tmp/pattern /tmp/back
cat "$S/omx1-reader.log"
"$C" -j dev show omx0 >"$S/omx0.json"
"$C" -j dev show omx1 >"$S/omx1.json"
"$C" -j node show 2 >"$S/node2.json"
"$C" dev del omx1
"$C" dev del omx0
"$C" node del 1
"$C" node del 2
rmmod omx_mod
touch "$S/poweroff.ok"
