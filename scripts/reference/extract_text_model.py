#!/usr/bin/env python3
"""Saves the language model of a LLaVA-OneVision checkpoint as a plain Qwen2ForCausalLM folder (weights,
config, tokenizer), because llama.cpp's convert_hf_to_gguf.py has no LlavaOnevisionForConditionalGeneration
entry; its Qwen2 conversion of that folder is the reference for our text-model tensors.

  extract_text_model.py ONEVISION_DIR OUT_DIR
"""
import shutil
import sys

import torch
from transformers import LlavaOnevisionForConditionalGeneration, Qwen2ForCausalLM

src, out = sys.argv[1], sys.argv[2]
m = LlavaOnevisionForConditionalGeneration.from_pretrained(src, dtype=torch.float32)
text = Qwen2ForCausalLM(m.config.text_config)
missing, unexpected = text.model.load_state_dict(m.model.language_model.state_dict(), strict=True), None
text.lm_head.weight = text.model.embed_tokens.weight if m.config.text_config.tie_word_embeddings else m.lm_head.weight
text.save_pretrained(out, safe_serialization=True)
for f in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja"):
    try:
        shutil.copy(f"{src}/{f}", f"{out}/{f}")
    except FileNotFoundError:
        pass
print("wrote", out)
