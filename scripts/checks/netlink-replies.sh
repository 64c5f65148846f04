#!/usr/bin/env bash
# What the module writes into each reply, dump and notification of the netlink family must be
# what Documentation/netlink/specs/omx.yaml says it carries (scripts/netlink-gen.py --replies),
# and omxctl must parse every attribute of those replies. The module writes replies by hand
# (omx_mod/attrs.rs, control.rs, control/*.rs, events.rs); this compares the attributes its
# put_*/nest calls name, function by function, with the spec's reply lists and counter sets.
# Prints file:line and the attribute of each difference; exits 1 if there is any.
set -euo pipefail
cd "$(dirname "$0")/../.."

shapes=$(python3 scripts/netlink-gen.py --replies)
SHAPES=$shapes python3 - <<'PY'
import glob, json, os, re, sys

shapes = json.loads(os.environ["SHAPES"])
# Which function writes which reply: (file, function) -> the operations it answers. A reply
# written elsewhere, or an operation with a reply and no writer here, is an error.
WRITERS = {
    ("omx_mod/attrs.rs", "fill_node"): ["node-get", "node-state-ntf"],
    ("omx_mod/attrs.rs", "fill_dev"): ["dev-get"],
    ("omx_mod/control.rs", "stats_get"): ["stats-get"],
    ("omx_mod/control/node_cmds.rs", "node_add"): ["node-add"],
    ("omx_mod/attrs.rs", "fill_lend"): ["lend-get"],
    ("omx_mod/control/lend_cmds.rs", "lend_add"): ["lend-add"],
    ("omx_mod/events.rs", "dev_error"): ["dev-error-ntf"],
}
FILES = ["omx_mod/attrs.rs", "omx_mod/control.rs", "omx_mod/events.rs"] + sorted(
    glob.glob("omx_mod/control/*.rs"))
OMXCTL_PARSER = "omxctl/src/netlink/attrs.rs"

def upper(name):
    return name.upper().replace("-", "_")

def snake(name):
    return name.replace("-", "_")

errors = []
if not shapes:
    errors.append("Documentation/netlink/specs/omx.yaml:1: no operation has a reply; nothing to check")

def line_of(text, pos):
    return text.count("\n", 0, pos) + 1

def blank_strings(text):
    """The text with string literals' contents blanked, so braces in them do not count."""
    return re.sub(r'"(?:\\.|[^"\\])*"', lambda m: '"' + " " * (len(m.group(0)) - 2) + '"', text)

def functions(text):
    """{name: (start, end)} of every fn body (brace matched)."""
    out = {}
    for m in re.finditer(r"\bfn\s+(\w+)\b", text):
        open_at = text.find("{", m.end())
        semi = text.find(";", m.end())
        if open_at < 0 or (0 <= semi < open_at):
            continue  # a declaration without a body
        depth, i = 0, open_at
        while i < len(text):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out[m.group(1)] = (m.start(), i)
    return out

PUT = re.compile(r"\.(put_\w+|nest)\(\s*([^,)]*)")
CONST = re.compile(r"^(\w+)::([A-Z0-9_]+)$")
# A table of attribute constants a loop writes (`const BUCKET_ATTRS: [u16; N] = [set::A, ..]`
# then `put_u64(attr, ..)` over it): its constants count as written by the function it is in.
TABLE = re.compile(r"const\s+(\w+_ATTRS)\s*:\s*\[u16;[^\]]*\]\s*=\s*\[([^\]]*)\]")
IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")

written = {}  # (file, fn) -> {(module, CONST): line}
for f in FILES:
    if not os.path.isfile(f):
        errors.append(f"{f}:1: missing (scripts/checks/netlink-replies.sh reads it)")
        continue
    text = blank_strings(open(f).read())
    fns = functions(text)
    tables = {}  # fn -> constants of its *_ATTRS tables
    for t in TABLE.finditer(text):
        inside = [(st, n) for n, (st, e) in fns.items() if st <= t.start() <= e]
        fn = max(inside)[1] if inside else None
        for item in t.group(2).split(","):
            c = CONST.match(item.strip())
            if c:
                tables.setdefault(fn, {})[(c.group(1), c.group(2))] = line_of(text, t.start())
    for m in PUT.finditer(text):
        line = line_of(text, m.start(2))
        arg = m.group(2).strip()
        c = CONST.match(arg)
        inside = [(s, n) for n, (s, e) in fns.items() if s <= m.start() <= e]
        if not c and IDENT.match(arg) and inside and max(inside)[1] in tables:
            fn = max(inside)[1]
            written.setdefault((f, fn), {}).update(tables[fn])
            continue
        if not c:
            errors.append(f"{f}:{line}: {m.group(1)}({arg}, ..): not a spec constant (set::ATTR); "
                          "cannot tell which attribute it writes")
            continue
        # The innermost function around the call.
        inside = [(s, n) for n, (s, e) in fns.items() if s <= m.start() <= e]
        fn = max(inside)[1] if inside else None
        if (f, fn) not in WRITERS:
            errors.append(f"{f}:{line}: {fn or 'outside any fn'} writes {arg} but writes no reply "
                          "the check knows: add it to WRITERS in scripts/checks/netlink-replies.sh")
            continue
        written.setdefault((f, fn), {})[(c.group(1), c.group(2))] = line

covered = set()
for (f, fn), ops in WRITERS.items():
    text = open(f).read() if os.path.isfile(f) else ""
    fns = functions(blank_strings(text))
    if fn not in fns:
        errors.append(f"{f}:1: no fn {fn} (it writes the {', '.join(ops)} reply)")
        continue
    fn_line = line_of(text, fns[fn][0])
    for op in ops:
        if op not in shapes:
            errors.append(f"{f}:{fn_line}: {fn} writes a {op} reply, but the spec's {op} has none")
            continue
        covered.add(op)
        shape = shapes[op]
        expected = {(snake(shape["set"]), upper(a)): a for a in shape["attrs"]}
        for attr, inner in shape["nested"].items():
            expected.update({(snake(inner["set"]), upper(a)): f"{attr}.{a}" for a in inner["attrs"]})
        got = written.get((f, fn), {})
        for key, name in expected.items():
            if key not in got:
                errors.append(f"{f}:{fn_line}: {fn} does not write {'::'.join(key)} ({op} reply "
                              f"attribute `{name}` in the spec)")
        for key, line in got.items():
            if key not in expected:
                errors.append(f"{f}:{line}: {fn} writes {'::'.join(key)}, which the spec's {op} "
                              "reply does not list")
for op in shapes:
    if op not in covered:
        errors.append(f"Documentation/netlink/specs/omx.yaml:1: {op} has a reply but no writer in "
                      "scripts/checks/netlink-replies.sh's WRITERS")

# omxctl parses each attribute of a reply (counter sets are generated in omxctl, skip them).
parser = open(OMXCTL_PARSER).read() if os.path.isfile(OMXCTL_PARSER) else ""
parsed = set(re.findall(r"\b(\w+)::([A-Z0-9_]+)\s*(?:\|[^=]*)?=>", parser))
for op, shape in shapes.items():
    if shape["counter-set"]:
        continue
    for a in shape["attrs"]:
        if (snake(shape["set"]), upper(a)) not in parsed:
            errors.append(f"{OMXCTL_PARSER}:1: no `{snake(shape['set'])}::{upper(a)} =>` arm: omxctl "
                          f"does not parse `{a}` of the {op} reply")

for e in sorted(set(errors)):
    print(e)
sys.exit(1 if errors else 0)
PY
