#!/usr/bin/env bash
# The omx generic netlink family against the live module: omxctl commands, strict policies
# on hand-made malformed requests (with extended-ACK messages), CAP_NET_ADMIN, the kernel's
# YNL CLI driving the YAML spec, events, and bounded dead-node detection.
. "$(dirname "$0")/lib.sh"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/control-plane.sh" "$(kernel_src_dir)"
vm_wait
out=$SHARED/out

expect() { # file pattern what
	grep -qE "$2" "$out/$1" || fail "$3: $(cat "$out/$1")"
}
expect not-loaded.txt 'omx_mod is not loaded' "omxctl without the module"
expect dmesg-load.txt 'omx_mod: omx_proto self-tests: pass' "the codec self-test at load"
expect add.txt '^1$' "node add prints the new id"
[ "$(jq -r '.nodes[0].peer_mac' "$out/show.json")" = 52:54:00:0a:aa:02 ] || fail "show -j: $(cat "$out/show.json")"
expect eperm.txt 'permission denied.*CAP_NET_ADMIN' "unprivileged node add"
[ "$(grep -c 'permission denied' "$out/eperm.txt")" = 2 ] || fail "unprivileged node del was not refused"
jq -e '.nodes | length == 1' "$out/show-unprivileged.json" >/dev/null || fail "unprivileged read failed"
expect duplicate.txt 'already exists' "duplicate node"
expect no-interface.txt 'no such interface eth9' "unknown interface"
expect mtu.txt 'larger than the interface' "mtu above the interface's"
expect bad-mac.txt "invalid MAC address 'zz:54:00:0a:aa:05'" "bad MAC"
expect ynl-dump.txt "'peer-mac': b'RT\\\\x00\\\\n\\\\xaa\\\\x02'|'id': 1" "ynl cli dump"
jq -e '.state == "dead"' "$out/node-after-3s.json" >/dev/null ||
	fail "a node with no pool node behind it is not dead after 3 s: $(cat "$out/node-after-3s.json")"
expect del-again.txt 'no such node 1' "deleting twice"
grep -q '"state": *"dead"' "$out/monitor.jsonl" || fail "monitor saw no dead event: $(cat "$out/monitor.jsonl")"

# Every malformed request is refused with the right errno, most with an extack message.
while read -r name want; do
	line=$(grep "^$name " "$out/genl-raw.txt") || fail "genl-raw case $name did not run"
	[[ $line == *"errno=$want "* ]] || fail "genl-raw $name: want $want, got: $line"
done <<'CASES'
ifname-not-nul-terminated EINVAL
ifname-too-long EINVAL
mac-5-bytes ERANGE
size-as-u32 EINVAL
byte-order-out-of-range ERANGE
unknown-attribute EINVAL
id-not-settable EINVAL
missing-mac EINVAL
missing-everything EINVAL
zero-size EINVAL
unaligned-size EINVAL
broadcast-mac EINVAL
truncated-attribute EINVAL
del-missing-id EINVAL
del-unknown-node ENOENT
get-id-as-u8 EINVAL
unknown-command ENOTSUP
CASES
grep -c 'extack="[^"]' "$out/genl-raw.txt" | { read -r n; [ "$n" -ge 12 ] || fail "only $n cases carried an extack message"; }
cat "$out/genl-raw.txt"
