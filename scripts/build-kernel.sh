#!/usr/bin/env bash
# Builds the guest kernel (Linux 6.12 with CONFIG_RUST) into the cache and prints its build dir.
# Cached under (kernel version, config fragment hash, rustc version): a warm run takes seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$(kernel_src_dir)
out=$(kernel_build_dir)
jobs=$(nproc)

if [ -f "$out/.omx-built" ]; then
	echo "$out"
	exit 0
fi

[ -f "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL missing (package linux-source-6.12; run scripts/deps.sh)"
[ -x "$BINDGEN" ] || die "bindgen missing at $BINDGEN (run scripts/deps.sh)"

if [ ! -f "$src/.omx-unpacked" ]; then
	note "unpacking $KERNEL_TARBALL into $src"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$KERNEL_TARBALL" -C "$src.tmp" --strip-components=1
	mv "$src.tmp" "$src"
	touch "$src/.omx-unpacked"
fi

mkdir -p "$out"
frag="$out/omx.config"
cat $(kernel_fragments) > "$frag"
args=$(kernel_make_args)

# shellcheck disable=SC2086
make -s -C "$src" O="$out" $args rustavailable >"$out/rustavailable.log" 2>&1 ||
	die "the kernel says Rust is not available: $(tail -3 "$out/rustavailable.log")"
note "configuring kernel ($KERNEL_VARIANT) in $out"
# shellcheck disable=SC2086
make -s -C "$src" O="$out" $args KCONFIG_ALLCONFIG="$frag" allnoconfig >/dev/null

# A missing dependency silently drops an option: check each fragment line made it.
missing=$(grep -E '^(CONFIG_|# CONFIG_)' "$frag" | while read -r line; do
	grep -qxF "$line" "$out/.config" || echo "$line"
done)
[ -z "$missing" ] || die "kernel config lost these fragment lines (unmet dependencies?): $(echo $missing)"

note "building kernel ($jobs jobs; 6-10 min cold on 2 cores)"
start=$(date +%s)
# shellcheck disable=SC2086
make -s -C "$src" O="$out" $args -j"$jobs" bzImage modules >"$out/build.log" 2>&1 ||
	die "kernel build failed, see $out/build.log: $(tail -5 "$out/build.log")"
note "kernel built in $(( $(date +%s) - start )) s"
touch "$out/.omx-built"
echo "$out"
