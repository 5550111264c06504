#!/usr/bin/env python3
"""
layers.py - which of the built objects call which, from their symbols,
and a failure for any loop of more than two files (issue 13: "wrappers ->
open routing and fd ops -> requests -> channels -> wire; nothing calls
up").

  layers.py [--allow A:B ...] OBJECT... | @FILE (one object a line)

An edge A -> B is a symbol A needs (nm -u) that B defines.  A loop is a
strongly connected set of files.  Two files that call each other are
allowed only when named with --allow (the build gives each its reason).
"""
import os
import subprocess
import sys
from collections import defaultdict


def symbols(obj):
    out = subprocess.run(["nm", "-P", obj], capture_output=True, text=True,
                         check=True).stdout
    defined, needed = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            needed.add(name)
        elif kind in "TDBRVWtdbr" and kind not in "tdbr":
            defined.add(name)
    return defined, needed


def name_of(obj):
    # CMake puts SRC/REL.c's object at BUILD/SRC/CMakeFiles/T.dir/REL.c.o
    head, _, rel = obj.partition("/CMakeFiles/")
    rel = rel.split(".dir/", 1)[-1]
    rel = rel[:-2] if rel.endswith(".o") else rel
    return os.path.basename(head) + "/" + rel


def sccs(nodes, edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


def main(argv):
    allow = set()
    objs = []
    it = iter(argv)
    for a in it:
        if a == "--allow":
            x, y = next(it).split(":")
            allow.add(frozenset((x, y)))
        elif a.startswith("@"):
            with open(a[1:]) as f:
                objs.extend(x for x in f.read().split() if x)
        else:
            objs.append(a)
    owner = defaultdict(set)
    need = {}
    for o in objs:
        d, n = symbols(o)
        f = name_of(o)
        need[f] = n
        for s in d:
            owner[s].add(f)
    edges = defaultdict(set)
    for f, n in need.items():
        for s in n:
            for g in owner.get(s, ()):
                if g != f:
                    edges[f].add(g)
    bad = 0
    for comp in sccs(sorted(need), edges):
        if len(comp) < 2:
            continue
        if len(comp) == 2 and frozenset(comp) in allow:
            continue
        bad += 1
        print("loop of %d files:" % len(comp))
        for f in comp:
            for g in sorted(edges[f] & set(comp)):
                used = sorted(s for s in need[f] if g in owner.get(s, ()))
                print("  %s -> %s: %s" % (f, g, ", ".join(used[:6])))
    print("%d files, %d edges, %d loops" %
          (len(need), sum(len(e) for e in edges.values()), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
