#!/usr/bin/env python3
"""Prints the schema of a JSON document: one line per key path with its JSON type(s).

A key that only some elements of an array carry is marked `?`. An object whose keys contain dots (sysctl names)
is a map: its keys are shown as `*`. Values are ignored, so the snapshot changes only
when a key is added, removed or changes type."""
import json, sys

def kind(v):
    if isinstance(v, bool): return "bool"
    if isinstance(v, int): return "int"
    if isinstance(v, float): return "number"
    if isinstance(v, str): return "string"
    if v is None: return "null"
    if isinstance(v, list): return "array"
    return "object"

def walk(values, path, out):
    """values: every value seen at `path` (several when inside arrays)."""
    types = sorted({kind(v) for v in values})
    out.setdefault(path, set()).update(types)
    objs = [v for v in values if isinstance(v, dict)]
    maps = [o for o in objs if o and all("." in k for k in o)]
    if maps and len(maps) == len(objs):
        walk([v for o in maps for v in o.values()], path + ".*", out)
    elif objs:
        keys = sorted({k for o in objs for k in o})
        for k in keys:
            have = [o[k] for o in objs if k in o]
            p = f"{path}.{k}" + ("" if len(have) == len(objs) else "?")
            walk(have, p, out)
    arrays = [v for v in values if isinstance(v, list)]
    items = [x for a in arrays for x in a]
    if items:
        walk(items, path + "[]", out)

doc = json.load(sys.stdin)
out = {}
walk([doc], "", out)
for p in sorted(out):
    if p: print(f"{p}: {'|'.join(sorted(out[p]))}")
