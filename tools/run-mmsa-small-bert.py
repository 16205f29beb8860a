#!/usr/bin/env python3
"""Runs MMSA's own BERT models (BERT-MAG, MISA, CENET, MMIM, TETFN, ALMT) through the reference runner (run_mmsa_baseline.py: one
MMSA_run() with per-epoch timing and the test metrics in OUT/summary.json) on a small Hugging Face-layout BERT, for
accuracy runs side by side with mmsa on the same checkpoint and feature file.

What it adds to the runner, in-process (no MMSA file is modified):
  - `transformers` and `pytorch_transformers` are the Hugging Face-layout stand-in of tools/hf-bert (BertModel's
    module and parameter names and maths), which loads the checkpoint MMSA_HF_BERT_DIR names for every pretrained id
    MMSA asks for (default: test/fixtures/hf-bert/small-bert, 2 layers, hidden 128);
  - MAG, CE, MISA's project_t and the text-width layers of MMIM, TETFN and ALMT are sized from that BERT's hidden
    size (tools/hf-bert/mmsa_small_bert.py; MMSA's loader would size them for 768);
  - CENET's and ALMT's trainers define do_test(model, dataloader, mode) without the return_sample_results keyword
    that the runner (as MMSA's run.py for other trainers) passes: it is accepted there when False.

Usage: MMSA_SRC=<MMSA's src/> MMSA_RUNNER=<dir of run_mmsa_baseline.py> [MMSA_SHIMS=<its shims/>]
       [MMSA_HF_BERT_DIR=<checkpoint dir>] /usr/bin/python3 tools/run-mmsa-small-bert.py --model bert_mag
       --dataset mosi --pkl FILE --seed 1111 --threads 1 --out DIR
(the arguments are the runner's). Needs Debian's python3-torch.
"""
import os
import runpy
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def accept_return_sample_results():
    """Lets the trainers whose do_test has no return_sample_results keyword take it (only False: they cannot
    return per-sample results)."""
    import inspect
    from MMSA.trains.singleTask import ALMT, CENET  # the trainer classes (the package re-exports them)

    for cls in (CENET, ALMT):
        original = cls.do_test
        if "return_sample_results" in inspect.signature(original).parameters:
            continue

        def do_test(self, model, dataloader, mode="VAL", return_sample_results=False, _original=original):
            if return_sample_results:
                raise ValueError(f"{type(self).__name__}.do_test cannot return per-sample results")
            return _original(self, model, dataloader, mode=mode)

        cls.do_test = do_test


def main():
    runner_dir = os.environ.get("MMSA_RUNNER")
    if not runner_dir or not os.path.isfile(os.path.join(runner_dir, "run_mmsa_baseline.py")):
        sys.exit("MMSA_RUNNER must name the directory holding the reference runner's run_mmsa_baseline.py")
    src = os.environ.get("MMSA_SRC")
    if not src or not os.path.isdir(os.path.join(src, "MMSA")):
        sys.exit("MMSA_SRC must name the directory holding MMSA's `MMSA` package (the src/ of thuiar/MMSA)")
    model = sys.argv[sys.argv.index("--model") + 1] if "--model" in sys.argv else None
    if model not in ("bert_mag", "misa", "cenet", "mmim", "tetfn", "almt"):
        sys.exit("--model must be bert_mag, misa, cenet, mmim, tetfn or almt (the models that run BERT inside)")
    os.environ.setdefault("MMSA_HF_BERT_DIR", os.path.join(REPO, "test", "fixtures", "hf-bert", "small-bert"))
    os.environ.setdefault("MMSA_SHIMS", os.path.join(runner_dir, "shims"))
    # The stand-ins first: the runner puts its own shims (another `transformers`, an `einops` without `repeat`) ahead of
    # MMSA later, but MMSA's modules are imported here and keep the stand-ins' classes and functions (ALMT calls einops'
    # rearrange and repeat, which tools/einops-standin computes).
    sys.path[:0] = [os.path.join(HERE, "hf-bert"), os.path.join(HERE, "einops-standin"), os.environ["MMSA_SHIMS"], src]
    import transformers  # noqa: F401  (the stand-in, cached in sys.modules)
    import MMSA.run  # noqa: F401
    from mmsa_small_bert import patch_small_bert_widths

    patch_small_bert_widths(model)
    accept_return_sample_results()
    runner = os.path.join(runner_dir, "run_mmsa_baseline.py")
    sys.argv[0] = runner
    runpy.run_path(runner, run_name="__main__")


if __name__ == "__main__":
    main()
