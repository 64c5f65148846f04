# The pool node of 43-lend (VM 2): lends 256 MiB to VM 1 from the kernel, checks what the
# lending refuses, and once the client is done reports the lending, removes it and unloads
# the module.
set -euo pipefail
. "$OMX_ROOT/tests/vm/guest/lib.sh"
ip link set eth0 mtu 9000
insmod "$OMX_ROOT/omx_mod.ko"
id=$("$C" lend add eth0 "$(node_mac 1)" --size 256M)
refused "already" "$C" lend add eth0 "$(node_mac 1)" --size 64M
refused "own address" "$C" lend add eth0 "$(node_mac 2)" --size 64M
refused "multiple of 4096" "$C" lend add eth0 "$(node_mac 3)" --size 1000
# A peer is a pool node of this host or a client it lends to, not both.
refused "lends memory" "$C" node add eth0 "$(node_mac 1)" --size 64M
node=$("$C" node add eth0 "$(node_mac 3)" --size 64M)
refused "pool node of this host" "$C" lend add eth0 "$(node_mac 3)" --size 64M
"$C" node del "$node"
touch "$S/lend-refusals.ok"
"$C" lend show
# `omxctl show` lists the lending beside the (absent) nodes and devices.
grep -q '^lendings:' <<<"$("$C" show)"
"$C" -j show | jq -e --arg m "$(node_mac 1)" '.lendings | length == 1 and .[0].client_mac == $m' >/dev/null
touch "$S/vm2.daemon-up"
wait_file "$S/io.done"
"$C" -j lend show >"$S/lend.json"
touch "$S/lend.shown"
# Made again for the same client: new memory, new contents identity.
wait_file "$S/relend"
"$C" lend del "$id"
id=$("$C" lend add eth0 "$(node_mac 1)" --size 256M)
touch "$S/relent"
wait_file "$S/done"
"$C" lend show "$id"
"$C" lend del "$id"
[ "$("$C" -j lend show)" = "[]" ]
rmmod omx_mod
touch "$S/lend-del.ok"
