#!/usr/bin/env bash
# clippy finds nothing:
# - in the module: a build of the tree's sources (a scratch copy) through the kernel's CLIPPY=1
#   with Debian's clippy of the kernel's rustc (lint list of the kernel's Makefile, including
#   undocumented_unsafe_blocks; omx_mod/clippy.toml), warnings denied;
# - on the host, in the no_std crates the module compiles in (omx_proto, omx_logic),
#   tests included, with undocumented_unsafe_blocks too.
# Prints file:line: lint of each finding; exits 1 if there is any.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
cd "$OMX_ROOT"

# file:line: message of each finding in rustc's output, paths relative to the tree.
findings() { # output root
	awk -v root="$2/" '
		/^(warning|error)(\[[^]]*\])?: / { msg = $0; next }
		/^ *--> / && msg != "" {
			loc = $2; sub("^" root, "", loc); sub(/omx_mod\/\.\.\//, "", loc); sub(/:[0-9]+$/, "", loc)
			print loc ": " msg; msg = ""
		}' "$1" | sort -u
}

bad=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

kdir=$(kernel_build_dir)
if [ -z "$(module_clippy_args)" ]; then
	echo "no clippy matching $KRUSTC at $KCLIPPY (package rust-web-clippy; make deps)"; bad=1
elif [ ! -f "$kdir/.omx-built" ]; then
	echo "guest kernel not built yet (make kernel)"; bad=1
else
	# The sources as they are in the tree (tracked and new files), without build products.
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z --cached --others --exclude-standard | tar -c --null -T - -f - | tar -x -C "$scratch"
	else
		tar -c --exclude=./target --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
			--exclude=./omx_mod/sys/bindings_generated.rs -f - . | tar -x -C "$scratch"
	fi
	# shellcheck disable=SC2046
	make -s -C "$kdir" M="$scratch" $(kernel_make_args) $(OMX_ROOT=$scratch module_clippy_args) \
		KRUSTFLAGS=-Dwarnings -j"$(nproc)" modules >"$scratch/module.log" 2>&1
	rc=$?
	findings "$scratch/module.log" "$scratch"
	if [ $rc != 0 ]; then
		echo "module build with CLIPPY=1 failed (exit $rc)"; tail -5 "$scratch/module.log"; bad=1
	fi
fi

crates=(-p omx_proto)
crates+=(-p omx_logic)
cargo clippy --quiet "${crates[@]}" --all-targets --release --color never -- \
	-D warnings -D clippy::undocumented_unsafe_blocks >"$scratch/host.log" 2>&1
rc=$?
findings "$scratch/host.log" "$OMX_ROOT"
if [ $rc != 0 ]; then
	echo "cargo clippy ${crates[*]} failed (exit $rc)"; tail -5 "$scratch/host.log"; bad=1
fi
exit $bad
