# Guest side of the control-plane test: omxctl, raw malformed requests, an unprivileged
# user, the kernel's YNL CLI and the event monitor against the live module. Results go to
# /mnt/shared/out for the host to check. Args: the kernel source tree (for tools/net/ynl).
ksrc=$1
. "$OMX_ROOT/tests/vm/guest/lib.sh"
out=/mnt/shared/out
mkdir -p "$out"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

must_fail "$C" node show 2>"$out/not-loaded.txt"
insmod "$OMX_ROOT/omx_mod.ko"
dmesg >"$out/dmesg-load.txt"

"$C" -j monitor >"$out/monitor.jsonl" &
monitor=$!
sleep 0.5
/usr/bin/python3 "$OMX_ROOT/tests/tools/genl-raw.py" >"$out/genl-raw.txt"
"$C" node add eth0 52:54:00:0a:aa:02 --size 64M >"$out/add.txt"
"$C" -j show >"$out/show.json"
must_fail as_nobody "$C" node add eth0 52:54:00:0a:aa:03 --size 1M 2>"$out/eperm.txt"
must_fail as_nobody "$C" node del 1 2>>"$out/eperm.txt"
as_nobody "$C" -j show >"$out/show-unprivileged.json"
must_fail "$C" node add eth0 52:54:00:0a:aa:02 --size 64M 2>"$out/duplicate.txt"
must_fail "$C" node add eth9 52:54:00:0a:aa:05 --size 64M 2>"$out/no-interface.txt"
must_fail "$C" node add eth0 52:54:00:0a:aa:05 --size 64M --mtu 9000 2>"$out/mtu.txt"
must_fail "$C" node add eth0 zz:54:00:0a:aa:05 --size 64M 2>"$out/bad-mac.txt"
/usr/bin/python3 "$ksrc/tools/net/ynl/cli.py" --spec "$OMX_ROOT/Documentation/netlink/specs/omx.yaml" \
	--schema "$ksrc/Documentation/netlink/genetlink.yaml" --dump node-get >"$out/ynl-dump.txt"
# No pool node answers at 52:54:00:0a:aa:02: the node must be declared dead in bounded time.
sleep 3
"$C" -j node show 1 >"$out/node-after-3s.json"
"$C" node del 1
must_fail "$C" node del 1 2>"$out/del-again.txt"
sleep 0.5
kill "$monitor"
rmmod omx_mod
