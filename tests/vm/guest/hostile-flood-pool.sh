# Pool side of the flood test (VM 2). First, with no huge pages reserved: omx-node refuses a
# --size twice this VM's RAM at start (exit code and message in /mnt/shared/size-check.*;
# the timeout only stops a daemon that wrongly started). Then pool.sh with the test's options
# (among them --hugepages, which must fall back to normal pages), and the daemon's peak
# resident memory (VmHWM, kB) recorded in /mnt/shared/node-hwm every second (a sample read
# while the daemon exits, from a zombie without Vm* lines, is empty and kept out). Args: as
# pool.sh.
S=/mnt/shared
echo 0 >/proc/sys/vm/nr_hugepages
ram_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
rc=0
timeout 10 "$OMX_ROOT/target/release/omx-node" --iface eth0 --size "$((2 * ram_mb))M" \
	--client 02:00:00:00:00:99=1M 2>"$S/size-check.err" || rc=$?
echo "$rc" >"$S/size-check.rc"
(
	while sleep 1; do
		p=$(pidof omx-node) &&
			awk '/^VmHWM:/ {print $2}' "/proc/$p/status" >"$S/node-hwm.tmp" &&
			[ -s "$S/node-hwm.tmp" ] && mv "$S/node-hwm.tmp" "$S/node-hwm"
	done
) &
. "$OMX_ROOT/tests/vm/guest/pool.sh"
