# Guest side of the interface-removal test: a node on a VLAN interface used by a device; the
# interface is deleted while the device exists. Results go to /mnt/shared.
. "$OMX_ROOT/tests/vm/guest/lib.sh"
insmod "$OMX_ROOT/omx_mod.ko"
ip link add link eth0 name eth0.5 type vlan id 5
ip link set eth0.5 up
"$C" node add eth0.5 52:54:00:0a:aa:09 --size 64M
"$C" dev add omx0 --size 16M --nodes 1
"$C" -j monitor >"$S/monitor.jsonl" &
monitor=$!
sleep 0.5
# Must not wait for omx_mod's reference on the interface (unregister_netdevice would hang).
start=$(date +%s.%N)
timeout 60 ip link del eth0.5
echo "$(date +%s.%N) - $start" | bc >"$S/t-del"
"$C" -j show >"$S/show.json"
must_fail dd if=/dev/omx0 of=/dev/null bs=4096 count=1 iflag=direct 2>"$S/dd.txt"
"$C" dev del omx0
sleep 0.3
kill "$monitor"
rmmod omx_mod
touch "$S/ok"
