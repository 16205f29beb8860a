# PyTorch counterpart of bench/depression.mjs: the same window pooling, multi-scale dilated TCN and packed LSTM on
# B x T x D sessions, forward + backward, median ms per step at 1 and 2 threads. Prints JSON {label: [ms1, ms2]}.
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

B, T, D, STEPS = (int(a) for a in sys.argv[1:5])
SKIP = set(json.loads(sys.argv[5])) if len(sys.argv) > 5 else set()
g = torch.Generator().manual_seed(7)
x = torch.randn(B, T, D, generator=g)
lengths = torch.randint(T // 2, T + 1, (B,), generator=g)
mask = (torch.arange(T)[None, :] < lengths[:, None]).float()[:, :, None]


def pool(x, lengths, window=100):
    n = -(-T // window)
    pad = n * window - T
    xm = F.pad(x * mask, (0, 0, 0, pad)).view(B, n, window, -1).sum(2)
    cnt = F.pad(mask, (0, 0, 0, pad)).view(B, n, window, 1).sum(2)
    return xm / cnt.clamp(min=1), (-(-lengths // window)).clamp(min=1)


def seq_mask(n, lens):
    return (torch.arange(n)[None, :] < lens[:, None]).float()[:, :, None]


class TCN(nn.Module):
    def __init__(self, d, c=64, k=3, dil=(1, 2, 4, 8), blocks=2):
        super().__init__()
        self.proj = nn.Linear(d, c)
        self.blocks = nn.ModuleList(
            nn.ModuleDict({'branches': nn.ModuleList(nn.Conv1d(c, c, k, dilation=q, padding='same') for q in dil), 'mix': nn.Conv1d(c * len(dil), c, 1)})
            for _ in range(blocks))

    def forward(self, x, lens):
        m = seq_mask(x.shape[1], lens)
        h = self.proj(x) * m
        for b in self.blocks:
            hc = (h * m).transpose(1, 2)
            s = torch.cat([F.relu(conv(hc)) for conv in b['branches']], 1)
            h = F.relu(h + b['mix'](s).transpose(1, 2)) * m
        return (h * m).sum(1) / lens[:, None].float()


class LSTM(nn.Module):
    def __init__(self, d, h=32):
        super().__init__()
        self.rnn = nn.LSTM(d, h, batch_first=True)

    def forward(self, x, lens):
        packed = nn.utils.rnn.pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        _, (hn, _) = self.rnn(packed)
        return hn[-1]


def cases():
    tcn, lstm = TCN(D), LSTM(D)
    return {
        'window_pool 100 (mean), forward': (None, lambda: pool(x, lengths)[0]),
        'window_pool 100 -> dilated_tcn': (tcn, lambda: tcn(*pool(x, lengths))),
        'dilated_tcn at full rate': (tcn, lambda: tcn(x, lengths)),
        'window_pool 100 -> lstm 32': (lstm, lambda: lstm(*pool(x, lengths))),
        'lstm 32 at full rate (packed)': (lstm, lambda: lstm(x, lengths)),
    }


out = {}
for threads in (1, 2):
    torch.set_num_threads(threads)
    for label, (model, f) in cases().items():
        def once():
            if model is None:
                with torch.no_grad():
                    f()
                return
            model.zero_grad()
            f().sum().backward()
        if label in SKIP:
            continue
        t0 = time.perf_counter()
        once()
        first = (time.perf_counter() - t0) * 1000
        # A step of several seconds (an LSTM over 10^4 frames) is timed once: warm-up costs are small beside it.
        times = [first] if first > 2000 else []
        for _ in range(0 if times else STEPS):
            t0 = time.perf_counter()
            once()
            times.append((time.perf_counter() - t0) * 1000)
        out.setdefault(label, []).append(sorted(times)[len(times) // 2])
print(json.dumps(out))
