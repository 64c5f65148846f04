#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Generates the omx netlink family's code from its YAML spec (one fact, one place).

    scripts/netlink-gen.py --ynl KERNEL_TREE [--out ROOT]
    scripts/netlink-gen.py --replies


Writes, under ROOT (default: the repository):
  omx_mod/netlink_generated.rs           the module's numbers, policies and operations
  omxctl/src/netlink/spec_generated.rs   omxctl's numbers, enums and counter sets
  include/uapi/linux/omx.h               the uapi header, by the kernel's ynl-gen-c.py

--replies prints, as JSON, what each reply, dump and notification carries: its attribute set,
its attributes and the counters of each nested counter set (scripts/checks/netlink-replies.sh
compares them with the module's writers and omxctl's parser).

Run it through scripts/netlink-gen.sh, which finds KERNEL_TREE (a Linux tree with
tools/net/ynl and Documentation/netlink/genetlink.yaml). Needs python3-yaml and, for
ynl-gen-c's schema check, python3-jsonschema.

Rules (YNL numbering): commands and attributes from 1 in listed order, enum values from 0.
The module's policy of a command covers attribute types 1..=the largest its `do` request
lists; a type the request does not list is rejected. `admin-perm` means CAP_NET_ADMIN and
the initial network namespace only (the spec's doc says so). Only what the spec uses is
supported; anything else stops the generator with a message rather than guessing.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

import yaml

SPEC = "Documentation/netlink/specs/omx.yaml"
MODULE_OUT = "omx_mod/netlink_generated.rs"
OMXCTL_OUT = "omxctl/src/netlink/spec_generated.rs"
HEADER_OUT = "include/uapi/linux/omx.h"

GENERATED = f"Generated from {SPEC} by scripts/netlink-gen.py; do not edit."
REGENERATE = "Regenerate with scripts/netlink-gen.sh; scripts/checks/netlink-spec.sh fails on drift."

# How omxctl shows enum values whose spec name is not what an operator reads (its text and
# JSON output use these; tests and docs depend on them). Everything else shows its spec name.
OMXCTL_ENUM_TEXT = {("version", "v1-1"): "1.1", ("version", "v1-0-3"): "1.0.3"}
# omxctl's struct for a counter set, where the set's name alone would say too little.
OMXCTL_COUNTER_STRUCT = {"stats": "ModuleStats"}


def fail(msg):
    sys.exit(f"netlink-gen: {SPEC}: {msg}")


def upper(name):
    return name.upper().replace("-", "_")


def snake(name):
    return name.replace("-", "_")


def camel(name):
    """node-stats -> NodeStats, v1-0-3 -> V1_0_3 (an underscore keeps digits apart)."""
    out = ""
    for part in name.split("-"):
        if out and out[-1].isdigit() and part[:1].isdigit():
            out += "_"
        out += part[:1].upper() + part[1:]
    return out


def first_sentence(doc):
    doc = " ".join((doc or "").split())
    return doc.split(". ")[0].rstrip(".") if doc else ""


class Family:
    def __init__(self, spec):
        self.name = spec["name"]
        self.version = spec.get("version", 1)
        if spec.get("protocol", "genetlink") != "genetlink":
            fail("only protocol genetlink is supported")
        self.enums = {}
        for d in spec.get("definitions", []):
            if d["type"] != "enum":
                fail(f"definition {d['name']}: only enums are supported")
            entries = [e if isinstance(e, dict) else {"name": e} for e in d["entries"]]
            if "value-start" in d or any("value" in e for e in entries):
                fail(f"enum {d['name']}: explicit values are not supported")
            self.enums[d["name"]] = {"doc": d.get("doc"), "entries": entries}
        self.sets = {}
        for s in spec["attribute-sets"]:
            attrs = []
            for i, a in enumerate(s["attributes"], start=1):
                if "value" in a and a["value"] != i:
                    fail(f"{s['name']}.{a['name']}: explicit values are not supported")
                if a.get("enum") and a["enum"] not in self.enums:
                    fail(f"{s['name']}.{a['name']}: unknown enum {a['enum']}")
                attrs.append(dict(a, value=i))
            self.sets[s["name"]] = attrs
        self.ops = []
        for i, op in enumerate(spec["operations"]["list"], start=1):
            if "value" in op and op["value"] != i:
                fail(f"operation {op['name']}: explicit values are not supported")
            self.ops.append(dict(op, value=i))
        for op in self.ops:
            if "notify" in op:
                target = self.op(op["notify"])
                op["attribute-set"] = target["attribute-set"]
        self.mcgrps = [g["name"] for g in spec.get("mcast-groups", {}).get("list", [])]

    def op(self, name):
        for op in self.ops:
            if op["name"] == name:
                return op
        fail(f"no operation {name}")

    def attr(self, set_name, name):
        for a in self.sets[set_name]:
            if a["name"] == name:
                return a
        fail(f"attribute set {set_name} has no attribute {name}")

    def counter_sets(self):
        """Attribute sets of plain u64 counters."""
        return [n for n, attrs in self.sets.items()
                if all(a["type"] == "u64" and not a.get("multi-attr") for a in attrs)]

    def nested_in(self, set_name):
        for s, attrs in self.sets.items():
            for a in attrs:
                if a.get("nested-attributes") == set_name:
                    return f"nested in {s} `{a['name']}`"
        return None


# ---------------------------------------------------------------------------------------------
# Reply shapes (--replies), for scripts/checks/netlink-replies.sh
# ---------------------------------------------------------------------------------------------

def reply_shapes(fam):
    """{op: {"set", "attrs", "nested": {attr: {"set", "attrs"}}, "counter-set"}} of every op that answers or
    notifies: a `do`/`dump` reply, an `event`, or a `notify` (the notified op's `do` reply)."""
    shapes = {}
    for op in fam.ops:
        if "notify" in op:
            target = fam.op(op["notify"])
            lists = [(target.get("do") or {}).get("reply")]
        elif "event" in op:
            lists = [op["event"]]
        else:
            lists = [(op.get(k) or {}).get("reply") for k in ("do", "dump")]
        lists = [r["attributes"] for r in lists if r]
        if not lists:
            continue
        if any(names != lists[0] for names in lists):
            fail(f"operation {op['name']}: its do and dump replies differ (not supported)")
        set_name = op["attribute-set"]
        nested = {}
        for name in lists[0]:
            inner = fam.attr(set_name, name).get("nested-attributes")
            if inner:
                if inner not in fam.counter_sets():
                    fail(f"{set_name}.{name}: only counter sets may be nested in a reply")
                nested[name] = {"set": inner, "attrs": [a["name"] for a in fam.sets[inner]]}
        shapes[op["name"]] = {"set": set_name, "attrs": lists[0], "nested": nested,
                              "counter-set": set_name in fam.counter_sets()}
    return shapes


# ---------------------------------------------------------------------------------------------
# The module (omx_mod/netlink_generated.rs)
# ---------------------------------------------------------------------------------------------

def policy(fam, set_name, a):
    """The module's AttrPolicy of a request attribute (omx_mod/glue/genl.rs)."""
    where = f"{set_name}.{a['name']}"
    checks = a.get("checks", {})
    t = a["type"]
    if t == "u32" and a.get("enum"):
        unsupported = set(checks)
        if unsupported:
            fail(f"{where}: checks {sorted(unsupported)} are not supported on an enum")
        return f"P::U32Max({len(fam.enums[a['enum']]['entries']) - 1})"
    if t in ("u32", "u64") and not checks:
        return f"P::{t.upper()}"
    if t == "string" and set(checks) == {"max-len"}:
        return f"P::String {{ max_len: {checks['max-len']} }}"
    if t == "binary" and set(checks) == {"exact-len"}:
        return f"P::ExactLen({checks['exact-len']})"
    fail(f"{where}: no policy for type {t} with checks {sorted(checks)} in a request")


def module_source(fam):
    out = [
        "// SPDX-License-Identifier: GPL-2.0",
        f"// {GENERATED}",
        f"// {REGENERATE}",
        "",
        f"//! The `{fam.name}` generic netlink family as numbers, attribute policies and operations",
        "//! (YNL numbering: commands and attributes from 1 in listed order, enum values from 0).",
        "",
        "use crate::glue::genl::{AttrPolicy as P, OpSpec};",
        "use kernel::str::CStr;",
        "",
        "/// Family name.",
        f'pub(crate) const NAME: &CStr = kernel::c_str!("{fam.name}");',
        "/// Family version.",
        f"pub(crate) const VERSION: u32 = {fam.version};",
        "",
        "/// Commands.",
        "pub(crate) mod cmd {",
    ]
    out += [f"    pub(crate) const {upper(op['name'])}: u8 = {op['value']};" for op in fam.ops]
    out.append("}")
    for set_name, attrs in fam.sets.items():
        out += ["", f"/// Attributes of the `{set_name}` set.", f"pub(crate) mod {snake(set_name)} {{"]
        out += [f"    pub(crate) const {upper(a['name'])}: u16 = {a['value']};" for a in attrs]
        out.append("}")
    for enum_name, enum in fam.enums.items():
        doc = first_sentence(enum["doc"])
        out += ["", f"/// Values of the `{enum_name}` enum" + (f" ({doc})." if doc else "."),
                f"pub(crate) mod {snake(enum_name)} {{"]
        out += [f"    pub(crate) const {upper(e['name'])}: u32 = {i};"
                for i, e in enumerate(enum["entries"])]
        out.append("}")
    groups = ", ".join(f'kernel::c_str!("{g}")' for g in fam.mcgrps)
    out += ["", "/// Multicast groups; an event names its group by index.",
            f"pub(crate) const MCAST_GROUPS: [&CStr; {len(fam.mcgrps)}] = [{groups}];"]
    for i, g in enumerate(fam.mcgrps):
        out += [f"/// Index of the `{g}` multicast group.", f"pub(crate) const MCGRP_{upper(g)}: u32 = {i};"]

    ops = [op for op in fam.ops if "do" in op or "dump" in op]
    for op in ops:
        request = (op.get("do") or {}).get("request", {}).get("attributes", [])
        if not request:
            continue
        set_name = op["attribute-set"]
        listed = {fam.attr(set_name, n)["value"]: n for n in request}
        size = max(listed)
        out += ["", f"/// What a `{op['name']}` request may carry (attribute types 1..={size}).",
                f"const {upper(op['name'])}_POLICY: [P; {size}] = ["]
        rows = []
        for a in fam.sets[set_name][:size]:
            if a["value"] in listed:
                rows.append((f"{policy(fam, set_name, a)},", a["name"]))
            else:
                rows.append(("P::Reject,", f"{a['name']}: not in the request"))
        # Trailing comments aligned, as rustfmt aligns them.
        width = max(len(code) for code, _ in rows)
        out += [f"    {code:<{width}} // {comment}" for code, comment in rows]
        out.append("];")
    out += ["", "/// Operations. `admin-perm` commands are for CAP_NET_ADMIN in the initial network",
            "/// namespace only, where pool nodes and devices live (the spec's doc).",
            f"pub(crate) const OPS: [OpSpec; {len(ops)}] = ["]
    for op in ops:
        admin = "true" if "admin-perm" in op.get("flags", []) else "false"
        has_request = (op.get("do") or {}).get("request", {}).get("attributes")
        pol = f"&{upper(op['name'])}_POLICY" if has_request else "&[]"
        out += [
            "    OpSpec {",
            f"        cmd: cmd::{upper(op['name'])},",
            f"        admin: {admin},",
            f"        initial_netns_only: {admin},",
            f"        doit: {'true' if 'do' in op else 'false'},",
            f"        dumpit: {'true' if 'dump' in op else 'false'},",
            f"        policy: {pol},",
            "    },",
        ]
    out.append("];")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# omxctl (omxctl/src/netlink/spec_generated.rs, include!d by attrs.rs after its macros)
# ---------------------------------------------------------------------------------------------

def omxctl_source(fam):
    for (enum_name, entry) in OMXCTL_ENUM_TEXT:
        if entry not in [e["name"] for e in fam.enums.get(enum_name, {"entries": []})["entries"]]:
            fail(f"scripts/netlink-gen.py's OMXCTL_ENUM_TEXT names {enum_name}.{entry}, which is gone")
    for set_name in OMXCTL_COUNTER_STRUCT:
        if set_name not in fam.counter_sets():
            fail(f"scripts/netlink-gen.py's OMXCTL_COUNTER_STRUCT names {set_name}, not a counter set")
    out = [
        f"// {GENERATED}",
        f"// {REGENERATE}",
        "// Included by attrs.rs, after its macros u32_enum! and counter_set!.",
        "",
        "/// Generic netlink family name.",
        f'pub const FAMILY_NAME: &str = "{fam.name}";',
        "/// Family version.",
        f"pub const FAMILY_VERSION: u8 = {fam.version};",
    ]
    for g in fam.mcgrps:
        out += [f"/// Multicast group `{g}`.", f'pub const MCAST_GROUP_{upper(g)}: &str = "{g}";']

    out += ["", "/// Commands, numbered from 1 in the spec's order.",
            "#[derive(Debug, Clone, Copy, PartialEq, Eq)]", "pub enum OmxCmd {"]
    for op in fam.ops:
        out += [f"    /// {line}" for line in textwrap.wrap(first_sentence(op.get("doc")) + ".", 92)]
        out.append(f"    {camel(op['name'])} = {op['value']},")
    out += ["}", "", "impl OmxCmd {", "    /// All commands in numeric order.",
            f"    pub const ALL: [OmxCmd; {len(fam.ops)}] = ["]
    out += [f"        OmxCmd::{camel(op['name'])}," for op in fam.ops]
    out += ["    ];", "", "    /// The spec's name of the command.",
            "    pub fn name(self) -> &'static str {", "        match self {"]
    out += [f'            OmxCmd::{camel(op["name"])} => "{op["name"]}",' for op in fam.ops]
    out += ["        }", "    }", "",
            "    /// The spec's name of attribute `kind` of the command's attribute set.",
            "    pub fn attr_name(self, kind: u16) -> Option<&'static str> {", "        match self {"]
    by_set = {}
    for op in fam.ops:
        by_set.setdefault(op["attribute-set"], []).append(f"OmxCmd::{camel(op['name'])}")
    for set_name, cmds in by_set.items():
        pattern = " | ".join(cmds)
        call = f"{snake(set_name)}_attr_name(kind)"
        if len(f"            {pattern} => {call},") <= 100:
            out.append(f"            {pattern} => {call},")
        elif len(f"            {pattern} => {{") <= 100:
            out += [f"            {pattern} => {{", f"                {call}", "            }"]
        else:
            fail(f"too many commands on attribute set {set_name} for one line")
    out += ["        }", "    }", "}"]

    for set_name, attrs in fam.sets.items():
        out += ["", f"/// `{set_name}` attribute set.", f"pub mod {snake(set_name)} {{"]
        out += [f"    pub const {upper(a['name'])}: u16 = {a['value']};" for a in attrs]
        for a in attrs:
            if "max-len" in a.get("checks", {}):
                out += [f"    /// Longest `{a['name']}` the kernel accepts (`max-len`).",
                        f"    pub const {upper(a['name'])}_MAX_LEN: usize = {a['checks']['max-len']};"]
        out.append("}")
    for set_name, attrs in fam.sets.items():
        out += ["", f"/// Spec name of a `{set_name}` attribute type.",
                f"pub fn {snake(set_name)}_attr_name(kind: u16) -> Option<&'static str> {{",
                "    Some(match kind {"]
        out += [f'        {snake(set_name)}::{upper(a["name"])} => "{a["name"]}",' for a in attrs]
        out += ["        _ => return None,", "    })", "}"]

    for enum_name, enum in fam.enums.items():
        doc = first_sentence(enum["doc"])
        out += ["", "u32_enum! {",
                f"    /// `{enum_name}` enum" + (f" ({doc})." if doc else "."),
                f"    {camel(enum_name)} {{"]
        for i, e in enumerate(enum["entries"]):
            text = OMXCTL_ENUM_TEXT.get((enum_name, e["name"]), e["name"])
            out.append(f'        {camel(e["name"])} = {i} => "{text}",')
        out += ["    }", "}"]

    for set_name in fam.counter_sets():
        where = fam.nested_in(set_name)
        struct = OMXCTL_COUNTER_STRUCT.get(set_name, camel(set_name))
        out += ["", "counter_set! {",
                f"    /// `{set_name}` attribute set" + (f" ({where})." if where else "."),
                f"    {camel(set_name)}Attr, {struct} {{"]
        out += [f"        {camel(a['name'])} / {snake(a['name'])} = {snake(set_name)}::{upper(a['name'])},"
                for a in fam.sets[set_name]]
        out += ["    }", "}"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# The uapi header, by the kernel's ynl-gen-c.py
# ---------------------------------------------------------------------------------------------

def uapi_header(spec_path, kernel):
    """ynl-gen-c.py finds the schema next to the spec's directory and the file name it prints
    relative to a tree holding MAINTAINERS: give it that tree, in a scratch directory."""
    ynl = os.path.join(kernel, "tools/net/ynl/ynl-gen-c.py")
    schema = os.path.join(kernel, "Documentation/netlink/genetlink.yaml")
    for f in (ynl, schema):
        if not os.path.isfile(f):
            sys.exit(f"netlink-gen: {f} missing (a Linux tree is needed for the uapi header)")
    with tempfile.TemporaryDirectory() as tmp:
        open(os.path.join(tmp, "MAINTAINERS"), "w").close()
        os.makedirs(os.path.join(tmp, os.path.dirname(SPEC)))
        shutil.copy(schema, os.path.join(tmp, "Documentation/netlink/genetlink.yaml"))
        shutil.copy(spec_path, os.path.join(tmp, SPEC))
        out = os.path.join(tmp, "omx.h")
        r = subprocess.run([sys.executable, ynl, "--mode", "uapi", "--header",
                            "--spec", os.path.join(tmp, SPEC), "-o", out],
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.isfile(out):
            sys.exit(f"netlink-gen: ynl-gen-c.py failed:\n{r.stdout}{r.stderr}")
        with open(out) as f:
            lines = f.read().split("\n")
    # After ynl-gen-c's own "auto-generated from" lines: how to regenerate.
    at = next(i for i, line in enumerate(lines) if line.startswith("/* YNL-GEN "))
    lines.insert(at + 1, f"/* {REGENERATE} */")
    return "\n".join(lines)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replies", action="store_true",
                    help="print what each reply carries, as JSON, and write nothing")
    ap.add_argument("--ynl", metavar="KERNEL_TREE",
                    help="Linux tree with tools/net/ynl (for the uapi header)")
    ap.add_argument("--out", default=root, metavar="ROOT", help="where to write (default: the repository)")
    args = ap.parse_args()

    spec_path = os.path.join(root, SPEC)
    with open(spec_path) as f:
        fam = Family(yaml.safe_load(f))
    if args.replies:
        print(json.dumps(reply_shapes(fam), indent=1))
        return
    if not args.ynl:
        ap.error("--ynl KERNEL_TREE is needed to generate")
    files = {
        MODULE_OUT: module_source(fam),
        OMXCTL_OUT: omxctl_source(fam),
        HEADER_OUT: uapi_header(spec_path, args.ynl),
    }
    for rel, text in files.items():
        path = os.path.join(args.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
