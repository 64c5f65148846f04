# Client VM of the demo: loads omx_mod, registers the pool node on VM 2, shows it.
C=$OMX_ROOT/target/release/omxctl
S=/mnt/shared
for _ in $(seq 600); do [ -e "$S/vm2.daemon-up" ] && break; sleep 0.1; done
echo "demo\$ insmod omx_mod.ko"
insmod "$OMX_ROOT/omx_mod.ko"
echo "demo\$ omxctl node add eth0 52:54:00:0a:aa:02 --size 64M"
"$C" node add eth0 52:54:00:0a:aa:02 --size 64M
for _ in $(seq 100); do [ "$("$C" -j node show 1 | jq -r .state)" = up ] && break; sleep 0.1; done
echo "demo\$ omxctl show"
"$C" show
sleep 2
echo "demo\$ omxctl stats"
"$C" stats
"$C" node del 1
rmmod omx_mod
touch "$S/done"
