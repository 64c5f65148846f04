# Shared settings for the omx build and test scripts. Source it; do not run it.
# Everything large (kernel source and builds, bindgen) lives in a cache outside the repo.

OMX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OMX_CACHE=${OMX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/omx}

KERNEL_VERSION=6.12.117
KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz
BINDGEN_VERSION=0.70.1
BINDGEN=$OMX_CACHE/bindgen-$BINDGEN_VERSION/bin/bindgen

# Debian's rustc-web, not rustup's (which has no rust-src): module and kernel must share it.
KRUSTC=/usr/bin/rustc
KRUSTDOC=/usr/bin/rustdoc
# Debian's clippy of the same release (rust-web-clippy): rustup's clippy-driver cannot read
# crates compiled by another rustc.
KCLIPPY=/usr/bin/clippy-driver

# KERNEL_VARIANT=debug adds KASAN, lockdep and atomic-sleep checks.
KERNEL_VARIANT=${KERNEL_VARIANT:-normal}

die() { printf 'omx: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'omx: %s\n' "$*" >&2; }

# The kernel config fragments of the selected variant, in order.
kernel_fragments() {
	echo "$OMX_ROOT/qemu/kernel.config"
	[ "$KERNEL_VARIANT" = debug ] && echo "$OMX_ROOT/qemu/kernel-debug.config"
	[ "$KERNEL_VARIANT" = normal ] || [ "$KERNEL_VARIANT" = debug ] ||
		die "KERNEL_VARIANT must be 'normal' or 'debug', not '$KERNEL_VARIANT'"
	return 0
}

# Cache key: kernel version + fragment hash + rustc version, so any change rebuilds.
kernel_build_dir() {
	local frag_hash rustc_ver
	frag_hash=$(cat $(kernel_fragments) | sha256sum | cut -c1-12)
	rustc_ver=$("$KRUSTC" --version | awk '{print $2}')
	echo "$OMX_CACHE/kbuild-$KERNEL_VERSION-$KERNEL_VARIANT-$frag_hash-rustc$rustc_ver"
}

kernel_src_dir() { echo "$OMX_CACHE/linux-$KERNEL_VERSION"; }

# make arguments that run clippy on the module (the kernel's CLIPPY=1, with its lint list, which
# includes undocumented_unsafe_blocks) under omx_mod/clippy.toml; none if the matching clippy is
# missing.
module_clippy_args() {
	[ -x "$KCLIPPY" ] && [ "$("$KCLIPPY" --rustc --version 2>/dev/null)" = "$("$KRUSTC" --version)" ] || return 0
	echo CLIPPY=1 CLIPPY_DRIVER=$KCLIPPY CLIPPY_CONF_DIR=$OMX_ROOT/omx_mod
}

# make arguments shared by the kernel and the out-of-tree module builds.
kernel_make_args() {
	echo LLVM=1 RUSTC=$KRUSTC HOSTRUSTC=$KRUSTC RUSTDOC=$KRUSTDOC BINDGEN=$BINDGEN \
		RUST_LIB_SRC=$("$KRUSTC" --print sysroot)/src/rustc-$("$KRUSTC" --version | awk '{print $2}')/library
}
