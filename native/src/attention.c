/* Fused attention-weight kernels (softmax with additive and dropout masks, and its gradient); see attention.h.
   Phase 7 (execute). */
#include <math.h>

#include "attention.h"

void mmsa_softmax_rows(long R, long C, const float *x, const float *mask, long maskRows, const float *drop, float *p, float *y) {
  for (long r = 0; r < R; r++) {
    const float *xr = x + r * C;
    const float *mr = mask ? mask + (r % maskRows) * C : 0;
    float *pr = p + r * C;
    float mx = -INFINITY;
    for (long c = 0; c < C; c++) {
      const float v = mr ? xr[c] + mr[c] : xr[c];
      pr[c] = v;
      if (v > mx) mx = v;
    }
    float sum = 0.0f;
    for (long c = 0; c < C; c++) {
      const float e = expf(pr[c] - mx);
      pr[c] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    for (long c = 0; c < C; c++) pr[c] *= inv;
    if (drop) {
      const float *dr = drop + r * C;
      float *yr = y + r * C;
      for (long c = 0; c < C; c++) yr[c] = pr[c] * dr[c];
    }
  }
}

void mmsa_softmax_rows_backward(long R, long C, const float *p, const float *dy, const float *drop, float *dx) {
  for (long r = 0; r < R; r++) {
    const float *pr = p + r * C;
    const float *gr = dy + r * C;
    const float *dr = drop ? drop + r * C : 0;
    float *out = dx + r * C;
    float s = 0.0f;
    for (long c = 0; c < C; c++) {
      const float g = dr ? gr[c] * dr[c] : gr[c];
      out[c] = g;
      s += g * pr[c];
    }
    for (long c = 0; c < C; c++) out[c] = pr[c] * (out[c] - s);
  }
}
