"""What the transformers sides of the reference checks (check_hf.py, check_pipeline.py) share: the command line
(a tiny HF fixture folder, our converted model and mmproj, its family) and the fixture loaded in float32."""
import argparse
import os

import torch
from transformers import LlavaForConditionalGeneration, LlavaOnevisionForConditionalGeneration


def fixture_arg_parser():
    """FIXTURE MODEL MMPROJ [--family llava15|onevision]; a check adds its own options."""
    ap = argparse.ArgumentParser()
    ap.add_argument("fixture")
    ap.add_argument("model")
    ap.add_argument("mmproj")
    ap.add_argument("--family", default=None)
    return ap


def family(args):
    """--family, or the fixture folder's name (make_fixtures.py writes llava15/ and onevision/)."""
    return args.family or os.path.basename(os.path.normpath(args.fixture))


def load_fixture_model(fixture, fam):
    cls = LlavaOnevisionForConditionalGeneration if fam == "onevision" else LlavaForConditionalGeneration
    return cls.from_pretrained(fixture, dtype=torch.float32).eval()
