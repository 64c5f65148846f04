#!/usr/bin/env bash
# omx_mod's files form layers: no circle of imports among them, and no file over 400 lines.
#
# An edge A -> B is any path in A that names B's module: `use crate::b::...`, `crate::b::x`
# inline, `super::...`, `self::...` and paths through a child module A declares (use trees
# with braces are expanded). A path resolves
# to the longest module prefix that is a file of omx_mod. Generated files (*_generated.rs)
# are not counted; the protocol core (omx_proto, compiled in by #[path]) lives outside omx_mod.
# Declaring a child module (`mod x;`), or re-exporting its items (`pub(crate) use x::Y;`), is
# not an edge: a child may use its parent.
# LAYERS_EDGES=1 prints every edge found. CHECK_ROOT=dir checks another tree (default: this one).
# No files, or fewer than a module has, is a failure: the check must not pass on nothing.
set -euo pipefail
cd "${CHECK_ROOT:-$(dirname "$0")/../..}"
exec perl -e '
use strict;
use warnings;

my $MAX_LINES = 400;
my $MIN_FILES = 20;
my @files = sort grep { !/_generated\.rs$/ } split /\n/, `find omx_mod -name "*.rs" 2>/dev/null`;
if (!grep { $_ eq "omx_mod/omx.rs" } @files) {
    print "omx_mod/omx.rs: not found in the tree checked (this repository, or CHECK_ROOT): nothing checked\n";
    exit 1;
}
if (@files < $MIN_FILES) {
    printf "omx_mod: only %d .rs files found, fewer than %d: not the module tree, nothing checked\n", scalar @files, $MIN_FILES;
    exit 1;
}
my (%mod_of, %file_of);
for my $f (@files) {
    my $m = $f;
    $m =~ s{^omx_mod/}{};
    $m =~ s{\.rs$}{};
    $m =~ s{/mod$}{};
    $m = "" if $m eq "omx";
    $m =~ s{/}{::}g;
    $mod_of{$f} = $m;
    $file_of{$m} = $f;
}

# "a::{b, c::{d, e}}" -> ("a::b", "a::c::d", "a::c::e").
sub expand {
    my ($tree) = @_;
    $tree =~ s/\s+//g;
    return ($tree) unless $tree =~ /^(.*?)\{(.*)\}$/s;
    my ($prefix, $inner) = ($1, $2);
    my (@parts, $depth, $cur);
    ($depth, $cur) = (0, "");
    for my $ch (split //, $inner) {
        if ($ch eq "," && $depth == 0) { push @parts, $cur; $cur = ""; next; }
        $depth++ if $ch eq "{";
        $depth-- if $ch eq "}";
        $cur .= $ch;
    }
    push @parts, $cur if $cur ne "";
    return map { expand($prefix . $_) } grep { $_ ne "" } @parts;
}

# The file a path in module $m names, if any.
sub resolve {
    my ($m, $path) = @_;
    my @seg = split /::/, $path;
    my @base;
    my $head = shift @seg;
    if ($head eq "crate") {
        @base = ();
    } elsif ($head eq "self" || $head eq "super") {
        @base = grep { $_ ne "" } split /::/, $m;
        unshift @seg, $head if $head eq "super";
        while (@seg && $seg[0] eq "super") { shift @seg; pop @base; }
    } else {
        return undef;
    }
    @seg = grep { $_ ne "self" && $_ ne "*" && /^\w+$/ } @seg;
    # The crate root (omx.rs) is the top layer: a path that only reaches it names something
    # outside omx_mod'"'"'s files (omx_proto, compiled in) or the root itself; no edge.
    for (my $n = @seg; $n >= 0; $n--) {
        my $cand = join "::", @base, @seg[0 .. $n - 1];
        return undef if $cand eq "";
        return $file_of{$cand} if exists $file_of{$cand};
    }
    return undef;
}

my (%edges, %where, @bad);
for my $f (@files) {
    open my $fh, "<", $f or die "$f: $!";
    my @lines = <$fh>;
    close $fh;
    if (@lines > $MAX_LINES) {
        push @bad, sprintf "%s:%d: %d lines, over the limit of %d: split it into files of one job each", $f, $MAX_LINES + 1, scalar @lines, $MAX_LINES;
    }
    # Code without comments, one string, with line numbers kept by offsets.
    my $code = "";
    my @line_at;
    for my $i (0 .. $#lines) {
        my $l = $lines[$i];
        my $in_str = 0;
        my $out = "";
        for (my $k = 0; $k < length $l; $k++) {
            my $ch = substr $l, $k, 1;
            if (!$in_str && substr($l, $k, 2) eq "//") { last; }
            if ($ch eq "\"" && ($k == 0 || substr($l, $k - 1, 1) ne "\\")) { $in_str = !$in_str; }
            $out .= $ch;
        }
        $out =~ s/\n?$/\n/;
        push @line_at, (length $code);
        $code .= $out;
    }
    my $line_of = sub {
        my ($pos) = @_;
        my $n = 0;
        $n++ while $n + 1 < @line_at && $line_at[$n + 1] <= $pos;
        return $n + 1;
    };
    # Child modules declared here are named by relative paths too (`timers::x`).
    my @children = $code =~ /^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;/mg;
    my $roots = join "|", "crate", "super", "self", @children;
    my $rel = sub { my ($p) = @_; return ($p =~ /^(crate|super|self)\b/) ? $p : "self::$p"; };
    my @found;
    while ($code =~ /(\bpub\b[^;{}]*?)?\buse\s+((?:$roots)\b[^;]*);/gs) {
        my ($pos, $reexport, $tree) = ($-[0], defined $1, $2);
        # A parent re-exporting items of its own child module (a facade: `pub use
        # child::X`) is not an edge: the child may use shared items of the parent.
        next if $reexport && grep { $tree =~ /^\Q$_\E::/ } @children;
        push @found, [$rel->($_), $pos] for expand($tree);
    }
    (my $inline = $code) =~ s/\buse\s+[^;]*;/" " x length($&)/gse;
    while ($inline =~ /(?<![:\w])((?:$roots)(?:::\w+)+)/g) {
        push @found, [$rel->($1), $-[0]];
    }
    for my $p (@found) {
        my $to = resolve($mod_of{$f}, $p->[0]);
        next if !defined $to || $to eq $f;
        next if $edges{$f}{$to};
        $edges{$f}{$to} = 1;
        $where{"$f>$to"} = $f . ":" . $line_of->($p->[1]);
    }
}

if ($ENV{LAYERS_EDGES}) {
    for my $f (sort keys %edges) { print "$f -> $_\n" for sort keys %{ $edges{$f} }; }
}

# Depth-first search; a grey target closes a circle.
my (%colour, @stack, %seen_cycle);
sub visit {
    my ($f) = @_;
    $colour{$f} = 1;
    push @stack, $f;
    for my $to (sort keys %{ $edges{$f} || {} }) {
        if (($colour{$to} // 0) == 1) {
            my @c;
            for (my $i = $#stack; $i >= 0; $i--) { unshift @c, $stack[$i]; last if $stack[$i] eq $to; }
            my $key = join " ", sort @c;
            next if $seen_cycle{$key}++;
            push @c, $to;
            my @how = map { $where{"$c[$_]>$c[$_ + 1]"} } 0 .. $#c - 1;
            push @bad, sprintf "%s: import circle: %s (uses at %s)", $how[0], join(" -> ", @c), join(", ", @how);
        } elsif (!$colour{$to}) {
            visit($to);
        }
    }
    pop @stack;
    $colour{$f} = 2;
}
visit($_) for grep { !$colour{$_} } @files;

if (@bad) {
    print "$_\n" for @bad;
    printf "layers: %d offence(s); see Documentation/design.md, section Layers of omx_mod\n", scalar @bad;
    exit 1;
}
printf "layers: %d files of omx_mod, %d import edges, no circle, none over %d lines\n", scalar @files, scalar(map { keys %$_ } values %edges), $MAX_LINES;
'
