# Guest side of the link self-test: load omx_mod, wait until its probes were echoed by the
# other VMs' omx_mod, tell the host, wait for the host's go, unload and show the counters.
insmod "$OMX_ROOT/omx_mod.ko"
for _ in $(seq 120); do
	dmesg | grep -q 'omx_mod: self-test passed' && break
	sleep 0.5
done
dmesg | grep -q 'omx_mod: self-test passed'
touch "/mnt/shared/$(hostname).passed"
for _ in $(seq 240); do
	[ -e /mnt/shared/unload ] && break
	sleep 0.5
done
"$OMX_ROOT/target/release/omxctl" -j stats >"/mnt/shared/$(hostname).stats.json"
rmmod omx_mod
! grep -q '^omx_mod ' /proc/modules
