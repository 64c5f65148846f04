# Guest side of 12-install: the module and tools as make install put them under /mnt/shared/root.
trap 'touch $S/done' EXIT
. "$OMX_ROOT/tests/vm/guest/lib.sh"
root=$S/root
modprobe -d "$root" omx_mod
grep -q '^omx_mod ' /proc/modules
"$root/usr/local/bin/omxctl" -j show | jq -e '.nodes == [] and .devices == []'
"$root/usr/local/bin/omx-node" --help | grep -q -- '--iface'
[ -s "$root/usr/local/share/man/man1/omxctl-node-add.1" ]
grep -q omxctl "$root/usr/local/share/bash-completion/completions/omxctl"
modprobe -d "$root" -r omx_mod
must_fail grep -q '^omx_mod ' /proc/modules
touch "$S/install.ok"
