/* Fused Adam step and leading-axes sum (see optim.h): one pass each instead of several tensor ops / a transpose. */
#include "optim.h"

#include <math.h>

__attribute__((optimize("fp-contract=off"))) void mmsa_adam(long n, const float *p, const float *g, const float *m,
    const float *v, float *pOut, float *mOut, float *vOut, double lr, double b1, double b2, double eps, double weightDecay,
    double stepSize, double bc2Sqrt, int decoupled) {
  const float c1 = (float)(1.0 - b1), b2f = (float)b2, c2 = (float)(1.0 - b2), shrink = (float)(1.0 - lr * weightDecay);
  const float wd = (float)weightDecay, epsf = (float)eps, step = (float)stepSize, bc2 = (float)bc2Sqrt;
  for (long i = 0; i < n; i++) {
    float gr = g[i];
    float base = p[i];
    if (weightDecay != 0.0) {
      if (decoupled) base = p[i] * shrink;
      else gr = gr + p[i] * wd;
    }
    const float mi = m[i] + (gr - m[i]) * c1;
    const float vi = v[i] * b2f + (gr * gr) * c2;
    const float denom = sqrtf(vi) / bc2 + epsf;
    mOut[i] = mi;
    vOut[i] = vi;
    pOut[i] = base - (mi / denom) * step;
  }
}

void mmsa_sum_rows(long R, long C, const float *x, float *out) {
  for (long c = 0; c < C; c++) out[c] = 0.0f;
  for (long r = 0; r < R; r++) {
    const float *row = x + r * C;
    for (long c = 0; c < C; c++) out[c] += row[c];
  }
}
