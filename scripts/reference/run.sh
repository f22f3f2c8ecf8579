#!/usr/bin/env bash
# Reference checks of `llavaguard convert` against Hugging Face transformers and llama.cpp's own
# converter, on tiny random checkpoints that transformers itself makes. Needs the Python venv
#   python3 -m venv .cache/refvenv && .cache/refvenv/bin/pip install torch transformers safetensors tokenizers sentencepiece gguf
# (a local package index: see pip config), the native addon (build/Release) and build/bin/llama-mtmd-cli.
# Prints what matched; exit status 1 if any check failed.
set -u
cd "$(dirname "$0")/../.."
PY=${PY:-.cache/refvenv/bin/python}
FIX=.cache/hf-fixtures
OUT=.cache/reference-out
LCPP=deps/llama.cpp
fail=0
step() { printf '\n== %s\n' "$*"; }
check() { if "$@"; then :; else echo "FAILED: $*"; fail=1; fi; }

if [ -z "${PY_GIVEN:-}" ] && [ "$PY" = .cache/refvenv/bin/python ]; then
  bash scripts/reference/setup-venv.sh || { echo "could not set up the Python venv (scripts/reference/setup-venv.sh)"; exit 2; }
fi
[ -x "$PY" ] || { echo "no Python venv at $PY (see the header of this script)"; exit 2; }
step "build the TypeScript sources (scripts/reference/tsconfig.json -> .cache/cvbuild)"
npx tsc -p scripts/reference/tsconfig.json || exit 2

if [ ! -f $FIX/llava15/model.safetensors ] || [ ! -f $FIX/onevision/model.safetensors ]; then
  step "make the tiny HF fixtures with transformers"
  "$PY" scripts/reference/make_fixtures.py $FIX > $OUT.fixtures.log 2>&1 || { cat $OUT.fixtures.log; exit 2; }
fi
rm -rf $OUT && mkdir -p $OUT

step "convert with llavaguard (TypeScript)"
for fam in llava15 onevision; do
  for ty in f32 f16 q8_0; do check node scripts/reference/convert.mjs $FIX/$fam $OUT/$fam-$ty $ty 2>/dev/null; done
done

step "llama-mtmd-cli loads and runs each converted pair with an image"
"$PY" - <<'PYEOF'
w, h = 64, 48
d = bytearray()
for y in range(h):
    for x in range(w):
        d += bytes([(x * 7) & 255, (y * 13) & 255, ((x ^ y) * 5) & 255])
open(".cache/reference-out/test.ppm", "wb").write(b"P6\n%d %d\n255\n" % (w, h) + bytes(d))
PYEOF
for fam in llava15 onevision; do
  for ty in f32 f16 q8_0; do
    if timeout 300 build/bin/llama-mtmd-cli -m $OUT/$fam-$ty/model-$ty.gguf --mmproj $OUT/$fam-$ty/mmproj-$ty.gguf \
        --image $OUT/test.ppm -p "Is this image safe?" -n 4 --temp 0 -t 2 > $OUT/$fam-$ty.mtmd.log 2>&1; then
      echo "  $fam $ty: ok ($(grep -c 'encoding mtmd batch\|image slice encoded' $OUT/$fam-$ty.mtmd.log) image encode lines)"
    else
      echo "  $fam $ty: llama-mtmd-cli FAILED (see $OUT/$fam-$ty.mtmd.log)"; fail=1
    fi
  done
done

step "text-model tensors and metadata vs llama.cpp's convert_hf_to_gguf.py"
"$PY" scripts/reference/extract_text_model.py $FIX/onevision $OUT/onevision-text > /dev/null 2>&1 || { echo "extract failed"; fail=1; }
for ty in f32 f16; do
  "$PY" $LCPP/convert_hf_to_gguf.py $FIX/llava15 --outtype $ty --outfile $OUT/llava15-llamacpp-$ty.gguf > $OUT/llava15-llamacpp-$ty.log 2>&1 || { echo "llama.cpp convert failed (llava15 $ty)"; fail=1; }
  "$PY" $LCPP/convert_hf_to_gguf.py $OUT/onevision-text --outtype $ty --outfile $OUT/onevision-llamacpp-$ty.gguf > $OUT/onevision-llamacpp-$ty.log 2>&1 || { echo "llama.cpp convert failed (onevision $ty)"; fail=1; }
  for fam in llava15 onevision; do
    echo "-- $fam $ty"
    check "$PY" scripts/reference/compare_gguf.py $OUT/$fam-$ty/model-$ty.gguf $OUT/$fam-llamacpp-$ty.gguf
  done
done

step "tokenization vs HF tokenizers: llavaguard tokenize with and without --parse-special, decomposed Unicode and special-looking texts; token types vs llama.cpp's converter"
npx tsc -p tsconfig.json || { echo "could not build dist/ (the CLI)"; fail=1; }
for fam in llava15 onevision; do
  node scripts/reference/convert.mjs $FIX/$fam $OUT/$fam-vocab f32 --vocab-only > /dev/null 2>&1 || { echo "vocab-only conversion failed ($fam)"; fail=1; }
done
# llama.cpp's own GGUF of the Qwen2 fixture is tokenized too (its normalizer inferred from tokenizer.ggml.pre); of its
# LLaMA one only the token types are compared (32,002 tokens for the model's 32,064 rows: the model checks refuse it)
check "$PY" scripts/reference/check_tokenize.py $FIX/llava15 $OUT/llava15-vocab/vocab.gguf --llamacpp-types $OUT/llava15-llamacpp-f32.gguf
check "$PY" scripts/reference/check_tokenize.py $FIX/onevision $OUT/onevision-vocab/vocab.gguf --llamacpp $OUT/onevision-llamacpp-f32.gguf

step "tokenizer.model (SentencePiece protobuf) path vs llama.cpp's _set_vocab_sentencepiece (--vocab-only)"
check "$PY" scripts/reference/check_spm_vocab.py $OUT/spm

step "tokenization and logits vs transformers (our VisionModel API, F32 conversion)"
for fam in llava15 onevision; do
  check "$PY" scripts/reference/check_hf.py $FIX/$fam $OUT/$fam-f32/model-f32.gguf $OUT/$fam-f32/mmproj-f32.gguf --cache-type f32 2>/dev/null
  echo "  (with llama.cpp's default F16 KV cache:)"
  "$PY" scripts/reference/check_hf.py $FIX/$fam $OUT/$fam-f32/model-f32.gguf $OUT/$fam-f32/mmproj-f32.gguf --cache-type f16 2>/dev/null | grep "logits vs"
done

step "image pipelines (OneVision anyres_max_9, LLaVA-1.5 padding) vs transformers: tokens, embeddings, logits"
for fam in llava15 onevision; do
  check "$PY" scripts/reference/check_pipeline.py $FIX/$fam $OUT/$fam-f32/model-f32.gguf $OUT/$fam-f32/mmproj-f32.gguf 2>/dev/null
done

echo
if [ $fail = 0 ]; then echo "reference checks: all passed"; else echo "reference checks: FAILURES above"; fi
exit $fail
