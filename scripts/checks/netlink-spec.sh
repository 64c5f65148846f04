#!/usr/bin/env bash
# The netlink family is defined once, in Documentation/netlink/specs/omx.yaml: the code
# generated from it (the module's, omxctl's and the uapi header, see scripts/netlink-gen.sh)
# must be what the spec generates now. Regenerates into a scratch directory and compares.
# Prints file:line of each place that differs; exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/../.."

FILES=(omx_mod/netlink_generated.rs omxctl/src/netlink/spec_generated.rs include/uapi/linux/omx.h)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
scripts/netlink-gen.sh "$scratch"

bad=0
for f in "${FILES[@]}"; do
	if [ ! -f "$f" ]; then
		echo "$f:1: missing; generate it with scripts/netlink-gen.sh"
		bad=1
		continue
	fi
	if ! cmp -s "$scratch/$f" "$f"; then
		# The first line of each hunk that differs, as file:line.
		diff -U0 "$scratch/$f" "$f" | sed -n 's/^@@ -[0-9,]* +\([0-9]*\).*/\1/p' | head -5 |
			sed "s|^|$f:|; s|\$|: differs from what the spec generates (regenerate with scripts/netlink-gen.sh)|" || true
		diff -u --label "generated from the spec" --label "$f" "$scratch/$f" "$f" | sed 's/^/    /' | head -20 || true
		bad=1
	fi
done
# The header is C a program can include: compiled by the first C compiler found (scripts/deps.sh
# installs one); without any, the check fails rather than skip the test.
cc=
for c in ${CC:-} cc gcc clang; do
	if command -v "$c" >/dev/null; then
		cc=$c
		break
	fi
done
if [ -z "$cc" ]; then
	echo "include/uapi/linux/omx.h:1: no C compiler (cc, gcc, clang) to compile the header; run scripts/deps.sh"
	bad=1
elif ! "$cc" -fsyntax-only -Wall -Werror -x c include/uapi/linux/omx.h; then
	echo "include/uapi/linux/omx.h:1: does not compile as C ($cc)"
	bad=1
fi
exit $bad
