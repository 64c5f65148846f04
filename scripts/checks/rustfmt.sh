#!/usr/bin/env bash
# The Rust sources are formatted as rustfmt formats them, under the repository's rustfmt.toml
# (rustfmt's defaults, as in the kernel: the least change to the code as it was written).
# rustfmt is rustup's (the one `cargo fmt` runs). To fix: rustfmt --edition 2021 FILE (a module
# root formats its out-of-line modules too), or cargo fmt -p PACKAGE.
# Prints file:line of each unformatted place; exits 1 if there is any.
set -uo pipefail
cd "$(dirname "$0")/../.."

# Scope: module roots for rustfmt (their `mod` children, `#[path]` ones included, are checked
# with them) and workspace packages for cargo fmt: all of omx_mod (and, through its #[path]
# modules, omx_proto and omx_logic; sys/bindings_generated.rs is include!d, which rustfmt does
# not follow) and every workspace crate.
MODULE_ROOTS=(omx_mod/omx.rs)
CARGO_PACKAGES=(all)

out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
rustfmt --check --edition 2021 --color never "${MODULE_ROOTS[@]}" >"$out" 2>&1 || rc=1
if [ ${#CARGO_PACKAGES[@]} -gt 0 ]; then
	if [ "${CARGO_PACKAGES[*]}" = all ]; then pkgs=(--all); else pkgs=("${CARGO_PACKAGES[@]/#/-p}"); fi
	cargo fmt --check "${pkgs[@]}" -- --color never >>"$out" 2>&1 || rc=1
fi
[ $rc = 0 ] && exit 0
cat "$out"
echo "--- not formatted as rustfmt would:"
sed -n 's/^Diff in \(.*\):\([0-9]*\):$/\1:\2/p' "$out" | sed "s|^$PWD/||; s|omx_mod/\.\./||" |
	sed 's/$/: rustfmt would change this/'
grep -v '^Diff in\|^[-+ ]\|^$' "$out" | head -5 # rustfmt's own errors, if any
exit 1
