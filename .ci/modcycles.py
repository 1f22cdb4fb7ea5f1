#!/usr/bin/env python3
"""No module imports one that imports it back (ARCHITECTURE.md): finds import cycles between the
modules (files) of every crate under the given folders and exits 1 if there is one.

For each crate root (src/lib.rs, src/main.rs, tests/*.rs, tests/*/main.rs) it maps files to module
paths, collects the `crate::`, `super::` and `self::` paths each file uses, resolves each to the
longest module it names, and reports strongly connected components of more than one module. A
parent declaring its children (`mod x;`, re-exports by bare path) is containment, not an import.

Usage: python3 .ci/modcycles.py crates bench"""
import os, re, sys

def strip_comments(text):
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    out = []
    for line in text.split('\n'):
        s = line.strip()
        if s.startswith('//'):
            continue
        # drop string literals roughly
        line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
        i = line.find('//')
        if i >= 0:
            line = line[:i]
        out.append(line)
    return '\n'.join(out)

def expand_use(path):
    # expand a::{b, c::{d, e}} -> [a::b, a::c::d, a::c::e]
    path = re.sub(r'\s+', '', path)
    m = path.find('{')
    if m < 0:
        return [path]
    depth = 0
    for j in range(m, len(path)):
        if path[j] == '{': depth += 1
        elif path[j] == '}':
            depth -= 1
            if depth == 0: break
    prefix, inner, rest = path[:m], path[m+1:j], path[j+1:]
    parts, depth, cur = [], 0, ''
    for ch in inner:
        if ch == ',' and depth == 0:
            parts.append(cur); cur = ''
            continue
        if ch == '{': depth += 1
        if ch == '}': depth -= 1
        cur += ch
    parts.append(cur)
    res = []
    for p in parts:
        if not p: continue
        for e in expand_use(p):
            res.append(prefix + e + rest)
    return res

def crate_modules(root_file):
    """Return {modpath(tuple): file} by following `mod x;` declarations."""
    mods = {}
    def visit(path, file, is_dir_owner):
        mods[path] = file
        text = strip_comments(open(file, encoding='utf-8').read())
        base = os.path.dirname(file) if is_dir_owner else os.path.join(os.path.dirname(file), os.path.splitext(os.path.basename(file))[0])
        for m in re.finditer(r'^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;', text, flags=re.M):
            name = m.group(1)
            cand1 = os.path.join(base, name + '.rs')
            cand2 = os.path.join(base, name, 'mod.rs')
            if os.path.exists(cand1):
                visit(path + (name,), cand1, False)
            elif os.path.exists(cand2):
                visit(path + (name,), cand2, True)
    visit((), root_file, True)
    return mods

def resolve(mods, cur, segs):
    # segs: list starting with crate/super/self
    if segs[0] == 'crate':
        base = (); segs = segs[1:]
    else:
        base = cur
        while segs and segs[0] in ('super', 'self'):
            if segs[0] == 'super':
                base = base[:-1]
            segs = segs[1:]
    best = base
    p = base
    for s in segs:
        p = p + (s,)
        if p in mods:
            best = p
        else:
            break
    return best

def analyze(root_file):
    mods = crate_modules(root_file)
    edges = {m: set() for m in mods}
    for mp, file in mods.items():
        text = strip_comments(open(file, encoding='utf-8').read())
        # cut inline test modules: `mod tests { ... }` referencing super is self
        paths = []
        for m in re.finditer(r'\buse\s+((?:crate|super|self)\b[^;]*);', text):
            paths += expand_use(m.group(1))
        for m in re.finditer(r'\b((?:crate|super)(?:::\w+)+)', text):
            paths.append(m.group(1))
        # inline mod blocks: references to super:: inside `mod x {` refer to this file; approximate by
        # treating super:: inside a file that has inline `mod tests {` ... we resolve super relative to
        # file module, which for inline test mods points to the parent: detect and skip `use super::*`.
        for p in paths:
            segs = [s for s in p.split('::') if s]
            if not segs: continue
            if segs == ['super', '*']:
                continue
            tgt = resolve(mods, mp, segs)
            if tgt != mp and not (len(tgt) < len(mp) and mp[:len(tgt)] == tgt and segs[0] == 'self'):
                edges[mp].add(tgt)
    # inline `mod tests { use super::*; }` resolves super to the parent of this file: ignore `super::*`
    # Tarjan SCC
    index, low, stack, on, res, idx = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def sc(v):
        index[v] = low[v] = idx[0]; idx[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                sc(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: res.append(comp)
    for v in list(edges):
        if v not in index: sc(v)
    return mods, edges, res

def roots(d):
    out = []
    for dp, dn, fns in os.walk(d):
        dn[:] = [x for x in dn if x not in ('target', '.git', 'node_modules', 'fuzz_targets')]
        if os.path.exists(os.path.join(dp, 'Cargo.toml')):
            for r in ('src/lib.rs', 'src/main.rs'):
                if os.path.exists(os.path.join(dp, r)): out.append(os.path.join(dp, r))
            td = os.path.join(dp, 'tests')
            if os.path.isdir(td):
                for f in sorted(os.listdir(td)):
                    p = os.path.join(td, f)
                    if f.endswith('.rs'): out.append(p)
                    elif os.path.exists(os.path.join(p, 'main.rs')): out.append(os.path.join(p, 'main.rs'))
    return out

found = 0
for d in sys.argv[1:] or ['.']:
    for r in roots(d):
        mods, edges, cycles = analyze(r)
        for comp in cycles:
            found += 1
            names = ['::'.join(('crate',) + m) for m in comp]
            print(f"CYCLE in {r}: " + ' , '.join(sorted(names)))
            for m in comp:
                for w in sorted(edges[m]):
                    if w in comp:
                        print(f"    {'::'.join(('crate',)+m)} -> {'::'.join(('crate',)+w)}")
print(f"{found} module import cycle(s)")
sys.exit(1 if found else 0)
