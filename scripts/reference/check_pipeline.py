#!/usr/bin/env python3
"""Reference check of our image pipelines (lib/pipeline: OneVision anyres_max_N, LLaVA-1.5 padding) against
transformers on the tiny converted fixtures, image by image:
  1. the number of image tokens (transformers refuses a prompt whose image-token count is not its own);
  2. the embedding sequence at the image positions: ours (what we decode into the text model) vs the
     `inputs_embeds` transformers' model gives its language model, max|d| / max|ref| < 1e-3;
  3. the first-token logits, max|d| / max|ref| < 1e-3 and the same argmax.
transformers runs end to end (its processor with backend PIL, its model's forward); nothing of ours is used there.

  check_pipeline.py FIXTURE_DIR MODEL.gguf MMPROJ.gguf [--family llava15|onevision]
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil
from transformers.models.llava_onevision.image_processing_pil_llava_onevision import LlavaOnevisionImageProcessorPil

from hf_fixture import family, fixture_arg_parser, load_fixture_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# tiny towers: OneVision tiles of 28 px (pinpoints up to 4x4 tiles, so anyres_max_9 downsamples the largest),
# LLaVA-1.5 input 32 px
SIZES = {
    "onevision": [(28, 28), (40, 30), (30, 40), (13, 90), (90, 13), (100, 100), (112, 112), (57, 171), (200, 150), (3, 120), (111, 29)],
    "llava15": [(32, 32), (50, 20), (20, 50), (77, 33), (5, 64)],
}
PROMPTS = {
    "onevision": ("<|im_start|>user\n", "\nIs it safe?<|im_end|>\n<|im_start|>assistant\n", False),
    "llava15": ("USER: ", "\nIs it safe? ASSISTANT:", True),
}


def make_image(w, h, seed):
    yy, xx = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(seed)
    base = np.stack([(xx * 255 // max(w - 1, 1)), (yy * 255 // max(h - 1, 1)), ((xx * 3 + yy * 5) % 256)], axis=-1)
    noise = rng.integers(-40, 41, size=(h, w, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def expand2square(pil_img, background_color):
    """LLaVA (llava/mm_utils.py)."""
    width, height = pil_img.size
    if width == height:
        return pil_img
    side = max(width, height)
    result = Image.new(pil_img.mode, (side, side), background_color)
    result.paste(pil_img, ((side - width) // 2, (side - height) // 2))
    return result


def language_model(model):
    inner = getattr(model, "model", model)
    return getattr(inner, "language_model", None) or model.language_model


def main():
    args = fixture_arg_parser().parse_args()
    fam = family(args)
    pre = json.load(open(os.path.join(args.fixture, "preprocessor_config.json")))
    model = load_fixture_model(args.fixture, fam)
    image_token = getattr(model.config, "image_token_index", None) or model.config.image_token_id

    work = tempfile.mkdtemp(prefix=f"pipe-{fam}-")
    files = []
    for i, (w, h) in enumerate(SIZES[fam]):
        f = os.path.join(work, f"img-{w}x{h}.png")
        Image.fromarray(make_image(w, h, i)).save(f)
        files.append(f)
    before, after, add_special = PROMPTS[fam]
    req = {"model": os.path.abspath(args.model), "mmproj": os.path.abspath(args.mmproj), "images": files,
           "before": before, "after": after, "addSpecial": add_special, "cacheType": "f32"}
    with open(os.path.join(work, "req.json"), "w") as fh:
        json.dump(req, fh)
    subprocess.run(["node", os.path.join(ROOT, "scripts", "reference", "pipeline_side.mjs"), os.path.join(work, "req.json"), work], check=True)
    res = json.load(open(os.path.join(work, "result.json")))

    captured = {}

    def grab(_module, _args, kwargs):
        captured["embeds"] = kwargs.get("inputs_embeds")

    language_model(model).register_forward_pre_hook(grab, with_kwargs=True)

    if fam == "onevision":
        proc = LlavaOnevisionImageProcessorPil(
            image_mean=pre["image_mean"], image_std=pre["image_std"], size=pre["size"],
            image_grid_pinpoints=pre["image_grid_pinpoints"], do_pad=True)
    else:
        side = model.config.vision_config.image_size
        proc = CLIPImageProcessorPil(size={"shortest_edge": side}, crop_size={"height": side, "width": side},
                                     image_mean=pre["image_mean"], image_std=pre["image_std"])
        bg = tuple(int(x * 255) for x in pre["image_mean"])

    ok = res["pipeline"] == ("onevision-anyres" if fam == "onevision" else "llava15-pad")
    print(f"[{fam}] pipeline chosen from the converted mmproj's metadata: {res['pipeline']} ({'OK' if ok else 'FAIL'})")
    worst_e = worst_l = 0.0
    for im in res["images"]:
        pil = Image.open(im["file"]).convert("RGB")
        if fam == "onevision":
            batch = proc(pil, return_tensors="pt")
            kwargs = {"pixel_values": batch["pixel_values"], "image_sizes": batch["image_sizes"]}
        else:
            batch = proc(expand2square(pil, bg), return_tensors="pt")
            kwargs = {"pixel_values": batch["pixel_values"]}
        n = im["imageTokens"]
        ids = res["before"] + [image_token] * n + res["after"]
        try:
            with torch.no_grad():
                ref_logits = model(input_ids=torch.tensor([ids]), **kwargs).logits[0, -1].numpy().astype(np.float64)
        except ValueError as e:  # transformers checks the image-token count against its own features
            print(f"  [{fam}] {im['width']}x{im['height']}: transformers rejects {n} image tokens: {e}")
            ok = False
            continue
        start = len(res["before"])
        ref_e = captured["embeds"][0, start:start + n].numpy().astype(np.float64)
        got_e = np.fromfile(im["embeddings"], dtype=np.float32).astype(np.float64).reshape(n, -1)
        got_l = np.fromfile(im["logits"], dtype=np.float32).astype(np.float64)
        rel_e = np.abs(got_e - ref_e).max() / np.abs(ref_e).max()
        rel_l = np.abs(got_l - ref_logits).max() / np.abs(ref_logits).max()
        # a random model has near-ties: a different argmax counts only if it is not within the error of the top
        tol = 2 * np.abs(got_l - ref_logits).max()
        same = int(np.argmax(got_l)) == int(np.argmax(ref_logits)) or ref_logits[int(np.argmax(got_l))] >= ref_logits.max() - tol
        good = rel_e < 1e-3 and rel_l < 1e-3 and same and im["promptTokens"] == len(ids)
        worst_e, worst_l = max(worst_e, rel_e), max(worst_l, rel_l)
        print(f"  [{fam}] {im['width']}x{im['height']}: {n} image tokens (transformers agrees), embeddings {rel_e:.2e}, "
              f"logits {rel_l:.2e}, argmax {'equal' if int(np.argmax(got_l)) == int(np.argmax(ref_logits)) else ('a near-tie' if same else 'DIFFERENT')} ({'OK' if good else 'FAIL'})")
        ok = ok and good
    print(f"[{fam}] image pipeline vs transformers on {len(res['images'])} images: worst embeddings {worst_e:.2e}, "
          f"worst logits {worst_l:.2e} ({'< 1e-3 OK' if ok else 'FAIL'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
