"""pytorch_transformers (the pre-4.0 name of Hugging Face's library) as far as MMSA's CENET uses it
(models/singleTask/CENET.py, models/AMIO.py): BertConfig.from_pretrained, PreTrainedModel.from_pretrained with its
`bert.` prefix handling, the archive map. CENET brings its own BERT modules; this only loads the small HF-layout
checkpoint into them (see ../transformers/models/bert/modeling_bert.py for the directory resolution)."""
from transformers.models.bert.modeling_bert import BertConfig as _HFBertConfig
from transformers.models.bert.modeling_bert import resolve_model_dir

from .modeling_utils import PreTrainedModel, prune_linear_layer  # noqa: F401

__version__ = "0.0.0-mmsa-hf-bert-standin"

BERT_PRETRAINED_MODEL_ARCHIVE_MAP = {}


class BertConfig(_HFBertConfig):
    """pytorch_transformers' BertConfig: from_pretrained(name, **overrides) reads config.json, keeps the keyword
    overrides (num_labels, finetuning_task) as attributes."""

    @classmethod
    def from_pretrained(cls, name, **kw):
        import os

        c = cls.from_json_file(os.path.join(resolve_model_dir(name), "config.json"))
        c.torchscript = False
        for k, v in kw.items():
            setattr(c, k, v)
        return c
