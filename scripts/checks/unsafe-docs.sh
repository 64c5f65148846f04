#!/usr/bin/env bash
# Every `unsafe` of omx_mod says why it is sound, and lint exceptions notice when they go stale:
# - `unsafe {` and `unsafe impl` have a `// SAFETY:` comment in the comment lines just above the
#   line that holds them, or above the head of its statement when that line continues one (a
#   line ending in `=` or `(`, as rustfmt breaks long ones); clippy's undocumented_unsafe_blocks
#   accepts a little more (a comment above any multi-line statement);
# - `unsafe fn` and `unsafe extern "C" fn` have a `# Safety` section in their doc comment (what the
#   caller must guarantee: clippy's missing_safety_doc), except methods of a trait impl, whose
#   trait documents it;
# - no `#[allow(`: `#[expect(` warns when the lint it silences no longer fires.
# Prints file:line of each offence; exits 1 if there is any, or if it finds no files to check.
# CHECK_ROOT=dir checks another tree (default: this one).
set -euo pipefail
cd "${CHECK_ROOT:-$(dirname "$0")/../..}"

# Generated bindings: which lints fire depends on what bindgen emits, so they keep `#![allow]`
# (as the kernel's own rust/bindings does).
ALLOW_EXEMPT=(omx_mod/sys.rs)

files=()
[ -d omx_mod ] && mapfile -t files < <(find omx_mod -name '*.rs' ! -name '*_generated.rs' | sort)
# With no file operand awk would read stdin: an empty list must fail, not hang or pass.
if [ "${#files[@]}" -eq 0 ] || [ ! -f omx_mod/omx.rs ]; then
	echo "omx_mod/omx.rs: not found in the tree checked (this repository, or CHECK_ROOT): nothing checked"
	exit 1
fi
awk -v exempt=" ${ALLOW_EXEMPT[*]} " '
	FNR == 1 { n = 0; trait_impl = 0 }
	{ line[++n] = $0 }
	# Top-level items start in column 0; a trait impl`s methods follow its `impl X for Y` line.
	/^(unsafe[ \t]+)?impl[ \t<]/ { trait_impl = ($0 ~ /[ \t]for[ \t]/) }
	/^}/ { trait_impl = 0 }
	# The code of a line, without its // comment (good enough: no string of omx_mod holds "//").
	function code(s) { sub(/\/\/.*/, "", s); return s }
	# Whether the run of lines just above line i that match `keep` holds `want`.
	function above(i, keep, want,   j) {
		for (j = i - 1; j > 0 && line[j] ~ keep; j--)
			if (line[j] ~ want) return 1
		return 0
	}
	{
		c = code($0)
		if (c ~ /(^|[^A-Za-z_])unsafe[ \t]*(\{|impl([ \t<]|$))/ && !above(FNR, "^[ \t]*//|[=(][ \t]*$", "^[ \t]*// SAFETY:")) {
			print FILENAME ":" FNR ": unsafe block or impl without a // SAFETY: comment just above"; bad = 1
		}
		if (!trait_impl && c ~ /(^|[^A-Za-z_])unsafe[ \t]+(extern[ \t]+"[A-Za-z]+"[ \t]+)?fn[ \t]/ &&
		    !above(FNR, "^[ \t]*(///|#\\[)", "^[ \t]*///[ \t]*# Safety")) {
			print FILENAME ":" FNR ": unsafe fn without a # Safety section in its doc comment"; bad = 1
		}
		if (c ~ /#!?\[allow\(/ && index(exempt, " " FILENAME " ") == 0) {
			print FILENAME ":" FNR ": #[allow(...)]: use #[expect(...)], which warns when it is no longer needed"; bad = 1
		}
	}
	END { exit bad }
' "${files[@]}" </dev/null
