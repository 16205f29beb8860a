"""A PyTorch BertModel with Hugging Face's module names, parameter names and maths, for parity fixtures.

transformers is not installable where the fixtures are made, and MMSA's BERT models (models/singleTask/BERT_MAG.py,
models/subNets/BertTextEncoder.py, models/singleTask/MMIM.py) import it. This stand-in computes what
transformers' BertModel computes in eval and train mode (absolute positions, post-LayerNorm layers, exact erf GELU,
the extended additive attention mask `(1 - mask) * finfo.min`, tanh pooler on token 0) and loads a Hugging Face
model directory (config.json + model.safetensors or pytorch_model.bin), so MMSA's own model code runs on a small
checkpoint that mmsa's `bert` encoder loads too. Written from transformers' documented behaviour; not a copy of it.
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class BertConfig:
    """transformers.BertConfig's keys and defaults (bert-base-uncased's architecture)."""

    defaults = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.1,
                    attention_probs_dropout_prob=0.1, max_position_embeddings=512, type_vocab_size=2,
                    initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0,
                    position_embedding_type="absolute", output_attentions=False, output_hidden_states=False,
                    use_return_dict=True, is_decoder=False, num_labels=2)

    def __init__(self, **kw):
        for k, v in {**self.defaults, **kw}.items():
            setattr(self, k, v)

    @classmethod
    def from_json_file(cls, path):
        with open(path) as f:
            return cls(**json.load(f))

    @classmethod
    def from_pretrained(cls, name, **kw):
        c = cls.from_json_file(os.path.join(resolve_model_dir(name), "config.json"))
        for k, v in kw.items():
            setattr(c, k, v)
        return c

    def to_dict(self):
        return dict(self.__dict__)


def resolve_model_dir(name):
    """A model directory as given, else the one `MMSA_HF_BERT_DIR` names: every hub id (MMSA hard-codes
    'bert-base-uncased' / 'bert-base-chinese') resolves to the small checkpoint the fixtures are made with."""
    if os.path.isdir(str(name)):
        return str(name)
    d = os.environ.get("MMSA_HF_BERT_DIR")
    if d and os.path.isdir(d):
        return d
    raise OSError(f"hf-bert stand-in: '{name}' is not a directory and MMSA_HF_BERT_DIR is not set")


class ModelOutput(dict):
    """Named outputs that index like transformers' ModelOutput: out[0], out[1:] skip fields that are None."""

    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError as e:
            raise AttributeError(k) from e

    def to_tuple(self):
        return tuple(v for v in self.values() if v is not None)

    def __getitem__(self, k):
        if isinstance(k, (int, slice)):
            return self.to_tuple()[k]
        return dict.__getitem__(self, k)

    def __iter__(self):
        return iter(self.to_tuple())


def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACT2FN = {"gelu": gelu, "gelu_new": gelu_new, "relu": F.relu}


class BertEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        # Not saved in the state_dict (as in transformers >= 4.31).
        self.register_buffer("position_ids", torch.arange(config.max_position_embeddings).expand((1, -1)), persistent=False)

    def forward(self, input_ids=None, token_type_ids=None, position_ids=None, inputs_embeds=None, past_key_values_length=0):
        shape = input_ids.size() if input_ids is not None else inputs_embeds.size()[:-1]
        L = shape[1]
        if position_ids is None:
            position_ids = self.position_ids[:, past_key_values_length:L + past_key_values_length]
        if token_type_ids is None:
            token_type_ids = torch.zeros(shape, dtype=torch.long, device=self.position_ids.device)
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        e = inputs_embeds + self.token_type_embeddings(token_type_ids) + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(e))


class BertSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        if config.hidden_size % config.num_attention_heads != 0:
            raise ValueError("hidden_size is not a multiple of num_attention_heads")
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)

    def transpose_for_scores(self, x):
        x = x.view(x.size()[:-1] + (self.num_attention_heads, self.attention_head_size))
        return x.permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask=None, head_mask=None, output_attentions=False):
        q = self.transpose_for_scores(self.query(hidden_states))
        k = self.transpose_for_scores(self.key(hidden_states))
        v = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
        if attention_mask is not None:
            scores = scores + attention_mask
        probs = self.dropout(F.softmax(scores, dim=-1))
        if head_mask is not None:
            probs = probs * head_mask
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        ctx = ctx.view(ctx.size()[:-2] + (self.all_head_size,))
        return (ctx, probs) if output_attentions else (ctx,)


class BertSelfOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, hidden_states, attention_mask=None, head_mask=None, output_attentions=False):
        s = self.self(hidden_states, attention_mask, head_mask, output_attentions)
        return (self.output(s[0], hidden_states),) + s[1:]


class BertIntermediate(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = ACT2FN[config.hidden_act]

    def forward(self, hidden_states):
        return self.intermediate_act_fn(self.dense(hidden_states))


class BertOutput(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, hidden_states, attention_mask=None, head_mask=None, encoder_hidden_states=None,
                encoder_attention_mask=None, past_key_value=None, output_attentions=False):
        a = self.attention(hidden_states, attention_mask, head_mask, output_attentions)
        out = self.output(self.intermediate(a[0]), a[0])
        return (out,) + a[1:]


class BertEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, hidden_states, attention_mask=None, head_mask=None, encoder_hidden_states=None,
                encoder_attention_mask=None, past_key_values=None, use_cache=None, output_attentions=False,
                output_hidden_states=False, return_dict=True):
        all_hidden = () if output_hidden_states else None
        all_attn = () if output_attentions else None
        for i, layer in enumerate(self.layer):
            if output_hidden_states:
                all_hidden = all_hidden + (hidden_states,)
            out = layer(hidden_states, attention_mask, head_mask[i] if head_mask is not None else None,
                        output_attentions=output_attentions)
            hidden_states = out[0]
            if output_attentions:
                all_attn = all_attn + (out[1],)
        if output_hidden_states:
            all_hidden = all_hidden + (hidden_states,)
        if not return_dict:
            return tuple(v for v in (hidden_states, all_hidden, all_attn) if v is not None)
        return ModelOutput(last_hidden_state=hidden_states, hidden_states=all_hidden, attentions=all_attn)


class BertPooler(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    out = {}
    for k, m in header.items():
        if k == "__metadata__":
            continue
        a, b = m["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=dtypes[m["dtype"]]).reshape(m["shape"]).astype(np.float32, copy=True)
        out[k] = torch.from_numpy(arr)
    return out


def read_state_dict(d):
    st = os.path.join(d, "model.safetensors")
    if os.path.exists(st):
        return read_safetensors(st)
    return torch.load(os.path.join(d, "pytorch_model.bin"), map_location="cpu")


def load_pretrained_state(model, d, prefix):
    """Loads a model directory's tensors into `model` by name, as Hugging Face's loaders do: `prefix` (`bert.`) added
    where the model holds its BERT under that attribute and the file does not, removed in the opposite case; tensors
    the model lacks (pre-training heads) or of another shape are skipped, missing ones keep their init."""
    state = read_state_dict(d)
    own = model.state_dict()
    has_base = bool(prefix) and hasattr(model, prefix)
    p = prefix + "."
    fixed = {}
    for k, v in state.items():
        if has_base and not k.startswith(p):
            k = p + k
        elif not has_base and k.startswith(p):
            k = k[len(p):]
        if k in own and tuple(own[k].shape) == tuple(v.shape):
            fixed[k] = v
    model.load_state_dict(fixed, strict=False)
    model.loaded_keys = sorted(fixed)
    model.eval()
    return model


class BertPreTrainedModel(nn.Module):
    config_class = BertConfig
    base_model_prefix = "bert"

    def __init__(self, config, *args, **kwargs):
        super().__init__()
        self.config = config

    def _init_weights(self, module):
        # BERT's init (transformers' BertPreTrainedModel._init_weights).
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def init_weights(self):
        self.apply(self._init_weights)

    post_init = init_weights

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    def get_extended_attention_mask(self, attention_mask, input_shape=None, device=None, dtype=None):
        dtype = dtype or self.dtype
        if attention_mask.dim() == 3:
            ext = attention_mask[:, None, :, :]
        elif attention_mask.dim() == 2:
            ext = attention_mask[:, None, None, :]
        else:
            raise ValueError(f"wrong shape for attention_mask {tuple(attention_mask.shape)}")
        ext = ext.to(dtype=dtype)
        return (1.0 - ext) * torch.finfo(dtype).min

    def invert_attention_mask(self, m):
        return self.get_extended_attention_mask(m)

    def get_head_mask(self, head_mask, num_hidden_layers, is_attention_chunked=False):
        if head_mask is None:
            return [None] * num_hidden_layers
        raise NotImplementedError("hf-bert stand-in: head_mask is not supported")

    @classmethod
    def from_pretrained(cls, name, *model_args, **kwargs):
        """Config from config.json (with keyword overrides the config knows, e.g. num_labels), the model built with the
        remaining arguments, then the checkpoint's tensors (load_pretrained_state)."""
        d = resolve_model_dir(name)
        config = kwargs.pop("config", None) or BertConfig.from_json_file(os.path.join(d, "config.json"))
        for k in list(kwargs):
            if k in BertConfig.defaults or k in ("num_labels",):
                setattr(config, k, kwargs.pop(k))
        return load_pretrained_state(cls(config, *model_args, **kwargs), d, cls.base_model_prefix)


class BertModel(BertPreTrainedModel):
    def __init__(self, config, add_pooling_layer=True):
        super().__init__(config)
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.init_weights()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, position_ids=None, head_mask=None,
                inputs_embeds=None, encoder_hidden_states=None, encoder_attention_mask=None, past_key_values=None,
                use_cache=None, output_attentions=None, output_hidden_states=None, return_dict=None):
        c = self.config
        output_attentions = c.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = c.output_hidden_states if output_hidden_states is None else output_hidden_states
        return_dict = c.use_return_dict if return_dict is None else return_dict
        shape = input_ids.size() if input_ids is not None else inputs_embeds.size()[:-1]
        device = input_ids.device if input_ids is not None else inputs_embeds.device
        if attention_mask is None:
            attention_mask = torch.ones(shape, device=device)
        ext = self.get_extended_attention_mask(attention_mask, shape)
        emb = self.embeddings(input_ids=input_ids, position_ids=position_ids, token_type_ids=token_type_ids,
                              inputs_embeds=inputs_embeds)
        enc = self.encoder(emb, attention_mask=ext, head_mask=self.get_head_mask(head_mask, c.num_hidden_layers),
                           output_attentions=output_attentions, output_hidden_states=output_hidden_states,
                           return_dict=True)
        seq = enc[0]
        pooled = self.pooler(seq) if self.pooler is not None else None
        out = ModelOutput(last_hidden_state=seq, pooler_output=pooled, hidden_states=enc.hidden_states,
                          attentions=enc.attentions)
        return out if return_dict else out.to_tuple()


class BertTokenizer:
    """Only what MMSA's models touch: they read precomputed `text_bert` ids, so the tokenizer is loaded and kept."""

    def __init__(self, vocab_file=None, do_lower_case=True, **kw):
        self.vocab = {}
        if vocab_file and os.path.exists(vocab_file):
            with open(vocab_file, encoding="utf-8") as f:
                self.vocab = {t.rstrip("\n"): i for i, t in enumerate(f)}
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        self.do_lower_case = do_lower_case

    @classmethod
    def from_pretrained(cls, name, *a, **kw):
        return cls(os.path.join(resolve_model_dir(name), "vocab.txt"), **kw)

    def convert_tokens_to_ids(self, tokens):
        unk = self.vocab.get("[UNK]", 100)
        if isinstance(tokens, str):
            return self.vocab.get(tokens, unk)
        return [self.vocab.get(t, unk) for t in tokens]

    def convert_ids_to_tokens(self, ids):
        if isinstance(ids, int):
            return self.ids_to_tokens.get(ids, "[UNK]")
        return [self.ids_to_tokens.get(int(i), "[UNK]") for i in ids]

    def __call__(self, *a, **k):
        raise NotImplementedError("hf-bert stand-in: MMSA's models read pre-tokenised text_bert ids")


class RobertaModel(BertModel):
    base_model_prefix = "roberta"


RobertaTokenizer = BertTokenizer
