#!/usr/bin/env python3
"""Runs MMSA's own BERT models (BERT-MAG, MISA, CENET, MMIM, TETFN, ALMT) through the reference runner (run_mmsa_baseline.py: one
MMSA_run() with per-epoch timing and the test metrics in OUT/summary.json) on a small Hugging Face-layout BERT, for
accuracy runs side by side with mmsa on the same checkpoint and feature file.

What it adds to the runner, in-process (no MMSA file is modified):
  - `transformers` and `pytorch_transformers` are the Hugging Face-layout stand-in of tools/hf-bert (BertModel's
    module and parameter names and maths), which loads the checkpoint MMSA_HF_BERT_DIR names for every pretrained id
    MMSA asks for (default: test/fixtures/hf-bert/small-bert, 2 layers, hidden 128);
  - MAG, CE, MISA's project_t and the text-width layers of MMIM, TETFN and ALMT are sized from that BERT's hidden
    size (tools/hf-bert/mmsa_small_bert.py; MMSA's loader would size them for 768).

The patches MMSA's own code needs on a CPU-only machine (CENET's and ALMT's do_test keyword, ...) are
tools/run-mmsa-reference.py's, which this wraps: it runs the runner after adding the stand-ins above.

Usage: MMSA_SRC=<MMSA's src/> MMSA_RUNNER=<dir of run_mmsa_baseline.py> [MMSA_SHIMS=<its shims/>]
       [MMSA_HF_BERT_DIR=<checkpoint dir>] /usr/bin/python3 tools/run-mmsa-small-bert.py --model bert_mag
       --dataset mosi --pkl FILE --seed 1111 --threads 1 --out DIR
(the arguments are the runner's). Needs Debian's python3-torch.
"""
import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BERT_MODELS = ("bert_mag", "misa", "cenet", "mmim", "tetfn", "almt")


def load_reference_tool():
    spec = importlib.util.spec_from_file_location("run_mmsa_reference", os.path.join(HERE, "run-mmsa-reference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare(model):
    """The stand-ins are imported before MMSA: the runner puts its own shims (another `transformers`, an `einops`
    without `repeat`) ahead of MMSA later, but MMSA's modules are imported here and keep the stand-ins' classes and
    functions (ALMT calls einops' rearrange and repeat, which tools/einops-standin computes)."""
    import transformers  # noqa: F401  (the stand-in, cached in sys.modules)
    import MMSA.run  # noqa: F401
    from mmsa_small_bert import patch_small_bert_widths

    patch_small_bert_widths(model)


def main():
    model = sys.argv[sys.argv.index("--model") + 1] if "--model" in sys.argv else None
    if model not in BERT_MODELS:
        sys.exit("--model must be bert_mag, misa, cenet, mmim, tetfn or almt (the models that run BERT inside)")
    os.environ.setdefault("MMSA_HF_BERT_DIR", os.path.join(REPO, "test", "fixtures", "hf-bert", "small-bert"))
    load_reference_tool().main(first_paths=[os.path.join(HERE, "hf-bert"), os.path.join(HERE, "einops-standin")], prepare=prepare)


if __name__ == "__main__":
    main()
