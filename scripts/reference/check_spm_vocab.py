#!/usr/bin/env python3
"""The tokenizer.model (SentencePiece protobuf) path of the LLaVA-1.5 vocab: trains a small byte-fallback
SentencePiece BPE model with the sentencepiece library, puts it in a config-only LLaVA folder, converts
it with `--vocab-only` both with llavaguard (TypeScript) and with llama.cpp's convert_hf_to_gguf.py, and
compares the tokenizer keys (tokens, scores, types, special ids).

  check_spm_vocab.py WORK_DIR
"""
import json
import os
import subprocess
import sys

import sentencepiece as spm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
work = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".cache", "reference-out", "spm"))
hf = os.path.join(work, "hf")
os.makedirs(hf, exist_ok=True)
corpus = os.path.join(work, "corpus.txt")
with open(os.path.join(ROOT, "..", "shared", "llavaguard", "policy-v1.2-default.txt") if False else corpus, "w", encoding="utf-8") as f:
    for p in ("/work/shared/llavaguard/policy-v1.2-default.txt", "/work/shared/llavaguard/policy-v1.0-default.txt"):
        if os.path.exists(p):
            f.write(open(p, encoding="utf-8").read() + "\n")
    f.write("Grüße aus Köln 你好，世界 Привет мир 🚀 def f(x): return x\n" * 3)
spm.SentencePieceTrainer.train(input=corpus, model_prefix=os.path.join(hf, "tokenizer"), vocab_size=600, model_type="bpe",
                               byte_fallback=True, character_coverage=1.0, user_defined_symbols=["<extra>"], minloglevel=2)
sp = spm.SentencePieceProcessor(model_file=os.path.join(hf, "tokenizer.model"))
n = sp.get_piece_size()
vocab = n + 8  # padded, as the embeddings of real checkpoints are
cfg = {"architectures": ["LlavaForConditionalGeneration"], "model_type": "llava", "image_token_index": n,
       "text_config": {"model_type": "llama", "vocab_size": vocab, "hidden_size": 64, "intermediate_size": 128,
                       "num_hidden_layers": 1, "num_attention_heads": 1, "max_position_embeddings": 512, "rms_norm_eps": 1e-5},
       "vision_config": {"model_type": "clip_vision_model"}}
json.dump(cfg, open(os.path.join(hf, "config.json"), "w"))
json.dump({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True,
           "added_tokens_decoder": {str(n): {"content": "<image>", "special": True}}},
          open(os.path.join(hf, "tokenizer_config.json"), "w"))
ours = os.path.join(work, "ours")
subprocess.run(["node", os.path.join(ROOT, "scripts", "reference", "convert.mjs"), hf, ours, "f16", "--vocab-only"], check=True, stderr=subprocess.DEVNULL)
ref = os.path.join(work, "llamacpp-vocab.gguf")
subprocess.run([sys.executable, os.path.join(ROOT, "deps", "llama.cpp", "convert_hf_to_gguf.py"), hf, "--vocab-only", "--outfile", ref],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(f"sentencepiece model: {n} pieces (vocab_size {vocab}); comparing the --vocab-only files:")
r = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "reference", "compare_gguf.py"), os.path.join(ours, "vocab.gguf"), ref],
                   capture_output=True, text=True)
print(r.stdout.rstrip())
bad = [l for l in r.stdout.splitlines() if "tokenizer." in l and ("differ" in l or "missing" in l or " vs " in l)]
print("tokenizer keys identical to llama.cpp's: " + ("yes" if not bad else "NO"))
sys.exit(1 if bad else 0)
