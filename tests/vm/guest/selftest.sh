# Guest side of the link self-test: load omx_mod, wait until its probes were echoed by the
# other VMs' omx_mod, wait for every VM to get there, unload. Args: number of VMs.
vms=$1
insmod "$OMX_ROOT/omx_mod.ko"
for _ in $(seq 120); do
	dmesg | grep -q 'omx_mod: self-test passed' && break
	sleep 0.5
done
dmesg | grep 'omx_mod: self-test passed'
touch "/mnt/shared/$(hostname).passed"
for _ in $(seq 120); do
	[ "$(ls /mnt/shared/*.passed | wc -l)" -ge "$vms" ] && break
	sleep 0.5
done
sleep 1
rmmod omx_mod
dmesg | grep 'omx_mod: unloaded'
