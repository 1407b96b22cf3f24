#!/usr/bin/env python3
"""Cuts a vendor's OpenAPI document down to a corpus entry: every operation whose request body
offers multipart/form-data, the first few other operations (document order), and every
component they reach through $refs; everything else of the document (info, servers, tags,
security schemes) as published. The result means, for what it keeps, what the original means.

Usage: scripts/corpus-subset.py SPEC.json OUT.json [--others N]   (default N = 4)
"""
import json
import sys

METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]


def refs(value, out):
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str):
            out.add(ref)
        for child in value.values():
            refs(child, out)
    elif isinstance(value, list):
        for child in value:
            refs(child, out)


def unescape(segment):
    return segment.replace("~1", "/").replace("~0", "~")


def pointer(doc, ref):
    if not ref.startswith("#/"):
        return None
    node = doc
    for segment in ref[2:].split("/"):
        segment = unescape(segment)
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        else:
            return None
    return node


def is_multipart(doc, op):
    body = op.get("requestBody") or {}
    if "$ref" in body:
        body = pointer(doc, body["$ref"]) or {}
    return any(k.startswith("multipart/form-data") for k in (body.get("content") or {}))


def subset(doc, others):
    kept_paths = {}
    left = others
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        keep = {}
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            if is_multipart(doc, op):
                keep[method] = op
            elif left > 0:
                keep[method] = op
                left -= 1
        if keep:
            shared = {k: v for k, v in item.items() if k not in METHODS}
            kept_paths[path] = {**shared, **keep}
    out = {k: v for k, v in doc.items() if k not in ("paths", "components")}
    out["paths"] = kept_paths
    # The components reached from what is kept, and from the security schemes (whole).
    components = doc.get("components") or {}
    wanted = set()
    refs(kept_paths, wanted)
    seen = set()
    kept = {}
    while wanted:
        ref = wanted.pop()
        if ref in seen or not ref.startswith("#/components/"):
            continue
        seen.add(ref)
        parts = ref[len("#/components/"):].split("/")
        if len(parts) < 2:
            continue
        kind, name = parts[0], unescape(parts[1])
        target = (components.get(kind) or {}).get(name)
        if target is None:
            continue
        kept.setdefault(kind, {})[name] = target
        refs(target, wanted)
    if "securitySchemes" in components:
        kept["securitySchemes"] = components["securitySchemes"]
    # Keep the document's own order of components.
    out["components"] = {
        kind: {n: v for n, v in (components.get(kind) or {}).items() if n in kept[kind]}
        for kind in components
        if kind in kept
    }
    return out


def main():
    args = sys.argv[1:]
    others = 4
    if "--others" in args:
        i = args.index("--others")
        others = int(args[i + 1])
        del args[i : i + 2]
    source, target = args
    with open(source) as f:
        doc = json.load(f)
    with open(target, "w") as f:
        json.dump(subset(doc, others), f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
