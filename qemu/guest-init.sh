#!/bin/bash
# PID 1 of an omx test guest. The root file system is the host's, shared read-only over 9p,
# so host-built binaries and Debian tools run unchanged. Runs $OMX_RUN (from the kernel
# command line), prints its exit status, and powers the guest off.
# With OMX_INIT=systemd (tests/vm/lib.sh VM_INIT) the guest boots the host's systemd and udev
# instead, on a writable overlay of that root, and a unit runs this script for the test.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp TERM=dumb

# boot_systemd: the root becomes an overlay (the 9p root under a tmpfs) where units can be
# installed and enabled; omx-test.target starts what basic.target holds (journald, udevd and
# its coldplug) and omx-test.service, which runs this script again (OMX_INIT=systemd-test).
boot_systemd() {
	local new=/mnt/root var
	mount -t tmpfs -o mode=0755 tmpfs /mnt
	mkdir -p /mnt/upper /mnt/work $new
	mount -t overlay overlay -o lowerdir=/,upperdir=/mnt/upper,workdir=/mnt/work $new
	mkdir -p $new/mnt/shared $new/oldroot $new/etc/systemd/system
	# The host is a container: this file would make systemd and udev believe the guest is one
	# too (they would then read their options from PID 1's arguments, not the kernel's).
	rm -f $new/.dockerenv
	mount -t 9p -o trans=virtio,version=9p2000.L,cache=none omxshare $new/mnt/shared
	for var in "${!OMX_@}"; do
		[ "$var" = OMX_INIT ] || printf '%s=%s\n' "$var" "${!var}"
	done >$new/etc/omx-guest.env
	echo OMX_INIT=systemd-test >>$new/etc/omx-guest.env
	cat >$new/etc/systemd/system/omx-test.target <<-UNIT
		[Unit]
		Description=omx test guest
		Requires=basic.target omx-test.service
		After=basic.target
		AllowIsolate=yes
	UNIT
	cat >$new/etc/systemd/system/omx-test.service <<-UNIT
		[Unit]
		Description=omx test guest script
		After=basic.target
		[Service]
		Type=oneshot
		EnvironmentFile=/etc/omx-guest.env
		ExecStart=/bin/bash \${OMX_ROOT}/qemu/guest-init.sh
		StandardOutput=tty
		StandardError=tty
		TTYPath=/dev/console
	UNIT
	cd $new
	pivot_root . oldroot
	exec chroot . /lib/systemd/systemd --unit=omx-test.target
}
[ "${OMX_INIT:-}" != systemd ] || boot_systemd

# mount_scratch: the API file systems and writable scratch space (systemd mounts its own).
mount_scratch() {
	mount -t proc proc /proc
	mount -t sysfs sysfs /sys
	mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
	# What udev would add: bash's process substitution needs /dev/fd.
	[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
	# Writable scratch directories. The repository (and the cache) may live under one of them on
	# the host (a CI clone in /tmp, say): keep those paths visible through bind mounts.
	mount -t tmpfs -o mode=0755 tmpfs /run
	keep=()
	for path in "${OMX_ROOT:-}" ${OMX_KEEP//:/ }; do
		case "$path" in /tmp/* | /var/tmp/* | /mnt/*) ;; *) continue ;; esac
		mkdir -p "/run/omx-keep/${#keep[@]}"
		mount --bind "$path" "/run/omx-keep/${#keep[@]}"
		keep+=("$path")
	done
	for dir in /tmp /var/tmp /mnt; do
		mount -t tmpfs -o mode=0755 tmpfs "$dir"
	done
	for i in "${!keep[@]}"; do
		mkdir -p "${keep[$i]}"
		mount --move "/run/omx-keep/$i" "${keep[$i]}"
	done
	chmod 1777 /tmp /var/tmp
	mkdir -p /dev/shm /mnt/shared && mount -t tmpfs tmpfs /dev/shm
	# The test's shared directory (read-write): barriers, results, module builds.
	mount -t 9p -o trans=virtio,version=9p2000.L,cache=none omxshare /mnt/shared 2>/dev/null
}
[ "${OMX_INIT:-}" = systemd-test ] || mount_scratch

# A reserve for atomic allocations, as the admin guide advises for swap over the network:
# under swap, virtio-net refills its receive ring with GFP_ATOMIC pages, which fail once free
# memory is below what they may take (the default reserve of a 256 MiB guest is 2 MiB).
sysctl -qw vm.min_free_kbytes=16384
if [ -n "${OMX_DEBUG_KERNEL:-}" ]; then
	# KASAN keeps freed objects in a quarantine that it trims only when something allocates
	# with GFP_KERNEL. Frames are allocated and freed in atomic context, so under swap
	# traffic nothing trims it: it grew to 150 MiB of freed skbs and the OOM killer ran.
	# Every fork allocates with GFP_KERNEL.
	(while :; do sleep 0.2; done) </dev/null >/dev/null 2>&1 &
fi
hostname "${OMX_NAME:-omx-guest}"
ip link set lo up
ip link set eth0 up 2>/dev/null

# A debug kernel with kmemleak: forget what boot left unreferenced, so that what is reported
# after the test is the test's (the module is unloaded by then: all it leaked is unreferenced).
kmemleak=/sys/kernel/debug/kmemleak
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
if [ -w $kmemleak ]; then
	echo scan >$kmemleak && echo clear >$kmemleak
fi

echo "omx-guest: ${OMX_NAME:-guest} up, running ${OMX_RUN:-nothing}"
rc=0
if [ -n "${OMX_RUN:-}" ]; then
	# As every shell test: stop at the first failing command, unset variable or pipeline stage.
	bash -euo pipefail "$OMX_RUN" ${OMX_ARGS//,/ }
	rc=$?
fi
if [ -w $kmemleak ]; then
	# Objects younger than 5 s are never reported: scan after they have aged.
	sleep 6
	echo scan >$kmemleak
	leaks=$(grep -c '^unreferenced object' $kmemleak)
	echo "omx-guest: kmemleak: $leaks unreferenced objects after the test"
	head -60 $kmemleak
fi
echo "omx-guest: exit $rc"
sync
exec busybox reboot -f
