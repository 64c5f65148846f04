#!/usr/bin/env bash
# Installs what omx needs on Debian 12 (bookworm) x86_64: pinned apt packages and bindgen.
# Idempotent: does nothing when everything is already present.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# name=version pairs proven on this machine kind. When Debian drops a pinned version
# (point release, security update) we fall back to the current candidate and say so.
PINNED=(
	rustc-web=1.85.0+dfsg3-1~deb12u3
	rust-web-src=1.85.0+dfsg3-1~deb12u3
	libstd-rust-web-dev=1.85.0+dfsg3-1~deb12u3
	rust-web-clippy=1.85.0+dfsg3-1~deb12u3
	linux-source-6.12=6.12.117-1~deb12u1
	clang=1:14.0-55.7~deb12u1
	lld=1:14.0-55.7~deb12u1
	llvm=1:14.0-55.7~deb12u1
	libclang-14-dev=1:14.0.6-12
	flex=2.6.4-8.2
	bison=2:3.8.2+dfsg-1+b1
	bc=1.07.1-3+b1
	libelf-dev=0.188-2.1
	cpio=2.13+dfsg-7.1
	busybox-static=1:1.35.0-4+deb12u1+b1
	kmod=30+20221128-1
	fio=3.33-3
	tcpdump=4.99.3-1
	stress-ng=0.15.06-2
	nbd-client=1:3.24-1.1
	nbd-server=1:3.24-1.1
	nvme-cli=2.4+really2.3-3
	python3-yaml=6.0-3+b2
	python3-jsonschema=4.10.3-1
	python3-matplotlib=3.6.3-1+b1
)
# Unpinned: versions move with security updates and any recent one works.
# systemd and udev: booted by the guest of 16-node-unit (the host's root is the guest's).
UNPINNED=(qemu-system-x86 libssl-dev xz-utils iproute2 make gcc jq python3 systemd udev)

[ "$(id -u)" = 0 ] || die "run as root (apt-get is needed), or install these yourself: ${PINNED[*]%%=*} ${UNPINNED[*]}"
command -v apt-get >/dev/null || die "apt-get not found: omx's setup needs Debian 12 (bookworm)"

installed_version() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | awk '$3=="installed"{print $4}'; }

want=()
for pv in "${PINNED[@]}"; do
	name=${pv%%=*} ver=${pv#*=}
	[ "$(installed_version "$name")" = "$ver" ] || want+=("$pv")
done
for name in "${UNPINNED[@]}"; do
	[ -n "$(installed_version "$name")" ] || want+=("$name")
done

if [ ${#want[@]} -gt 0 ]; then
	note "installing: ${want[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed (no access to Debian's archive?)"
	resolved=()
	for pv in "${want[@]}"; do
		name=${pv%%=*}
		if [ "$pv" != "$name" ] && ! apt-cache madison "$name" | awk -F'|' '{gsub(/ /,"",$2); print $2}' | grep -qxF "${pv#*=}"; then
			note "warning: $pv is no longer offered by Debian; using the current $name instead"
			pv=$name
		fi
		apt-cache show "$name" >/dev/null 2>&1 || die "package $name is not available from apt (is this Debian 12 bookworm?)"
		resolved+=("$pv")
	done
	apt-get install -y -qq --no-install-recommends --allow-downgrades "${resolved[@]}" >/dev/null ||
		die "apt-get install failed for: ${resolved[*]}"
fi

"$KRUSTC" --version | grep -q '^rustc 1\.' || die "Debian's rustc-web is missing at $KRUSTC"
[ -d "$(kernel_make_args | tr ' ' '\n' | sed -n 's/^RUST_LIB_SRC=//p')/core" ] ||
	die "the Rust std source matching $KRUSTC is missing (package rust-web-src)"

if [ ! -x "$BINDGEN" ]; then
	command -v cargo >/dev/null || die "cargo not found: install Rust (rustup) to build bindgen-cli"
	note "installing bindgen-cli $BINDGEN_VERSION into $OMX_CACHE"
	cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION" \
		--root "$OMX_CACHE/bindgen-$BINDGEN_VERSION" || die "cargo install bindgen-cli $BINDGEN_VERSION failed"
fi
