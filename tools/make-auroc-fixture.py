#!/usr/bin/python3
# Writes test/fixtures/metrics/auroc.json: score vectors (ties, constant scores, one-sided, float32 logits margins,
# random) with the 0/1 labels and sklearn.metrics.roc_auc_score's value for each, to check mmsa's AUROC against.
# Run with Debian's python3 (numpy 1.24, scikit-learn 1.2): /usr/bin/python3 tools/make-auroc-fixture.py
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score

rng = np.random.default_rng(20261205)
cases = [
    ('one swapped pair', [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]),
    ('all tied', [0, 1, 0, 1, 1], [0.5, 0.5, 0.5, 0.5, 0.5]),
    ('ties across classes', [0, 1, 1, 0, 1, 0, 0, 1], [0.2, 0.2, 0.7, 0.7, 0.7, 0.1, 0.9, 0.9]),
    ('inverted', [1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]),
    ('integer scores with many ties', [int(x) for x in rng.integers(0, 2, 60)], [int(x) for x in rng.integers(0, 5, 60)]),
    ('random normal', [int(x) for x in rng.integers(0, 2, 101)], [float(x) for x in rng.normal(size=101)]),
    ('collinear runs', [1, 1, 1, 0, 0, 0, 1, 0, 1, 0], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]),
]
# Logit margins of a 2-class head, as float32 logits give them (l1 - l0 computed in float64).
logits = rng.normal(size=(37, 2)).astype(np.float32)
labels = rng.integers(0, 2, 37)
cases.append(('float32 logit margins', [int(x) for x in labels], [float(np.float64(a) - np.float64(b)) for b, a in logits]))
cases.append(('imbalanced', [0] * 30 + [1] * 3, [float(x) for x in rng.normal(size=33)]))

out = {
    'made_by': f'tools/make-auroc-fixture.py with numpy {np.__version__}, scikit-learn {sklearn.__version__}, Python {sys.version.split()[0]}',
    'cases': [],
    'logits_case': {'logits': logits.tolist(), 'labels': [int(x) for x in labels]},
}
for name, y, s in cases:
    out['cases'].append({'name': name, 'truth': y, 'score': s, 'auroc': float(roc_auc_score(np.array(y), np.array(s, dtype=np.float64)))})
out['logits_case']['auroc'] = float(roc_auc_score(labels, logits[:, 1].astype(np.float64) - logits[:, 0].astype(np.float64)))
here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, '..', 'test', 'fixtures', 'metrics', 'auroc.json')
with open(path, 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
print(path)
