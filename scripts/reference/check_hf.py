#!/usr/bin/env python3
"""Reference checks of the converted tiny fixtures against Hugging Face transformers / tokenizers:
  1. tokenization: llama.cpp ids of the converted vocab (our VisionModel.tokenize) vs the HF tokenizer on
     a varied corpus (the v1.2 policy from lib/policy, languages, emoji, code, whitespace runs);
  2. logits: llama.cpp's last-position logits (our VisionModel, text-only token ids, F32 conversion) vs
     transformers' logits for the same ids: relative error max|a-b| / max|b| must be < 1e-3.

  check_hf.py FIXTURE_DIR MODEL.gguf MMPROJ.gguf [--family llava15|onevision]
Exit status 1 when a check fails.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from transformers import AutoTokenizer

from hf_fixture import family, fixture_arg_parser, load_fixture_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CORPUS = [
    "Hello world",
    " leading space and trailing space ",
    "Grüße aus Köln – ça va? Ñandú, façade, naïve résumé",
    "你好，世界！我想在apple工作1314151天～ こんにちは、世界 안녕하세요 Привет, мир! нещо на Български مرحبا بالعالم שלום עולם नमस्ते दुनिया",
    "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ 🦙🦙 👩‍👩‍👧‍👦 🇩🇪 ❤️‍🔥",
    'def f(x):\n    return {"a": [1, 2, 3]}  # comment\n\tif (a && b) { c++; } else { x->y = *p; }',
    "a  b   c    d     e\n\n\n  \t\t x \r\n y      z\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n",
    "3 33 333 3333 33333 333333 3.3 3..3 3...3 1,000,000 0x1F 1e-5",
    "'''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, 'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL",
    '{\n    "rating": "Unsafe",\n    "category": "O2: Violence, Harm, or Cruelty",\n    "rationale": "The image shows..."\n}',
    "USER: <image>\nAssess the image. ASSISTANT:",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<image>\nHi<|im_end|>\n<|im_start|>assistant\n",
    "kāne ʻōlelo Hawaiʻi ĳ ß ẞ ﬁ Å Å",  # NFC vs NFD, ligatures
]

LOGIT_PROMPTS = [
    "USER: Is this image safe? Answer in JSON. ASSISTANT:",
    "Grüße aus Köln 🚀 你好，世界！ def f(x): return x**2",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nRate the image.<|im_end|>\n<|im_start|>assistant\n",
    " ".join(["The quick brown fox jumps over the lazy dog."] * 12),
]


def image_inputs(fixture, rgb, il, image_token_index):
    """transformers' pixel_values of rgb, (x/255 - mean) / std as CLIPImageProcessor computes it, and the ids of
    the image prompt llama_side.mjs evaluated (il: its imageLogits), with the image tokens in place."""
    pre = json.load(open(os.path.join(fixture, "preprocessor_config.json")))
    mean = np.array(pre["image_mean"], dtype=np.float32)[:, None, None]
    std = np.array(pre["image_std"], dtype=np.float32)[:, None, None]
    px = ((rgb.transpose(2, 0, 1).astype(np.float32) / 255.0) - mean) / std
    n_img = il["imageTokens"]
    ids = il["before"] + [image_token_index] * n_img + il["after"]
    return px, n_img, ids


def main():
    ap = fixture_arg_parser()
    ap.add_argument("--cache-type", default="f32", help="llama.cpp KV cache type (f16 is its default; f32 isolates the conversion)")
    args = ap.parse_args()
    fam = family(args)
    tok = AutoTokenizer.from_pretrained(args.fixture)
    model = load_fixture_model(args.fixture, fam)
    bos = [tok.bos_token_id] if fam == "llava15" and tok.bos_token_id is not None else []
    seqs = [(bos + tok.encode(p, add_special_tokens=False))[:256] for p in LOGIT_PROMPTS]

    img = None
    if True:
        # a square picture of exactly image_size: llama.cpp copies it without resizing, so both sides
        # see the same pixels; HF pixel_values = (x/255 - mean) / std, as CLIPImageProcessor computes it
        size = model.config.vision_config.image_size
        yy, xx = np.mgrid[0:size, 0:size]
        rgb = np.stack([(xx * 7 + yy * 3) % 256, (yy * 13) % 256, ((xx ^ yy) * 5) % 256], axis=-1).astype(np.uint8)
        img = {"rgb": __import__("base64").b64encode(rgb.tobytes()).decode(), "width": size, "height": size,
               "before": "USER: ", "after": "\nIs it safe? ASSISTANT:"} if fam == "llava15" else {
               "rgb": __import__("base64").b64encode(rgb.tobytes()).decode(), "width": size, "height": size,
               "before": "<|im_start|>user\n", "after": "\nIs it safe?<|im_end|>\n<|im_start|>assistant\n"}
    work = tempfile.mkdtemp(prefix=f"ref-{fam}-")
    req = {"model": os.path.abspath(args.model), "mmproj": os.path.abspath(args.mmproj), "texts": CORPUS, "sequences": seqs, "policy": True, "cacheType": args.cache_type, "imageLogits": img,
           "image": {"before": "USER: ", "after": "\nIs it safe? ASSISTANT:"} if fam == "llava15" else
                    {"before": "<|im_start|>user\n", "after": "\nIs it safe?<|im_end|>\n<|im_start|>assistant\n"}}
    with open(os.path.join(work, "req.json"), "w") as f:
        json.dump(req, f)
    subprocess.run(["node", os.path.join(ROOT, "scripts", "reference", "llama_side.mjs"), os.path.join(work, "req.json"), work], check=True)
    with open(os.path.join(work, "result.json")) as f:
        res = json.load(f)

    ok = True
    im = res.get("image")
    if im:
        good = im["finite"] and im["nLogits"] == model.config.text_config.vocab_size and im["imageTokens"] > 0
        print(f"[{fam}] image prompt through VisionModel: {im['imageTokens']} image tokens of {im['promptTokens']}, "
              f"{im['nLogits']} logits, {'finite' if im['finite'] else 'NOT FINITE'} ({'OK' if good else 'FAIL'})")
        ok = ok and good
    il = res.get("imageLogits")
    if il and fam == "onevision":
        # llama.cpp's anyres path for a picture of exactly image_size: the overview and the one tile are
        # that picture unresized, their features concatenated with no image_newline (a known gap to
        # LLaVA-OneVision's own packing); emulate that with HF's tower + projector and compare
        px, n_img, ids = image_inputs(args.fixture, rgb, il, model.config.image_token_index)
        with torch.no_grad():
            vt = model.model.vision_tower if hasattr(model.model, "vision_tower") else model.vision_tower
            hs = vt(torch.from_numpy(px[None]), output_hidden_states=True).hidden_states[model.config.vision_feature_layer]
            feats = model.model.multi_modal_projector(hs)[0]
            reps = n_img // feats.shape[0]
            ids_t = torch.tensor([ids])
            embeds = model.get_input_embeddings()(ids_t)
            embeds[ids_t == model.config.image_token_index] = feats.repeat(reps, 1)
            emu = model(inputs_embeds=embeds).logits[0, -1].numpy().astype(np.float64)
        got = np.fromfile(il["file"], dtype=np.float32).astype(np.float64)
        rel_e = np.abs(got - emu).max() / np.abs(emu).max()
        good_e = rel_e < 1e-2 and int(np.argmax(got)) == int(np.argmax(emu)) and reps * feats.shape[0] == n_img
        print(f"[{fam}] image prompt logits ({n_img} image tokens = {reps} x {feats.shape[0]}) vs transformers' "
              f"SigLIP + projector on the same tiles: max|d|/max|ref| = {rel_e:.2e} ({'OK, < 1e-2' if good_e else 'FAIL'})")
        ok = ok and good_e
    if il and fam == "llava15":
        px, n_img, ids = image_inputs(args.fixture, rgb, il, model.config.image_token_index)
        with torch.no_grad():
            ref = model(input_ids=torch.tensor([ids]), pixel_values=torch.from_numpy(px[None])).logits[0, -1].numpy().astype(np.float64)
        got = np.fromfile(il["file"], dtype=np.float32).astype(np.float64)
        rel = np.abs(got - ref).max() / np.abs(ref).max()
        same_len = len(ids) == il["promptTokens"]
        good = same_len and rel < 1e-2 and int(np.argmax(got)) == int(np.argmax(ref))
        print(f"[{fam}] image prompt logits vs transformers ({n_img} image tokens, {len(ids)} positions"
              f"{'' if same_len else ' (llama.cpp counted ' + str(il['promptTokens']) + ')'}): max|d|/max|ref| = {rel:.2e}, "
              f"argmax {'equal' if int(np.argmax(got)) == int(np.argmax(ref)) else 'DIFFERENT'} ({'OK, < 1e-2' if good else 'FAIL'})")
        # Before patches/llama.cpp/0001 (class token concatenated after the patches in mtmd's llava graph)
        # this differed by ~0.3; with it, llama.cpp computes what transformers computes.
        ok = ok and good
    texts = CORPUS + [res["policy"]]
    n_match = 0
    for text, ids in zip(texts, res["tokens"]):
        hf = tok.encode(text, add_special_tokens=False)
        if hf == ids:
            n_match += 1
        else:
            ok = False
            k = next((i for i, (a, b) in enumerate(zip(hf, ids)) if a != b), min(len(hf), len(ids)))
            print(f"  [{fam}] tokenization differs for {text[:40]!r}: HF {len(hf)} tokens, llama.cpp {len(ids)}; first at {k}: "
                  f"HF {hf[k:k + 5]} {tok.convert_ids_to_tokens(hf[k:k + 5])} vs llama.cpp {ids[k:k + 5]} {tok.convert_ids_to_tokens(ids[k:k + 5])}")
    pol = len(res["tokens"][-1])
    print(f"[{fam}] tokenization: {n_match}/{len(texts)} texts give identical ids (policy v1.2: {pol} tokens, {len(res['policy'])} chars)")

    worst = 0.0
    with torch.no_grad():
        for i, (seq, lf) in enumerate(zip(seqs, res["logitFiles"])):
            ref = model(input_ids=torch.tensor([seq])).logits[0, -1].numpy().astype(np.float64)
            got = np.fromfile(lf, dtype=np.float32).astype(np.float64)
            if got.shape != ref.shape:
                print(f"  [{fam}] sequence {i}: llama.cpp gave {got.shape[0]} logits, HF {ref.shape[0]}")
                ok = False
                continue
            rel = np.abs(got - ref).max() / np.abs(ref).max()
            rel2 = np.linalg.norm(got - ref) / np.linalg.norm(ref)
            worst = max(worst, rel)
            same_top = int(np.argmax(got)) == int(np.argmax(ref))
            print(f"  [{fam}] sequence {i} ({len(seq)} tokens): max|d|/max|ref| = {rel:.2e}, ||d||/||ref|| = {rel2:.2e}, argmax {'equal' if same_top else 'DIFFERENT'}")
            if rel >= 1e-3 or not same_top:
                ok = False
    print(f"[{fam}] logits vs transformers (F32 weights, {args.cache_type} KV cache): worst relative error {worst:.2e} ({'< 1e-3 OK' if worst < 1e-3 else 'FAIL'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
