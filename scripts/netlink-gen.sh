#!/usr/bin/env bash
# Generates the omx netlink family's code from Documentation/netlink/specs/omx.yaml:
#   scripts/netlink-gen.sh [ROOT]   writes under ROOT (default: the repository)
# the module's numbers, policies and operations (omx_mod/netlink_generated.rs), omxctl's
# numbers, enums and counter sets (omxctl/src/netlink/spec_generated.rs) and the uapi header
# (include/uapi/linux/omx.h, by the kernel's tools/net/ynl/ynl-gen-c.py). Run it after
# changing the spec and commit what it writes; scripts/checks/netlink-spec.sh fails until then.
# ynl-gen-c comes from the cached kernel tree, or else from the linux-source tarball
# (extracted once into the cache); it needs python3-yaml and python3-jsonschema (scripts/deps.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$OMX_ROOT}

ynl_tree() {
	local src ynl
	src=$(kernel_src_dir)
	if [ -f "$src/tools/net/ynl/ynl-gen-c.py" ] && [ -f "$src/Documentation/netlink/genetlink.yaml" ]; then
		echo "$src"
		return
	fi
	ynl=$OMX_CACHE/ynl-$KERNEL_VERSION
	if [ ! -f "$ynl/.omx-extracted" ]; then
		[ -f "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL missing (package linux-source-6.12; run scripts/deps.sh)"
		note "extracting ynl-gen-c from $KERNEL_TARBALL"
		rm -rf "$ynl" && mkdir -p "$ynl"
		tar -xJf "$KERNEL_TARBALL" -C "$ynl" --strip-components=1 --wildcards \
			'*/tools/net/ynl/*' '*/Documentation/netlink/genetlink.yaml'
		touch "$ynl/.omx-extracted"
	fi
	echo "$ynl"
}

python3 "$OMX_ROOT/scripts/netlink-gen.py" --ynl "$(ynl_tree)" --out "$out"
