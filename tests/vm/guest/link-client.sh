# Client side of the link test (VM 1): registers the pool nodes on VMs 2 and 3, waits until
# both are up, lets the host inject bad frames, records the counters, unloads.
. "$OMX_ROOT/tests/vm/guest/lib.sh"
wait_file "$S/vm2.daemon-up"
wait_file "$S/vm3.daemon-up"
insmod "$OMX_ROOT/omx_mod.ko"
"$C" node add eth0 52:54:00:0a:aa:02 --size 64M
"$C" node add eth0 52:54:00:0a:aa:03 --size 64M --version 1.0.3
for _ in $(seq 200); do
	[ "$("$C" -j show | jq '[.nodes[] | select(.state == "up")] | length')" = 2 ] && break
	sleep 0.1
done
"$C" show
touch "$S/nodes-up"
wait_file "$S/injected"
"$C" -j stats >"$S/stats.json"
"$C" -j show >"$S/show.json"
"$C" node del 1
"$C" node del 2
rmmod omx_mod
must_fail grep -q '^omx_mod ' /proc/modules
touch "$S/done"
