#!/usr/bin/env python3
"""Compares two GGUF files (ours vs llama.cpp's convert_hf_to_gguf.py): tensor set, shapes, types and
bytes; metadata keys and values. Prints a summary; exit status 1 when a tensor differs.

  compare_gguf.py OURS.gguf REF.gguf [--ignore-key KEY ...]
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "deps", "llama.cpp", "gguf-py"))
from gguf import GGUFReader, GGUFValueType  # noqa: E402


def meta(r):
    out = {}
    for f in r.fields.values():
        if f.name.startswith("GGUF."):
            continue
        t = f.types[0] if f.types else None
        if t == GGUFValueType.ARRAY:
            et = f.types[1] if len(f.types) > 1 else None
            if et == GGUFValueType.STRING:
                v = [bytes(f.parts[i]).decode("utf-8", "replace") for i in f.data]
            else:
                v = [f.parts[i].tolist()[0] for i in f.data]
            out[f.name] = (f"ARRAY[{et.name if et is not None else '?'}]", v)
        elif t == GGUFValueType.STRING:
            out[f.name] = ("STRING", bytes(f.parts[f.data[0]]).decode("utf-8", "replace"))
        else:
            out[f.name] = (t.name if t is not None else "?", f.parts[f.data[0]].tolist()[0])
    return out


def short(v):
    s = repr(v)
    return s if len(s) < 120 else s[:117] + "..."


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ours")
    ap.add_argument("ref")
    args = ap.parse_args()
    a, b = GGUFReader(args.ours), GGUFReader(args.ref)
    ta = {t.name: t for t in a.tensors}
    tb = {t.name: t for t in b.tensors}
    bad = 0
    only_a, only_b = sorted(set(ta) - set(tb)), sorted(set(tb) - set(ta))
    if only_a:
        print(f"  tensors only in ours: {only_a}")
        bad += len(only_a)
    if only_b:
        print(f"  tensors only in llama.cpp's: {only_b}")
        bad += len(only_b)
    same = 0
    for n in sorted(set(ta) & set(tb)):
        x, y = ta[n], tb[n]
        if list(x.shape) != list(y.shape) or x.tensor_type != y.tensor_type:
            print(f"  {n}: ours {x.tensor_type.name}{list(x.shape)} vs {y.tensor_type.name}{list(y.shape)}")
            bad += 1
            continue
        if not np.array_equal(np.asarray(x.data).view(np.uint8), np.asarray(y.data).view(np.uint8)):
            diff = np.abs(np.asarray(x.data, dtype=np.float32) - np.asarray(y.data, dtype=np.float32)).max()
            print(f"  {n}: bytes differ (max abs diff {diff})")
            bad += 1
            continue
        same += 1
    print(f"tensors: {same}/{len(tb)} bit-identical (types/shapes equal), {bad} problems")
    ma, mb = meta(a), meta(b)
    same_k, diff_k = 0, []
    for k in sorted(mb):
        if k not in ma:
            diff_k.append(f"  missing in ours: {k} = {short(mb[k][1])} ({mb[k][0]})")
        elif ma[k] != mb[k]:
            if ma[k][0] == mb[k][0] and isinstance(ma[k][1], list) and len(ma[k][1]) == len(mb[k][1]):
                idx = [i for i, (p, q) in enumerate(zip(ma[k][1], mb[k][1])) if p != q]
                diff_k.append(f"  {k}: {len(idx)} of {len(mb[k][1])} elements differ, e.g. [{idx[0]}] ours {short(ma[k][1][idx[0]])} vs {short(mb[k][1][idx[0]])}")
            elif isinstance(ma[k][1], list) and isinstance(mb[k][1], list):
                n = min(len(ma[k][1]), len(mb[k][1]))
                idx = [i for i in range(n) if ma[k][1][i] != mb[k][1][i]]
                ex = f", e.g. [{idx[0]}] ours {short(ma[k][1][idx[0]])} vs {short(mb[k][1][idx[0]])}" if idx else ""
                diff_k.append(f"  {k}: ours {len(ma[k][1])} elements vs llama.cpp {len(mb[k][1])}; {len(idx)} of the first {n} differ{ex}")
            else:
                diff_k.append(f"  {k}: ours {short(ma[k][1])} ({ma[k][0]}) vs llama.cpp {short(mb[k][1])} ({mb[k][0]})")
        else:
            same_k += 1
    print(f"metadata: {same_k}/{len(mb)} of llama.cpp's keys present with the same type and value")
    for line in diff_k:
        print(line)
    extra = sorted(set(ma) - set(mb))
    if extra:
        print(f"  keys only in ours: {extra}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
