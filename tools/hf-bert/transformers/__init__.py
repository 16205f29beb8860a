"""Hugging Face-layout BERT stand-in for parity fixtures (see models/bert/modeling_bert.py)."""
from .models.bert.modeling_bert import (BertConfig, BertModel, BertPreTrainedModel, BertTokenizer, RobertaModel,
                                        RobertaTokenizer)

__version__ = "0.0.0-mmsa-hf-bert-standin"
