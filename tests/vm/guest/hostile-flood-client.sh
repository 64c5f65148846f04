# Client side of the flood test (VM 1): /dev/omx0 on VM 2's node (which lists this VM with
# --client), written and read back (cmp) 8 MiB at a time until the host's flood is over.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"

one_node_device 32M 24M
touch "$S/flood-go"
round=0
while :; do
	round=$((round + 1))
	off=$(((round % 2) * 8))
	head -c $((8 << 20)) /dev/urandom >/tmp/pattern
	dd if=/tmp/pattern of=/dev/omx0 bs=1M seek=$off oflag=direct status=none
	dd if=/dev/omx0 of=/tmp/back bs=1M skip=$off count=8 iflag=direct status=none
	cmp /tmp/pattern /tmp/back
	echo "$round" >"$S/io-rounds"
	[ -e "$S/flood-done" ] && break
done
"$C" -j dev show omx0 >"$S/dev-final.json"
"$C" dev del omx0
"$C" node del 1
rmmod omx_mod
touch "$S/io.ok"
