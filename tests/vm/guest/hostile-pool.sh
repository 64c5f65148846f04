# A pool node VM (pool.sh) that also records the daemon's peak resident memory (VmHWM) in
# /mnt/shared/node-hwm every 2 s: hostile peers must not make it grow without bound.
# Args: as pool.sh.
(
	while sleep 2; do
		p=$(pidof omx-node) && grep VmHWM "/proc/$p/status" >/mnt/shared/node-hwm.tmp &&
			mv /mnt/shared/node-hwm.tmp /mnt/shared/node-hwm
	done
) &
. "$OMX_ROOT/tests/vm/guest/pool.sh"
