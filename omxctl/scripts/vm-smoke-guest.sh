# Guest side of a manual omxctl smoke test against the real omx_mod (not run by CI).
# Run from the host, in a scratch network namespace, with the VM harness:
#   OMX_KERNEL=.../bzImage OMX_TEST_DIR=$(mktemp -d -p /work) OMX_ROOT=$PWD unshare --net bash -c \
#     '. tests/vm/lib.sh; segment_up; vm_start 1 $OMX_ROOT/omxctl/scripts/vm-smoke-guest.sh; vm_wait; cat $OMX_TEST_DIR/vm1.log'
# (cargo build -p omxctl first; the guest runs target/debug/omxctl from the shared root fs).
set +e
C=${OMX_ROOT:-/work/main}/target/debug/omxctl
echo "== before insmod"; $C node show; echo "rc=$?"
insmod $OMX_ROOT/omx_mod.ko; echo "insmod rc=$?"
ip link show eth0 | head -2
(timeout 25 $C -j monitor > /mnt/shared/monitor.json 2>&1 &)
(timeout 25 $C monitor > /mnt/shared/monitor.txt 2>&1 &)
sleep 1
echo "== show"; $C show; echo "rc=$?"
echo "== node add"; $C node add eth0 02:00:00:00:00:99 --size 4G; echo "rc=$?"
echo "== node add dup"; $C node add eth0 02:00:00:00:00:99 --size 4G; echo "rc=$?"
echo "== node add own mac"; $C node add eth0 52:54:00:0a:aa:01 --size 4G; echo "rc=$?"
echo "== node add no iface"; $C node add nosuch0 02:00:00:00:00:98 --size 4G; echo "rc=$?"
echo "== node add mtu"; $C node add eth0 02:00:00:00:00:97 --size 1G --mtu 100; echo "rc=$?"
echo "== node add 1.0.3 raw"; $C -j node add eth0 02:00:00:00:00:96 --size 1G --version 1.0.3 --byte-order raw --mtu 1400; echo "rc=$?"
sleep 2
echo "== node show"; $C node show; echo "rc=$?"
echo "== node show 1"; $C node show 1; echo "rc=$?"
echo "== -j node show 2"; $C -j node show 2; echo "rc=$?"
echo "== node show 9"; $C node show 9; echo "rc=$?"
echo "== stats"; $C stats; echo "rc=$?"
echo "== -j stats"; $C -j stats | head -12; echo "rc=$?"
echo "== dev add"; $C dev add omx0 --size 8G; echo "rc=$?"
echo "== dev show"; $C dev show; echo "rc=$?"
echo "== show"; $C show; echo "rc=$?"
echo "== as nobody"; setpriv --reuid=65534 --regid=65534 --clear-groups $C node del 1; echo "rc=$?"
echo "== node del 1"; $C node del 1; echo "rc=$?"
echo "== node del 1 again"; $C node del 1; echo "rc=$?"
sleep 1
echo "== node del 2"; $C node del 2; echo "rc=$?"
sleep 3
echo "== monitor.txt"; cat /mnt/shared/monitor.txt
echo "== monitor.json"; cat /mnt/shared/monitor.json
rmmod omx_mod; echo "rmmod rc=$?"
