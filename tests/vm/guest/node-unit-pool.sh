# Pool side of 16-node-unit (VM 2, booted with systemd and udev): omx-node@.service as make
# install put it, enabled for an interface that does not exist yet. The interface (a macvlan
# on eth0 with its own MAC) then appears as a hot-plugged NIC does: udev announces it, its
# device unit becomes active and pulls the node in. It serves VM 1, shrugs off a SIGHUP, stops
# cleanly when the interface goes, and starts again when it comes back.
. "$OMX_ROOT/tests/vm/guest/lib.sh"
unit=omx-node@omx0.service
mac=52:54:00:0a:ab:02
# wait_unit STATE: until the unit is STATE (active, inactive, ...), at most 60 s.
wait_unit() {
	local now deadline=$((SECONDS + 60))
	while [ $SECONDS -lt $deadline ]; do
		now=$(systemctl is-active $unit || true)
		[ "$now" = "$1" ] && return 0
		sleep 0.1
	done
	echo "$unit is $now, not $1"
	systemctl status --no-pager $unit || true
	exit 1
}
interface_appears() {
	ip link add link eth0 name omx0 address $mac type macvlan mode bridge
	ip link set omx0 up
}
main_pid() { systemctl show -P MainPID $unit; }

echo "pid 1: $(cat /proc/1/comm); udev: $(systemctl is-active systemd-udevd)"
# As a package manager unpacks: /lib here is a symlink to /usr/lib, and stays one.
tar -C "$S/root" -c . | tar -C / -x --keep-directory-symlink
systemctl daemon-reload
mkdir -p /etc/omx
echo "OMX_NODE_ARGS=\"--size 64M --client $(node_mac 1)=64M\"" >/etc/omx/omx-node-omx0.conf
systemctl enable $unit
sleep 2
[ "$(systemctl is-active $unit || true)" = inactive ] || { echo "$unit runs without its interface"; exit 1; }

interface_appears
wait_unit active
first=$(main_pid)
echo "$unit started when omx0 appeared (pid $first)"
# A hangup changes nothing (options are read at start).
systemctl kill -s HUP $unit
sleep 1
[ "$(systemctl is-active $unit)" = active ] && [ "$(main_pid)" = "$first" ] ||
	{ echo "SIGHUP ended the node"; exit 1; }
touch "$S/vm2.daemon-up"
wait_file "$S/vm1.io-done"
[ -e "$S/vm1.io-ok" ] || { echo "the client's I/O through the node failed"; exit 1; }

ip link del omx0
wait_unit inactive
result=$(systemctl show -P Result $unit) status=$(systemctl show -P ExecMainStatus $unit)
echo "$unit stopped when omx0 went: result $result, exit status $status"
[ "$result" = success ] && [ "$status" = 0 ] || { echo "not a clean stop"; exit 1; }

interface_appears
wait_unit active
[ "$(main_pid)" != "$first" ] || { echo "no new daemon"; exit 1; }
echo "$unit started again when omx0 came back (pid $(main_pid))"

journalctl -b -u $unit --no-pager -o short-monotonic | tail -30
# Lines reach the journal with their own priority: the <6> prefix is taken, not shown.
journalctl -b -u $unit -o json | jq -e -s 'any(.[]; .PRIORITY == "6" and (.MESSAGE | startswith("info  omx-node: SIGHUP")))' >/dev/null ||
	{ echo "the SIGHUP line is not in the journal at priority 6 (info)"; exit 1; }
touch "$S/vm2.unit-ok"
