from .modeling_bert import *  # noqa: F401,F403
