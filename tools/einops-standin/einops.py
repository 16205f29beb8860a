"""A small stand-in for the einops package (rearrange and repeat on torch tensors), enough for the patterns MMSA's
ALMT (models/singleTask/ALMT.py) uses: 'b n (h d) -> b h n d', 'b h n d -> b n (h d)', '1 n d -> b n d' and
'1 1 d -> b 1 d'. einops is not packaged for Debian, and tools/make-mmsa-checkpoints.py must run MMSA's own ALMT.
Axis names, parenthesised groups and the literal 1 are supported; ellipses and anonymous axes other than 1 are not.
Written for mmsa's fixture tooling; not einops' code."""


def _parse(side):
    axes, group, out = [], None, []
    for tok in side.replace("(", " ( ").replace(")", " ) ").split():
        if tok == "(":
            group = []
        elif tok == ")":
            out.append(tuple(group))
            group = None
        elif group is not None:
            group.append(tok)
        else:
            out.append((tok,))
    for g in out:
        axes.extend(g)
    return out, axes


def _sizes(x, groups, known):
    sizes = dict(known)
    for g, n in zip(groups, x.shape):
        unknown = [a for a in g if a not in sizes and a != "1"]
        prod = 1
        for a in g:
            if a in sizes:
                prod *= sizes[a]
        if len(unknown) == 1:
            sizes[unknown[0]] = n // prod
        elif len(unknown) > 1:
            raise ValueError(f"einops stand-in: cannot split axis of size {n} into {g}")
    return sizes


def _apply(x, pattern, known, allow_new):
    left, right = (s.strip() for s in pattern.split("->"))
    lg, la = _parse(left)
    rg, ra = _parse(right)
    if len(lg) != x.dim():
        raise ValueError(f"einops stand-in: pattern {left!r} does not fit a tensor of {x.dim()} axes")
    sizes = _sizes(x, lg, known)
    named = [a for a in la if a != "1"]
    # Split the groups into elementary axes, drop the literal 1s, put the named axes in the output's order.
    x = x.reshape([1 if a == "1" else sizes[a] for a in la])
    x = x.reshape([sizes[a] for a in named])
    present = [a for a in ra if a in named]
    x = x.permute([named.index(a) for a in present])
    new = [a for a in ra if a not in named and a != "1"]
    if new and not allow_new:
        raise ValueError(f"einops stand-in: rearrange cannot create axes {new}")
    shape, target = [], []
    for a in ra:
        if a == "1":
            shape.append(1)
            target.append(1)
        elif a in named:
            shape.append(sizes[a])
            target.append(sizes[a])
        else:
            shape.append(1)
            target.append(known[a])
    x = x.reshape(shape).expand(target)
    return x.reshape([_prod([1 if a == "1" else (sizes.get(a) or known[a]) for a in g]) for g in rg])


def _prod(xs):
    p = 1
    for v in xs:
        p *= v
    return p


def rearrange(tensor, pattern, **axes_lengths):
    return _apply(tensor, pattern, axes_lengths, allow_new=False).contiguous()


def repeat(tensor, pattern, **axes_lengths):
    return _apply(tensor, pattern, axes_lengths, allow_new=True).contiguous()
