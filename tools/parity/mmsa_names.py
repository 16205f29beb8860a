"""mmsa's parameter names <-> MMSA's SELF_MM state_dict names (for the parity tools; a private mapping, not a general
checkpoint import). `prefix` is "Model." for the AMIO wrapper MMSA's runs build, "" for a bare SELF_MM."""

_HEADS = (("M", "fusion"), ("T", "text"), ("A", "audio"), ("V", "video"))
_PAIRS = [("encoders.audio.lstm.", "audio_model.rnn."), ("encoders.vision.lstm.", "video_model.rnn."),
          ("encoders.audio.linear.", "audio_model.linear_1."), ("encoders.vision.linear.", "video_model.linear_1.")]
_PAIRS += [(f"heads.{h}.layers.{i}.", f"post_{n}_layer_{i + 1}.") for h, n in _HEADS for i in range(2)]
_PAIRS += [(f"heads.{h}.out.", f"post_{n}_layer_3.") for h, n in _HEADS]


def ref_key(key, prefix="Model."):
    for ours, theirs in _PAIRS:
        if key.startswith(ours):
            return prefix + theirs + key[len(ours):]
    return key


def mmsa_key(key, prefix="Model."):
    bare = key[len(prefix):] if key.startswith(prefix) else key
    for ours, theirs in _PAIRS:
        if bare.startswith(theirs):
            return ours + bare[len(theirs):]
    return key
