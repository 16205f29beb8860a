"""In-process patches that let MMSA's own BERT models run on a small BERT (hidden size other than 768): MMSA's
loader sets the text width to 768 whenever use_bert (data_loader.py), and BERT_MAG's MAG, CENET's CE, MISA's
project_t, MMIM's MMILB/CPC Linears, ALMT's embedding_l, TETFN's proj_l and TFR-Net's proj_l and generator_t size themselves from it. Each patch sizes
them from the loaded BERT's hidden size instead (MMSA_HF_BERT_DIR's config.json where the model has no BERT config
at hand). No MMSA file
is modified. Used by tools/make-mmsa-checkpoints.py (import fixtures) and tools/run-mmsa-small-bert.py (accuracy runs).
"""
import importlib
import json
import os

# Models whose constructor takes MMSA's config and reads feature_dims[0] as the text width.
FEATURE_WIDTH = {
    "mmim": ("MMSA.models.singleTask.MMIM", "MMIM"),
    "almt": ("MMSA.models.singleTask.ALMT", "ALMT"),
    "tetfn": ("MMSA.models.multiTask.TETFN", "TETFN"),
    # CM_ATTN's proj_l and generator_t (Linear(3 d -> feature_dims[0])) read it from the same args
    "tfr_net": ("MMSA.models.missingTask.TFR_NET", "TFR_NET"),
}


def patch_small_bert_widths(model):
    """Patches MMSA's class for `model` (misa, bert_mag, cenet, mmim, almt, tetfn, tfr_net; others: nothing) in place."""
    import torch

    if model in FEATURE_WIDTH:
        module = importlib.import_module(FEATURE_WIDTH[model][0])
        cls = getattr(module, FEATURE_WIDTH[model][1])
        init = cls.__init__
        with open(os.path.join(os.environ["MMSA_HF_BERT_DIR"], "config.json")) as f:
            width = json.load(f)["hidden_size"]

        def init_width(self, args):
            args["feature_dims"][0] = width
            init(self, args)

        cls.__init__ = init_width
        return

    if model == "misa":
        misa_module = importlib.import_module("MMSA.models.singleTask.MISA")
        misa_init = misa_module.MISA.__init__

        def misa_small_bert(self, config):
            misa_init(self, config)
            width = self.bertmodel.model.config.hidden_size
            self.project_t.project_t = torch.nn.Linear(width, config.hidden_size)

        misa_module.MISA.__init__ = misa_small_bert
        return
    widths = {"bert_mag": ("MMSA.models.singleTask.BERT_MAG", "MAG"), "cenet": ("MMSA.models.singleTask.CENET", "CE")}
    if model not in widths:
        return
    # (the package re-exports each model class under its module's name, so the module comes from sys.modules)
    module = importlib.import_module(widths[model][0])
    cls = getattr(module, widths[model][1])
    init = cls.__init__

    def init_hidden(self, config, args):
        args["feature_dims"][0] = config.hidden_size
        init(self, config, args)

    cls.__init__ = init_hidden
