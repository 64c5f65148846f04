#!/usr/bin/env bash
# Deleting the interface of a node that a device uses completes at once (omx_mod drops its
# reference on NETDEV_UNREGISTER), removes the node with an event, fails the device's I/O on
# it with EIO, and leaves dev del and rmmod working.
. "$(dirname "$0")/lib.sh"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/interface-removal.sh"
vm_wait
[ -e "$SHARED/ok" ] || fail "guest script did not finish"
awk '{ exit !($1 < 10) }' "$SHARED/t-del" || fail "ip link del took $(cat "$SHARED/t-del") s"
jq -e '.nodes | length == 0' "$SHARED/show.json" >/dev/null || fail "node still listed: $(cat "$SHARED/show.json")"
grep -q 'Input/output error' "$SHARED/dd.txt" || fail "read after removal: $(cat "$SHARED/dd.txt")"
jq -e -s 'any(.[]; .event == "node-state" and .node.ifname == "eth0.5")' "$SHARED/monitor.jsonl" >/dev/null ||
	fail "no node event: $(cat "$SHARED/monitor.jsonl")"
log_grep 1 'omx_mod: node 1: interface eth0.5 went away, node removed' || fail "no removal message"
echo "interface deleted in $(cat "$SHARED/t-del") s"
