#!/usr/bin/env bash
# The Python venv of the reference checks, from the machine's local package index (pip is configured for it):
# transformers and friends serve as executable references only; the product never needs Python.
set -eu
cd "$(dirname "$0")/../.."
VENV=.cache/refvenv
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import torch, transformers, safetensors, tokenizers, sentencepiece, gguf, numpy, PIL" 2>/dev/null; then
  exit 0
fi
python3 -m venv "$VENV"
# The local index only: asking the public one first would just wait for a network that is not there.
index=()
[ -d /opt/pypi/simple ] && index+=(--index-url file:///opt/pypi/simple)
[ -d /opt/pypi-more/simple ] && index+=(--extra-index-url file:///opt/pypi-more/simple)
[ -d /opt/wheels ] && index+=(--find-links /opt/wheels)
"$VENV/bin/pip" install --quiet "${index[@]}" torch transformers safetensors tokenizers sentencepiece gguf numpy pillow protobuf
