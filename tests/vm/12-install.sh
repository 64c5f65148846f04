#!/usr/bin/env bash
# The module built against a distribution-style headers tree (scripts/headers-tree.sh: what a
# linux-headers package ships, plus the Rust metadata) with KDIR=, in a copy of the tree, and
# make install of it into a staging root the guest sees (DESTDIR), then in the guest: `modprobe -d`
# finds omx_mod through depmod's index and loads it, the installed omxctl talks to it, the
# installed man page and completion are there, the unit names the installed binary. Back on
# the host, make uninstall removes every file install listed.
. "$(dirname "$0")/lib.sh"

root=$SHARED/root
hdr=$OMX_TEST_DIR/headers tree=$OMX_TEST_DIR/tree
bash "$OMX_ROOT/scripts/headers-tree.sh" "$hdr"
[ ! -e "$hdr/vmlinux" ] && [ ! -d "$hdr/kernel" ] || fail "the headers tree holds more than headers"
mkdir -p "$tree"
tar -C "$OMX_ROOT" --exclude=./target --exclude=./.git --exclude='*.ko' --exclude='*.o' -cf - . | tar -C "$tree" -xf -
KDIR=$hdr bash "$tree/scripts/build-module.sh"
KDIR=$hdr OMX_MODULE=$tree/omx_mod.ko DESTDIR=$root PREFIX=/usr/local bash "$OMX_ROOT/scripts/install.sh" install
cmp -s "$tree/omx_mod.ko" "$root/lib/modules/$(cat "$hdr/include/config/kernel.release")/extra/omx_mod.ko" ||
	fail "make install did not install the module built against the headers tree"
listed=$(wc -l <"$root/usr/local/share/omx/installed-files")
[ "$listed" -ge 20 ] || fail "install listed only $listed files"
while IFS= read -r f; do
	[ -f "$root$f" ] || fail "install listed $f but did not install it"
done <"$root/usr/local/share/omx/installed-files"
for unit in omx-node.service omx-node@.service; do
	grep -q "^ExecStart=/usr/local/bin/omx-node " "$root/usr/local/lib/systemd/system/$unit" ||
		fail "the installed $unit does not start the installed omx-node"
done
grep -q "^ExecStart=/usr/local/bin/omxctl up " "$root/usr/local/lib/systemd/system/omx-client.service" ||
	fail "the installed omx-client.service does not run the installed omxctl"

segment_up
vm_start 1 "$OMX_ROOT/tests/vm/guest/install-client.sh"
vm_wait
[ -e "$SHARED/install.ok" ] || fail "the installed module or tools did not work in the guest"
log_grep 1 'omx_mod: loaded: OmniXtend' || fail "modprobe did not load omx_mod"

DESTDIR=$root PREFIX=/usr/local bash "$OMX_ROOT/scripts/install.sh" uninstall
left=$(find "$root" -type f ! -name 'modules.*' | head -5)
[ -z "$left" ] || fail "uninstall left files behind: $left"
