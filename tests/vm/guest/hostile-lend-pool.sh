# The pool node of 63-hostile-lend (VM 2): lends 128 MiB to VM 1 and 32 MiB to the hostile
# client's MAC (argument 1) from the kernel, no daemon. While the host's fuzzer runs it keeps
# the module's counters in /mnt/shared/pool-live.json (the fuzzer's pacing) and the peak of
# the kernel's slab and vmalloc memory in /mnt/shared/pool-mem-peak (KiB); it records the
# counters before, between the host's two phases (once /mnt/shared/fuzz-over appears) and
# at the end, then removes the lendings and unloads the module.
set -euo pipefail
. "$OMX_ROOT/tests/vm/guest/lib.sh"
hostile=$1
insmod "$OMX_ROOT/omx_mod.ko"
id=$("$C" lend add eth0 "$(node_mac 1)" --size 128M)
hid=$("$C" lend add eth0 "$hostile" --size 32M)
kernel_mem() { awk '/^(Slab|VmallocUsed):/ { kib += $2 } END { print kib }' /proc/meminfo; }
snapshot() { # NAME
	"$C" -j stats >"$S/pool-stats-$1.json"
	"$C" -j lend show >"$S/lends-$1.json"
}
kernel_mem >"$S/pool-mem-before"
snapshot before
(
	peak=0
	while [ ! -e "$S/done" ]; do
		"$C" -j stats >"$S/pool-live.tmp" && mv "$S/pool-live.tmp" "$S/pool-live.json"
		m=$(kernel_mem)
		if [ "$m" -gt "$peak" ]; then peak=$m && echo "$peak" >"$S/pool-mem-peak"; fi
		sleep 1
	done
) &
touch "$S/vm2.daemon-up"
until [ -e "$S/fuzz-over" ]; do sleep 0.2; done
snapshot mid
touch "$S/mid.ok"
until [ -e "$S/done" ]; do sleep 1; done
snapshot after
"$C" lend del "$id"
"$C" lend del "$hid"
rmmod omx_mod
touch "$S/pool.ok"
