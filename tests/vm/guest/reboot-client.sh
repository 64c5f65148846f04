# Client side of 14-client-reboot (VM 1), booted twice: arg 1 or 2, the boot. Runs the
# installed omx-client.service's commands as systemd would, with /etc/omx/omx.conf read from
# /mnt/shared/omx.conf (the guest's /etc is the host's, read-only) and the installed binaries
# and module under /mnt/shared/root.
. "$OMX_ROOT/tests/vm/guest/lib.sh"
boot=$1
root=$S/root
# The pool VM stops once the client is done: only after the last boot.
[ "$boot" = 1 ] || trap 'touch $S/done' EXIT
unit=$root/usr/local/lib/systemd/system/omx-client.service
# unit_cmd KEY: the unit's KEY= command line, pointed at the staging root and the test's file.
unit_cmd() {
	sed -n "s/^$1=//p" "$unit" | sed "s|/etc/omx/omx.conf|$S/omx.conf|g; s|/usr/local/bin/|$root/usr/local/bin/|g; s|^/sbin/modprobe|modprobe -d $root|"
}
start=$(unit_cmd ExecStart) stop=$(unit_cmd ExecStop)
case $start in *" up $S/omx.conf") ;; *) echo "unexpected ExecStart: $start"; exit 1 ;; esac
pool_rss() { rm -f "$S/vm2.rss-done"; touch "$S/rss-vm2"; wait_file "$S/vm2.rss-done"; cat "$S/vm2.rss"; }
swap_priority() { awk '$1 == "/dev/omx0" { print $5 }' /proc/swaps; }

wait_file "$S/vm2.daemon-up"
echo "boot $boot: $(unit_cmd ExecStartPre); $start"
$(unit_cmd ExecStartPre)
$start | tee /tmp/up.out
[ "$(swap_priority)" = 7 ] || { echo "no swap on /dev/omx0 at priority 7 after boot $boot:"; cat /proc/swaps; exit 1; }
"$root/usr/local/bin/omxctl" show

if [ "$boot" = 1 ]; then
	# Again: nothing to do (the unit may be restarted).
	$start | tee /tmp/up2.out
	[ "$(cat /tmp/up2.out)" = "nothing to do" ] || { echo "a second up was not a no-op"; exit 1; }
	# Pages into the swap: 48 MiB of non-zero pages in a 24 MiB memory cgroup.
	in_memory_cgroup 24 python3 -c '
import os, time
b = bytearray(48 << 20)
for i in range(0, len(b), 4096):
    b[i] = 0xA5
open("/tmp/hog.pid.new", "w").write(str(os.getpid()))
os.rename("/tmp/hog.pid.new", "/tmp/hog.pid")
time.sleep(600)' &
	wait_file /tmp/hog.pid
	used=$(awk '$1 == "/dev/omx0" { print $4 }' /proc/swaps)
	echo "swap used on /dev/omx0: $used KiB"
	[ "$used" -gt $((16 << 10)) ] || { echo "the workload put only $used KiB into swap"; exit 1; }
	before=$(pool_rss)
	kill "$(cat /tmp/hog.pid)"
	wait || true
	echo "shutdown: $stop"
	$stop | tee /tmp/down.out
	after=$(pool_rss)
	echo "omx-node's RSS: $before kB before shutdown, $after kB after"
	"$root/usr/local/bin/omxctl" -j show | jq -e '.nodes == [] and .devices == []' >/dev/null ||
		{ echo "down left nodes or devices"; exit 1; }
	grep -qx '\[#\] swapoff /dev/omx0' /tmp/down.out || { echo "down did not turn swap off"; exit 1; }
	[ $((before - after)) -ge $((8 << 10)) ] || { echo "shutdown gave back only $((before - after)) kB of the pool's memory"; exit 1; }
	touch "$S/boot1.ok"
else
	# Nothing of boot 1 is left: past mkswap's header page, the device reads zeros.
	dd if=/dev/omx0 bs=1M iflag=direct status=none | cmp -i 4096 -n $(((64 << 20) - 4096)) - /dev/zero ||
		{ echo "/dev/omx0 holds data from before the reboot"; exit 1; }
	$stop
	touch "$S/boot2.ok"
fi
