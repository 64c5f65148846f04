# Client side of 16-node-unit (VM 1): once the pool VM's omx-node@omx0 is up, writes 4 MiB
# through it and reads them back, then gives the memory back and removes device and node.
. "$OMX_ROOT/tests/vm/guest/lib.sh"
trap 'touch $S/vm1.io-done' EXIT
insmod "$OMX_ROOT/omx_mod.ko"
wait_file "$S/vm2.daemon-up"
"$C" node add eth0 52:54:00:0a:ab:02 --size 64M
wait_up
"$C" dev add omx0 --size 32M
head -c 4M /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M oflag=direct status=none
dd if=/dev/omx0 of=/tmp/back bs=1M count=4 iflag=direct status=none
cmp /tmp/pattern /tmp/back
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
touch "$S/vm1.io-ok"
