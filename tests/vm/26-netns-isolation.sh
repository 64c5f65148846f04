#!/usr/bin/env bash
# Network namespaces cannot touch omx_mod's pool nodes and lendings, which belong to the
# initial one (Documentation/design.md, "Network namespaces"). VM 1 has node 1 on eth0 (VM 2's
# omx-node, omx0 on it), node 2 on a dummy interface, and lends 4 MiB on eth0 to a client MAC
# (`omxctl lend`). From another namespace (root with `ip netns`, and an unprivileged user with
# `unshare -rn`):
#   1. interfaces with the nodes' indexes created and deleted leave every node and the lending
#      listed and omx0 doing verified I/O;
#   2. frames with the pool node's MAC and with the lending's client's on a veth with eth0's
#      index change nothing on the node, reach no lending, and are counted in the module's
#      rx_other_netns;
#   3. omxctl's read commands answer with the host's nodes; node add, node del and dev del
#      fail with the kernel's message naming the initial namespace.
# Every verdict is printed (FAIL lines) before the test fails, so one run shows them all.
. "$(dirname "$0")/lib.sh"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/netns-client.sh"
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" "128M,--client,$(vm_mac 1)=64M"
vm_status=0
vm_wait || vm_status=$?

failed=0
check() { # DESCRIPTION COMMAND...: COMMAND must succeed
	local what=$1
	shift
	if "$@"; then echo "ok: $what"; else echo "FAIL: $what" >&2; failed=$((failed + 1)); fi
}
exists() { [ -e "$SHARED/$1" ]; }
rc_is() { [ "$(cat "$SHARED/$1.rc" 2>/dev/null)" = "$2" ]; }
rc_not() { [ -e "$SHARED/$1.rc" ] && [ "$(cat "$SHARED/$1.rc")" != 0 ]; }
said() { grep -qF -- "$2" "$SHARED/$1.out" 2>/dev/null; }
# has_nodes FILE: the JSON node list in FILE holds nodes 1 (eth0) and 2 (dummy0).
has_nodes() {
	jq -e 'if type == "object" then .nodes else . end | map({id, ifname}) ==
		[{"id": 1, "ifname": "eth0"}, {"id": 2, "ifname": "dummy0"}]' "$SHARED/$1" >/dev/null 2>&1
}
# delta FROM TO JQ-PATH [KIND]: how much a counter grew between two snapshots of KIND (stats:
# `omxctl -j stats`, the default; lends: `omxctl -j lend show`) ("missing" when a snapshot or
# the counter's node is missing).
delta() {
	local a b kind=${4:-stats}
	a=$(jq "$3 // 0" "$SHARED/$kind-$1.json" 2>/dev/null) || a=
	b=$(jq "$3 // 0" "$SHARED/$kind-$2.json" 2>/dev/null) || b=
	if [ -n "$a" ] && [ -n "$b" ]; then echo $((b - a)); else echo missing; fi
}
node1() { echo "(.nodes[] | select(.id == 1) | .stats.$1)"; }
# one_lending FILE: the JSON lending list in FILE holds the lending of the guest script.
one_lending() {
	jq -e 'map({id, client_mac}) == [{"id": 1, "client_mac": "02:00:00:00:00:55"}]' "$SHARED/$1" >/dev/null 2>&1
}
MSG='omx_mod: pool nodes belong to the initial network namespace; run omxctl there (e.g. nsenter -t 1 -n omxctl ...)'

check "the guest set up both nodes and omx0, and I/O worked at the start" exists io-start.ok

# 3. omxctl from another namespace.
check "node show in another namespace (root) answers" rc_is ns-node-show 0
check "node show in another namespace (root) lists the host's nodes" has_nodes ns-node-show.out
check "stats in another namespace (root) answers with the host's nodes" has_nodes ns-stats.out
for c in node-add node-del dev-add dev-del; do
	check "$c in another namespace fails" rc_not ns-$c
	check "$c in another namespace says why: $(head -c 200 "$SHARED/ns-$c.out" 2>/dev/null)" said ns-$c "$MSG"
done
check "nothing changed by them (nodes)" has_nodes nodes-omxctl.json
devices_are_omx0() { jq -e '.devices | map(.name) == ["omx0"]' "$SHARED/stats-omxctl.json" >/dev/null; }
check "nothing changed by them (devices)" devices_are_omx0
check "unprivileged user namespaces work in the guest" exists unpriv-works
check "node show as an unprivileged user in its own namespace answers" has_nodes unpriv-node-show.out
check "node add as an unprivileged user fails: $(head -c 200 "$SHARED/unpriv-node-add.out" 2>/dev/null)" \
	said unpriv-node-add 'permission denied: omxctl needs CAP_NET_ADMIN'

# 2. Frames with the pool node's MAC from another namespace.
sent=$(cat "$SHARED/frames-sent" 2>/dev/null || echo 0)
other=$(delta frames-before frames-after .module.rx_other_netns)
echo "sent $sent frames from another namespace; omx_mod counted $other in rx_other_netns; node 1:" \
	"malformed +$(delta frames-before frames-after "$(node1 malformed)")," \
	"rx_frames +$(delta frames-before frames-after "$(node1 rx_frames)")"
check "frames were sent" [ "$sent" -gt 0 ]
check "rx_other_netns counted every frame from another namespace ($other of $sent)" [ "$other" = "$sent" ]
for c in malformed integrity_errors out_of_window; do
	check "node 1's $c unchanged by them" [ "$(delta frames-before frames-after "$(node1 $c)")" = 0 ]
done
for c in rx_malformed rx_unknown_peer rx_dropped; do
	check "module's $c unchanged by them" [ "$(delta frames-before frames-after .module.$c)" = 0 ]
done
lend_rx=$(delta frames-before frames-after '.[0].stats.rx_frames' lends)
check "the lending took none of them (rx_frames +$lend_rx)" [ "$lend_rx" = 0 ]
check "omx0 did verified I/O after them: $(cat "$SHARED/io-frames.err" 2>/dev/null)" exists io-frames.ok

# 1. Interfaces with the nodes' indexes created and deleted in other namespaces.
check "every node is still listed after a root namespace's interfaces went away" has_nodes nodes-root-netns.json
check "the lending is still listed after a root namespace's interfaces went away" one_lending lends-root-netns.json
check "the unprivileged user created and deleted its interfaces: $(cat "$SHARED/unpriv-links.out" 2>/dev/null)" \
	rc_is unpriv-links 0
check "every node is still listed after an unprivileged namespace's interfaces went away" \
	has_nodes nodes-unpriv-netns.json
check "the lending is still listed after an unprivileged namespace's interfaces went away" \
	one_lending lends-unpriv-netns.json
check "omx0 did verified I/O at the end: $(cat "$SHARED/io-end.err" 2>/dev/null)" exists io-end.ok
check "no node was removed (kernel log)" eval '! log_grep 1 "went away, node removed"'

check "the guest script finished (dev del, node del, rmmod)" exists ok
check "the VMs finished cleanly" [ "$vm_status" = 0 ]
[ "$failed" = 0 ] || fail "$failed check(s) failed"
