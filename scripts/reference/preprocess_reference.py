#!/usr/bin/env python3
"""Reference outputs of transformers' LLaVA-OneVision / LLaVA-1.5 preprocessing
for lib/preprocess (test/preprocess-*.test.ts).

Needs a venv with torch, transformers (>= 5, PIL backend classes) and pillow;
no model weights:

    python3 -m venv .cache/refvenv
    .cache/refvenv/bin/pip install torch transformers pillow
    .cache/refvenv/bin/python scripts/reference/preprocess_reference.py

Writes
  test/fixtures/preprocess/onevision-tokens.json   token counts for many sizes (model + processor logic)
  test/fixtures/preprocess/onevision-pixels.json   per-tile hashes / stats / sampled pixels
  test/fixtures/preprocess/onevision-pack.json     pack_image_features on deterministic features
  test/fixtures/preprocess/llava15-pixels.json     expand2square + CLIPImageProcessor
  .cache/preprocess-fixtures/*.png                 the generated input pictures
  .cache/preprocess-fixtures/*.u8                  every tile's full 8-bit pixels (CHW), for the
                                                   optional exhaustive comparison in the test

The generated pictures are integer formulas (see make_image) that the test
recomputes in TypeScript, so the fixtures stay small.
"""

import json
import math
import os
import sys
import types

import numpy as np
import torch
from PIL import Image

import transformers
from transformers.models.llava_onevision import modeling_llava_onevision as mo
from transformers.models.llava_onevision import processing_llava_onevision as po
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import (
    LlavaOnevisionImageProcessorPil,
)
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "test", "fixtures", "preprocess")
CACHE = os.path.join(ROOT, ".cache", "preprocess-fixtures")

PINPOINTS = [[h, w] for h in range(384, 2305, 384) for w in range(384, 2305, 384)]
M32 = 0xFFFFFFFF


# ---------------------------------------------------------------- pictures
def hash3(x, y, c):
    """32-bit integer hash of (x, y, c) arrays (uint64 arithmetic, masked)."""
    x = x.astype(np.uint64)
    y = y.astype(np.uint64)
    c = np.uint64(c)
    h = ((x * np.uint64(0x9E3779B1)) & np.uint64(M32)) ^ ((y * np.uint64(0x85EBCA77)) & np.uint64(M32)) ^ (
        (c * np.uint64(0xC2B2AE3D)) & np.uint64(M32)
    )
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x2C1B3C6D)) & np.uint64(M32)
    h ^= h >> np.uint64(12)
    h = (h * np.uint64(0x297A2D39)) & np.uint64(M32)
    h ^= h >> np.uint64(15)
    return h


def make_image(kind, w, h):
    """HxWx3 uint8; mirrored exactly by makeImage in test/preprocess-onevision.test.ts."""
    ys, xs = np.mgrid[0:h, 0:w]
    out = np.zeros((h, w, 3), dtype=np.int64)
    for c in range(3):
        noise = (hash3(xs, ys, c) & np.uint64(255)).astype(np.int64)
        if c == 0:
            grad = xs * 255 // max(w - 1, 1)
        elif c == 1:
            grad = ys * 255 // max(h - 1, 1)
        else:
            grad = (xs + ys) * 255 // max(w + h - 2, 1)
        if kind == "noise":
            v = noise
        elif kind == "grad":
            v = grad
        elif kind == "mix":
            checker = (((xs >> 5) ^ (ys >> 5)) & 1) * 120
            v = (grad * 2 + noise + checker) // 4 + (c * 17)
        else:
            raise ValueError(kind)
        out[:, :, c] = np.clip(v, 0, 255)
    return out.astype(np.uint8)


# ---------------------------------------------------------------- token counts
def fake_model():
    cfg = types.SimpleNamespace(
        vision_config=types.SimpleNamespace(image_size=384, patch_size=14),
        image_grid_pinpoints=PINPOINTS,
    )
    return types.SimpleNamespace(config=cfg)


def fake_processor():
    ip = types.SimpleNamespace(image_grid_pinpoints=PINPOINTS)
    p = types.SimpleNamespace(image_processor=ip, num_image_tokens=729, vision_aspect_ratio="anyres_max_9")
    p._get_unpadded_features = types.MethodType(po.LlavaOnevisionProcessor._get_unpadded_features, p)
    return p


def model_pack(features, hw, newline):
    """LlavaOnevisionModel.pack_image_features on one image."""
    out, lens = mo.LlavaOnevisionModel.pack_image_features(
        fake_model(), [features], torch.tensor([list(hw)]), image_newline=newline, vision_aspect_ratio="anyres_max_9"
    )
    return out[0], int(lens[0])


SIZES = [
    (1, 1), (1, 500), (500, 1), (2, 700), (700, 2), (3, 3), (10, 5000), (5000, 10),
    (384, 384), (383, 385), (385, 383), (768, 768), (1152, 1152), (2304, 2304), (2305, 2305), (5000, 5000),
    (1024, 768), (768, 1024), (1920, 1080), (1080, 1920), (1280, 720), (640, 480), (800, 600), (3024, 4032),
    (4000, 3000), (3000, 4000), (4000, 300), (300, 4000), (6000, 1000), (1000, 6000), (8000, 500),
    (571, 1713), (1713, 571), (577, 1731), (1000, 3000), (999, 2997), (1366, 768), (2560, 1440), (3840, 2160),
    (100, 200), (200, 100), (333, 777), (777, 333), (1234, 567), (567, 1234), (2048, 1536), (1536, 2048),
    (1600, 1200), (1200, 1600), (512, 512), (256, 1024), (1024, 256), (4096, 2160), (720, 1280),
    (1535, 1536), (1537, 1152), (2303, 769), (769, 2303), (4000, 4000), (12000, 9000),
]


def extra_sizes():
    """Sizes where unpad's int(round(x, 7)) / odd padding are at an edge (searched, deterministic)."""
    found = []
    rng = np.random.default_rng(1234)
    for _ in range(20000):
        w = int(rng.integers(1, 6000))
        h = int(rng.integers(1, 6000))
        best_h, best_w = transformers.image_processing_utils.select_best_resolution([h, w], PINPOINTS)
        cur_h, cur_w = best_h // 384 * 27, best_w // 384 * 27
        if w / h > cur_w / cur_h:
            v = h * (cur_w / w)
        else:
            v = w * (cur_h / h)
        frac = v - math.floor(v)
        if (frac > 0.9999999 or (0 < frac < 1e-9)) and len(found) < 12:
            found.append((w, h))
    return found


def token_counts():
    rows = []
    proc = fake_processor()
    sizes = SIZES + [s for s in extra_sizes() if s not in SIZES]
    for w, h in sizes:
        best_h, best_w = transformers.image_processing_utils.select_best_resolution([h, w], PINPOINTS)
        n_tiles = mo.image_size_to_num_patches([h, w], PINPOINTS, 384) - 1
        feats = torch.zeros((n_tiles + 1, 729, 1))
        packed, n_model = model_pack(feats, (h, w), torch.ones(1))
        n_proc = po.LlavaOnevisionProcessor._get_number_of_features(proc, h, w, 384, 384)
        newlines = int(packed[729:, 0].sum().item())
        rows.append(
            {
                "width": w,
                "height": h,
                "best": [best_w, best_h],
                "tiles": n_tiles,
                "tokens": n_model,
                "newlines": newlines,
                "processorTokens": n_proc,
            }
        )
    return rows


# ---------------------------------------------------------------- pixels
def checksum(u8):
    """Position-weighted sum of the bytes: sum(b[k] * ((((k * 2654435761) mod 2^32) >> 16) + 1)), exact in a double."""
    flat = u8.reshape(-1).astype(np.int64)
    k = np.arange(flat.size, dtype=np.uint64)
    wts = (((k * np.uint64(2654435761)) & np.uint64(M32)) >> np.uint64(16)).astype(np.int64) + 1
    return int((flat * wts).sum())


def to_u8(chw, mean, std):
    u = np.rint((chw.astype(np.float64) * np.array(std)[:, None, None] + np.array(mean)[:, None, None]) * 255)
    return np.clip(u, 0, 255).astype(np.uint8)


def sample_points(rng, n, size):
    return [(int(rng.integers(0, 3)), int(rng.integers(0, size)), int(rng.integers(0, size))) for _ in range(n)]


def summarize(arrs, mean, std, name, rng, size):
    """arrs: [n, 3, S, S] float32 → per-image hash + stats + samples; full u8 dump to .cache."""
    out = []
    dump = []
    for i, a in enumerate(arrs):
        u8 = to_u8(a, mean, std)
        # the stored floats are exactly the normalised u8 values: check
        back = ((u8.astype(np.float32) * np.float32(1 / 255)).astype(np.float32) - np.array(mean, dtype=np.float32)[:, None, None]) / np.array(
            std, dtype=np.float32
        )[:, None, None]
        err = float(np.abs(back - a).max())
        pts = sample_points(rng, 24, size)
        out.append(
            {
                "checksum": checksum(u8),
                "channelMean": [float(u8[c].mean()) for c in range(3)],
                "samples": [[c, y, x, int(u8[c, y, x])] for c, y, x in pts],
                "floatSamples": [[c, y, x, float(a[c, y, x])] for c, y, x in pts[:4]],
                "u8RoundTripErr": err,
            }
        )
        dump.append(u8)
    np.concatenate([d[None] for d in dump]).tofile(os.path.join(CACHE, name + ".u8"))
    return out


PIXEL_CASES = [
    ("mix", 1024, 768),
    ("noise", 571, 1713),
    ("grad", 4000, 300),
    ("mix", 384, 384),
    ("noise", 1, 500),
    ("mix", 500, 3),
    ("grad", 777, 333),
    ("mix", 1500, 2000),
    ("noise", 200, 100),
    ("mix", 4000, 3000),
]


def onevision_pixels():
    proc = LlavaOnevisionImageProcessorPil(
        image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5], size={"height": 384, "width": 384},
        image_grid_pinpoints=PINPOINTS, do_pad=True,
    )
    rng = np.random.default_rng(7)
    cases = []
    for kind, w, h in PIXEL_CASES:
        img = make_image(kind, w, h)
        name = f"ov-{kind}-{w}x{h}"
        Image.fromarray(img).save(os.path.join(CACHE, name + ".png"))
        pv = proc(Image.fromarray(img), return_tensors="np")["pixel_values"][0]  # [1 + tiles, 3, 384, 384]
        cases.append(
            {
                "kind": kind, "width": w, "height": h, "name": name, "count": int(pv.shape[0]),
                "images": summarize(pv, [0.5] * 3, [0.5] * 3, name, rng, 384),
            }
        )
        print(f"  {name}: {pv.shape[0]} images", file=sys.stderr)
    return cases


def expand2square(pil_img, background_color):
    """LLaVA (llava/mm_utils.py)."""
    width, height = pil_img.size
    if width == height:
        return pil_img
    elif width > height:
        result = Image.new(pil_img.mode, (width, width), background_color)
        result.paste(pil_img, (0, (width - height) // 2))
        return result
    else:
        result = Image.new(pil_img.mode, (height, height), background_color)
        result.paste(pil_img, ((height - width) // 2, 0))
        return result


LLAVA15_CASES = [("mix", 1024, 768), ("noise", 571, 1713), ("grad", 777, 333), ("mix", 336, 336), ("mix", 3, 500), ("noise", 200, 101)]


def llava15_pixels():
    proc = CLIPImageProcessorPil(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336})
    mean = list(proc.image_mean)
    std = list(proc.image_std)
    bg = tuple(int(x * 255) for x in mean)
    rng = np.random.default_rng(9)
    cases = []
    for kind, w, h in LLAVA15_CASES:
        img = make_image(kind, w, h)
        name = f"l15-{kind}-{w}x{h}"
        sq = expand2square(Image.fromarray(img), bg)
        pv = proc(sq, return_tensors="np")["pixel_values"]  # [1, 3, 336, 336]
        cases.append(
            {
                "kind": kind, "width": w, "height": h, "name": name, "background": list(bg),
                "images": summarize(pv, mean, std, name, rng, 336),
            }
        )
    return {"mean": mean, "std": std, "background": list(bg), "cases": cases}


# ---------------------------------------------------------------- pack_image_features
PACK_DIM = 3
PACK_SIZES = [(1024, 768), (4000, 3000), (571, 1713), (384, 384), (1, 500), (500, 1), (4000, 300), (777, 333), (1920, 1080), (2304, 2304)]


def pack_features(n_images):
    """[n, 729, dim] float32, value = ((t*7919 + i*104729 + d*7) % 2003) / 2003 - 0.5 (t = 0 is the overview)."""
    t, i, d = np.meshgrid(np.arange(n_images), np.arange(729), np.arange(PACK_DIM), indexing="ij")
    v = ((t * 7919 + i * 104729 + d * 7) % 2003) / 2003.0 - 0.5
    return v.astype(np.float32)


def pack_reference():
    rng = np.random.default_rng(11)
    cases = []
    for w, h in PACK_SIZES:
        n = mo.image_size_to_num_patches([h, w], PINPOINTS, 384)
        feats = torch.from_numpy(pack_features(n))
        newline = torch.tensor([10.0 + k for k in range(PACK_DIM)])
        packed, total = model_pack(feats, (h, w), newline)
        packed = packed.numpy().astype(np.float64)
        idx = sorted(set(int(x) for x in rng.integers(0, total, 120)) | {0, 728, 729, total - 1})
        cases.append(
            {
                "width": w, "height": h, "tokens": total,
                "columnSums": packed.sum(0).tolist(),
                "columnAbsSums": np.abs(packed).sum(0).tolist(),
                "newlineRows": [int(r) for r in np.nonzero(packed[:, 0] == 10.0)[0].tolist()][:8],
                "newlineCount": int((packed[:, 0] == 10.0).sum()),
                "rows": [[r] + packed[r].tolist() for r in idx],
            }
        )
    return {"dim": PACK_DIM, "cases": cases}


def main():
    os.makedirs(FIX, exist_ok=True)
    os.makedirs(CACHE, exist_ok=True)
    meta = {"transformers": transformers.__version__, "torch": torch.__version__, "pillow": Image.__version__}

    def write(name, obj):
        with open(os.path.join(FIX, name), "w") as f:
            json.dump({"generator": "scripts/reference/preprocess_reference.py", **meta, **obj}, f, separators=(",", ":"))
        print(f"wrote {name}: {os.path.getsize(os.path.join(FIX, name))} bytes", file=sys.stderr)

    rows = token_counts()
    mism = sum(1 for r in rows if r["tokens"] != r["processorTokens"])
    print(f"token sizes: {len(rows)}, model vs processor mismatches: {mism}", file=sys.stderr)
    write("onevision-tokens.json", {"pinpoints": PINPOINTS, "sizes": rows})
    write("onevision-pack.json", pack_reference())
    write("onevision-pixels.json", {"cases": onevision_pixels()})
    write("llava15-pixels.json", llava15_pixels())


if __name__ == "__main__":
    main()
