# Pool VM of scripts/bench/profile.sh: omx's pool (omx_mod's in-kernel pool node, or omx-node with
# PROFILE_POOL=node), and perf over the window of each client job (announced by
# /mnt/shared/profile-<job>).
. "$OMX_ROOT/tests/vm/guest/lib.sh"
. /mnt/shared/profile.env
set -u
secs=${PROFILE_SECS:-15}
ip link set eth0 mtu "${PROFILE_MTU:-1500}"
if [ "${PROFILE_POOL:-kernel}" = kernel ]; then
	insmod "$OMX_ROOT/omx_mod.ko"
	"$C" lend add eth0 "$(node_mac 1)" --size 288M
else
	"$OMX_ROOT/target/release/omx-node" --iface eth0 --size 288M --first-come --log-level warn &
	sleep 1
fi
touch "$S/vm2.daemon-up"
for job in ${PROFILE_JOBS:-randread:4k:32 randread:4k:1 read:1m:8}; do
	IFS=: read -r rw bs qd <<<"$job"
	name=$rw-$bs-qd$qd
	wait_file "$S/profile-$name" || break
	! command -v ethtool >/dev/null || ethtool -S eth0 >"$S/$name.pool-nic.a"
	perf record -q -a -g -e cpu-clock -F 1000 -o "/tmp/$name.data" -- sleep "$secs"
	! command -v ethtool >/dev/null || ethtool -S eth0 >"$S/$name.pool-nic.b"
	perf report -i "/tmp/$name.data" --no-children --sort sym --stdio 2>/dev/null |
		grep -E '^ +[0-9.]+%' | sed -n 1,40p >"$S/$name.pool.tmp"
	mv "$S/$name.pool.tmp" "$S/$name.pool.txt"
done
wait_file "$S/done"
