"""PreTrainedModel of pytorch_transformers: config holder, BERT init, from_pretrained from a HF-layout directory."""
import torch
from torch import nn

from transformers.models.bert.modeling_bert import load_pretrained_state, resolve_model_dir


class PreTrainedModel(nn.Module):
    config_class = None
    base_model_prefix = ""
    pretrained_model_archive_map = {}

    def __init__(self, config, *inputs, **kwargs):
        super().__init__()
        self.config = config

    def init_weights(self):
        self.apply(self._init_weights)

    @classmethod
    def from_pretrained(cls, name, *model_args, **kwargs):
        """The model built from `config` (or the directory's config.json) and the remaining arguments, then the
        checkpoint's tensors (load_pretrained_state)."""
        d = resolve_model_dir(name)
        config = kwargs.pop("config", None)
        if config is None:
            config = cls.config_class.from_pretrained(d)
        return load_pretrained_state(cls(config, *model_args, **kwargs), d, cls.base_model_prefix)


def prune_linear_layer(layer, index, dim=0):
    """A Linear keeping only the rows (dim 0) or columns (dim 1) in `index`."""
    index = index.to(layer.weight.device)
    w = layer.weight.index_select(dim, index).clone().detach()
    b = layer.bias.clone().detach() if dim == 1 or layer.bias is None else layer.bias[index].clone().detach()
    size = list(layer.weight.size())
    size[dim] = len(index)
    new = nn.Linear(size[1], size[0], bias=layer.bias is not None).to(layer.weight.device)
    with torch.no_grad():
        new.weight.copy_(w)
        if layer.bias is not None:
            new.bias.copy_(b)
    return new
