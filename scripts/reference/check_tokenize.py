#!/usr/bin/env python3
"""Tokenization vs Hugging Face `tokenizers`, through the CLI (`llavaguard tokenize [--parse-special]`), on both
vocabularies (LLaMA-2 SentencePiece: llava15; Qwen2 byte-level BPE: onevision), with and without special-token
parsing. HF's side is tokenizer.json itself: encode(text, add_special_tokens=False), and with
encode_special_tokens = True for "without" (special added tokens read as text; non-special ones still split, as
llama.cpp does with USER_DEFINED tokens). The corpus adds decomposed Unicode (Qwen2 normalizes to NFC) and
special-looking text (</s>, <s>, <unk>, <|im_start|> inside prose) to check_hf.py's.

Also checks the GGUF made by llama.cpp's own convert_hf_to_gguf.py (normalizer inferred from tokenizer.ggml.pre),
and compares token types with it (compare_types: equal but where llama.cpp's converter departs from HF's flags).
Texts holding HF's non-special added tokens that llama.cpp's converter made CONTROL are where its GGUF differs
from HF without special-token parsing (it reads them as text): reported, not failed.

  check_tokenize.py FIXTURE_DIR OURS.gguf [--llamacpp LLAMACPP.gguf | --llamacpp-types LLAMACPP.gguf]
Exit status 1 when a check fails.
"""
import argparse
import json
import os
import subprocess
import sys
import unicodedata

from tokenizers import Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "deps", "llama.cpp", "gguf-py"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gguf import GGUFReader  # noqa: E402
from check_hf import CORPUS  # noqa: E402

CLI = os.path.join(ROOT, "dist", "lib", "cli", "main.js")  # the built CLI (npx tsc -p tsconfig.json)

DECOMPOSED = [
    "cafe\u0301 re\u0301sume\u0301 nai\u0308ve",  # e + combining acute, i + diaeresis
    unicodedata.normalize("NFD", "Grüße aus Köln – ça va? Ñandú, façade"),
    unicodedata.normalize("NFD", "Vi\u1ec7t Nam, \u1ea4n \u0110\u1ed9, Ελληνικά: άέήίόύώ"),
    "\u1100\u1161\u11a8 \u1112\u1161\u11ab\u1100\u1173\u11af",  # Hangul as conjoining jamo (NFC composes them)
    "\u212b \u2126 A\u030a \u00c5",  # Angstrom and Ohm signs (NFC maps them), A + ring, Å
    "\ufb01 \u2460 x\u00b2 \uff21\uff22",  # compatibility forms that NFC keeps (NFKC would not)
    "e\u0301\u0323 e\u0323\u0301 q\u0307\u0323",  # combining marks in both orders (NFC reorders)
    "a\u0338 = \u226f ; >\u0338 after text",  # > + long solidus composes to ≯ in plain text
    "<|im_end|>\u0338 and <s>\u0301",  # a combining mark right after an added token: not composed with it
]

SPECIAL_LOOKING = [
    "the </s> tag ends a sentence in SentencePiece",
    "<s>hello</s> world <s> </s>",
    "an <unk> word and <pad> and <image> inside prose",
    "write <|im_start|>user then <|im_end|> in prose <|endoftext|>",
    "Rate the image.<|im_end|>\n<|im_start|>assistant\n{\"rating\": \"Safe\"}",
    "<think>reasoning</think> <tool_call>x</tool_call>",
    "partial <|im_start| and |im_end|> and < s > and <<s>> and </s >",
    "bytes as text: <0x41> <0x0A> ▁leading ▁▁",
    "<__media__> is our image marker, [PAD151700] a padding name",
    "<|fim_prefix|>def f(<|fim_suffix|>):<|fim_middle|>",
]

TEXTS = CORPUS + DECOMPOSED + SPECIAL_LOOKING


def cli_tokenize(model, texts, parse_special):
    args = ["node", CLI, "tokenize", "--model", model] + (["--parse-special"] if parse_special else [])
    out = subprocess.run(args, input="".join(json.dumps(t) + "\n" for t in texts), capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"llavaguard tokenize failed: {out.stderr}")
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert len(lines) == len(texts), (len(lines), len(texts))
    return lines


def hf_tokenize(tok, texts, parse_special):
    tok.encode_special_tokens = not parse_special
    return [tok.encode(t, add_special_tokens=False).ids for t in texts]


def token_types(path):
    r = GGUFReader(path)
    f = r.fields["tokenizer.ggml.token_type"]
    types = [int(f.parts[i][0]) for i in f.data]
    g = r.fields["tokenizer.ggml.tokens"]
    return types, [bytes(g.parts[i]).decode("utf-8", "replace") for i in g.data]


def looks_special(t):
    # llama.cpp's does_token_look_special (conversion/base.py)
    return (t in ("<pad>", "<mask>", "<2mass>", "[@BOS@]") or (t.startswith("<|") and t.endswith("|>"))
            or (t.startswith("<\uff5c") and t.endswith("\uff5c>")) or (t.startswith("<unused") and t.endswith(">")))


def compare_types(fam, hf_added, ours, ref):
    """Token types equal to llama.cpp's converter's, but where it departs from HF's own flags: (a) HF's non-special
    added tokens that look special (<|...|>), CONTROL there and USER_DEFINED here; (b) HF's special added tokens it
    types USER_DEFINED (it reads their flag from tokenizer_config.json's added_tokens_decoder, which transformers 5
    no longer writes). Ours may be longer: padding to the model's rows, "[PAD<id>]" UNUSED."""
    (ta, tokens), (tb, _) = token_types(ours), token_types(ref)
    n = min(len(ta), len(tb))
    diff = [i for i in range(n) if ta[i] != tb[i]]
    by_look = [i for i in diff if hf_added.get(tokens[i]) is False and looks_special(tokens[i]) and (ta[i], tb[i]) == (4, 3)]
    unflagged = [i for i in diff if hf_added.get(tokens[i]) is True and (ta[i], tb[i]) == (3, 4)]
    unexpected = sorted(set(diff) - set(by_look) - set(unflagged))
    padding_ok = all(t == 5 and tokens[i] == f"[PAD{i}]" for i, t in enumerate(ta[n:], n)) and len(ta) >= len(tb)
    good = not unexpected and padding_ok
    names = lambda ids: ", ".join(tokens[i] for i in ids) or "none"  # noqa: E731
    print(f"[{fam}] token types vs llama.cpp's converter: {n - len(diff)}/{n} equal"
          f"{f' (ours padded to {len(ta)} with [PAD] UNUSED)' if len(ta) > len(tb) else ''}; HF's flag kept where it "
          f"departs: {len(by_look)} non-special made CONTROL by look ({names(by_look)}), {len(unflagged)} special typed "
          f"USER_DEFINED ({names(unflagged)})" + ("" if good else f"; UNEXPECTED: {[(i, tokens[i], ta[i], tb[i]) for i in unexpected[:10]]}"
                                                   + ("" if padding_ok else "; padding is not [PAD] UNUSED")))
    return good


def compare(label, tok, model, texts, tolerated=lambda text: False):
    ok = True
    for parse_special in (True, False):
        ours = cli_tokenize(model, texts, parse_special)
        ref = hf_tokenize(tok, texts, parse_special)
        same = excused = 0
        for text, a, b in zip(texts, ours, ref):
            if a == b:
                same += 1
                continue
            if not parse_special and tolerated(text):
                excused += 1
                continue
            ok = False
            k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            print(f"  [{label}] parse_special={parse_special} differs for {text[:50]!r}: first at {k}: "
                  f"HF {b[k:k + 5]} {tok.decode(b[k:k + 5])!r} vs llavaguard {a[k:k + 5]} {tok.decode(a[k:k + 5])!r}")
        note = f", {excused} tolerated (non-special added tokens llama.cpp's converter made CONTROL)" if excused else ""
        print(f"[{label}] {'with' if parse_special else 'without'} special-token parsing: {same}/{len(texts)} texts "
              f"identical to HF tokenizers{note}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixture")
    ap.add_argument("ours")
    ap.add_argument("--llamacpp", help="llama.cpp's GGUF of the same checkpoint: tokenization and token types")
    ap.add_argument("--llamacpp-types", help="llama.cpp's GGUF: token types only (for one the model checks refuse)")
    args = ap.parse_args()
    fam = os.path.basename(os.path.normpath(args.fixture))
    tok = Tokenizer.from_file(os.path.join(args.fixture, "tokenizer.json"))
    hf_added = {a.content: a.special for a in tok.get_added_tokens_decoder().values()}
    ok = compare(f"{fam} ours", tok, args.ours, TEXTS)
    if args.llamacpp:
        promoted = [t for t, special in hf_added.items() if not special and looks_special(t)]
        ok = compare(f"{fam} llama.cpp's GGUF", tok, args.llamacpp, TEXTS,
                     lambda text: any(p in text for p in promoted)) and ok
    types_of = args.llamacpp or args.llamacpp_types
    if types_of:
        ok = compare_types(fam, hf_added, args.ours, types_of) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
