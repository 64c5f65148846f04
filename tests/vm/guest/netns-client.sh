# Guest side of the network namespace isolation test (VM 1, the client of VM 2's omx-node).
# Node 1 is on eth0 (omx0 on it), node 2 on a dummy interface (a node that only has to stay
# listed); then other network namespaces, as root and as an unprivileged user, use the same
# interface indexes, send frames with the pool node's MAC, and run omxctl. The guest records
# what it sees in /mnt/shared and the host judges (26-netns-isolation.sh); the steps whose
# outcome is judged do not stop the script, so one run shows every assertion's verdict.
. "$OMX_ROOT/tests/vm/guest/lib.sh"
FRAMES=200
POOL_MAC=$(node_mac 2)
# A client this host lends memory to (nobody is there: the lending only has to stay and take
# nothing from other namespaces).
LEND_MAC=02:00:00:00:00:55
# As an unprivileged user in a user namespace of its own (a rootless container).
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups unshare -rn "$@"; }
# snapshot NAME: module and node counters, and the node list.
snapshot() {
	"$C" -j stats >"$S/stats-$1.json"
	"$C" -j node show >"$S/nodes-$1.json"
	"$C" -j lend show >"$S/lends-$1.json"
}
# io_check NAME: the pattern written at the start reads back intact, and a new one written
# now reads back too (-> $S/io-NAME.ok).
io_check() {
	if dd if=/dev/omx0 of=/tmp/back bs=1M count=4 iflag=direct status=none 2>"$S/io-$1.err" &&
		cmp /tmp/pattern /tmp/back 2>>"$S/io-$1.err" &&
		head -c 4M /dev/urandom >/tmp/pattern2 &&
		dd if=/tmp/pattern2 of=/dev/omx0 bs=1M seek=8 oflag=direct status=none 2>>"$S/io-$1.err" &&
		dd if=/dev/omx0 of=/tmp/back2 bs=1M skip=8 count=4 iflag=direct status=none 2>>"$S/io-$1.err" &&
		cmp /tmp/pattern2 /tmp/back2 2>>"$S/io-$1.err"; then
		touch "$S/io-$1.ok"
	fi
}
# try NAME COMMAND...: runs COMMAND, its output in $S/NAME.out and its status in $S/NAME.rc.
try() {
	local name=$1 rc=0
	shift
	"$@" >"$S/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$S/$name.rc"
	echo "$name: exit $rc: $(head -c 300 "$S/$name.out")"
}

insmod "$OMX_ROOT/omx_mod.ko"
wait_file "$S/vm2.daemon-up"
"$C" node add eth0 "$POOL_MAC" --size 64M
wait_up
# The dummy driver may have created dummy0 at boot (numdummies).
ip link show dummy0 >/dev/null 2>&1 || ip link add dummy0 type dummy
ip link set dummy0 up
"$C" node add dummy0 02:00:00:00:00:99 --size 4M
"$C" dev add omx0 --size 32M --nodes 1
"$C" lend add eth0 "$LEND_MAC" --size 4M
idx1=$(cat /sys/class/net/eth0/ifindex)
idx2=$(cat /sys/class/net/dummy0/ifindex)
echo "node 1 on eth0 (ifindex $idx1), node 2 on dummy0 (ifindex $idx2)"
head -c 4M /dev/urandom >/tmp/pattern
dd if=/tmp/pattern of=/dev/omx0 bs=1M oflag=direct status=none
io_check start
snapshot start

# omxctl from another namespace: read commands answer, commands that change state are refused.
ip netns add other
try ns-node-show ip netns exec other "$C" -j node show
try ns-stats ip netns exec other "$C" -j stats
try ns-node-add ip netns exec other "$C" node add eth0 02:00:00:00:00:77 --size 4M
try ns-node-del ip netns exec other "$C" node del 2
try ns-dev-add ip netns exec other "$C" dev add omx1 --size 4M --nodes 1
try ns-dev-del ip netns exec other "$C" dev del omx0
if as_nobody true; then
	touch "$S/unpriv-works"
	try unpriv-node-show as_nobody "$C" -j node show
	try unpriv-node-add as_nobody "$C" node add eth0 02:00:00:00:00:77 --size 4M
fi
snapshot omxctl

# Frames with the pool node's MAC and with the lending's client's from another namespace, on a
# veth whose index is eth0's (its peer's index is none of this host's, so that only va
# collides).
ip -n other link add va index "$idx1" type veth peer name vb index 1000
ip -n other link set va up
ip -n other link set vb up
va_mac=$(ip -n other -j link show va | jq -r '.[0].address')
snapshot frames-before
for src in "$POOL_MAC" "$LEND_MAC"; do
	ip netns exec other python3 - vb "$va_mac" "$src" "$FRAMES" <<'EOF'
import socket, sys
ifname, dst, src, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
mac = lambda m: bytes.fromhex(m.replace(':', ''))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
# EtherType 0xAAAA, 64 bytes of zeros: a node's connection would count it as malformed.
frame = mac(dst) + mac(src) + b'\xaa\xaa' + bytes(64)
for _ in range(n):
    s.send(frame)
EOF
done
# Until omx_mod counted them all as other-namespace frames (at most 10 s; never on a module
# that takes them for the node's).
for _ in $(seq 100); do
	[ "$("$C" -j stats | jq '.module.rx_other_netns // 0')" -ge $((2 * FRAMES)) ] && break
	sleep 0.1
done
snapshot frames-after
echo $((2 * FRAMES)) >"$S/frames-sent"
io_check frames

# An interface with node 1's index created and deleted in that namespace as root (and the
# veth with it), then in an unprivileged user's namespace with node 1's and node 2's indexes.
ip -n other link del va
ip -n other link add d0 index "$idx1" type dummy
ip -n other link del d0
ip netns del other
snapshot root-netns
if [ -e "$S/unpriv-works" ]; then
	try unpriv-links as_nobody sh -c "ip link add d1 index $idx1 type dummy && ip link add d2 index $idx2 type dummy && ip link del d1 && ip link del d2"
	snapshot unpriv-netns
fi
io_check end

"$C" lend del 1
"$C" dev del omx0
"$C" node del 2
"$C" node del 1
rmmod omx_mod
touch "$S/ok"
