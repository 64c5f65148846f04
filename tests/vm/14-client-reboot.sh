#!/usr/bin/env bash
# A client configured by /etc/omx/omx.conf gets its swap back after a reboot with no command
# typed. make install puts omxctl, the module and omx-client.service into a staging root the
# guests see (DESTDIR); VM 2 lends memory (guest/pool.sh) all along; VM 1 boots twice
# (guest/reboot-client.sh), running the installed unit's commands as systemd runs them:
# ExecStartPre and ExecStart at boot, ExecStop at shutdown (the guests boot our own init, not
# systemd; 12-install and scripts/checks/units.sh check the unit itself).
#   boot 1: swap comes on /dev/omx0 at the configured priority; `up` again does nothing;
#     a workload pushes pages into it; shutdown turns it off and removes device and node,
#     and omx-node's RSS falls (dev del released the memory).
#   boot 2: the same commands bring the swap back on; the device holds nothing of boot 1
#     (all zeros after mkswap's header page), as the admin guide says.
. "$(dirname "$0")/lib.sh"

root=$SHARED/root
DESTDIR=$root PREFIX=/usr/local bash "$OMX_ROOT/scripts/install.sh" install >/dev/null
cat >"$SHARED/omx.conf" <<CONF
# written by tests/vm/14-client-reboot.sh
[Node pool]
Interface = eth0
MAC = $(vm_mac 2)
Size = 96M

[Device omx0]
Size = 64M
Nodes = pool
SwapPriority = 7
CONF

segment_up
vm_start 2 "$OMX_ROOT/tests/vm/guest/pool.sh" 128M
vm_start 1 "$OMX_ROOT/tests/vm/guest/reboot-client.sh" 1
wait "${VM_PIDS[1]}" || true
mv "$OMX_TEST_DIR/vm1.log" "$OMX_TEST_DIR/vm1-boot1.log"
grep -q '^omx-guest: exit 0' "$OMX_TEST_DIR/vm1-boot1.log" ||
	{ tail -20 "$OMX_TEST_DIR/vm1-boot1.log"; fail "boot 1 of VM 1 did not finish cleanly"; }
! grep -qE "$BAD_KERNEL_LOG" "$OMX_TEST_DIR/vm1-boot1.log" || fail "VM 1's kernel reported a problem in boot 1"
[ -e "$SHARED/boot1.ok" ] || fail "boot 1 did not get through"
ip link del tap1
vm_start 1 "$OMX_ROOT/tests/vm/guest/reboot-client.sh" 2
vm_wait
[ -e "$SHARED/boot2.ok" ] || fail "boot 2 did not get the swap back"
DESTDIR=$root PREFIX=/usr/local bash "$OMX_ROOT/scripts/install.sh" uninstall >/dev/null
