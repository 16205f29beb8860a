/* Fused Adam step and leading-axes sum (see optim.h): one pass each instead of several tensor ops / a transpose. */
#include "optim.h"

#include <math.h>

/* Built with -ffp-contract=off (scripts/build-native.mjs): each operation rounds to float32 as a tfjs kernel does. */
/* m/mOut and v/vOut may be the same arrays (moments held outside the heap are updated in place): each element is read
   before it is written, at the same index, so they are not restrict. */
void mmsa_adam(long n, const float *restrict p, const float *restrict g, const float *m, const float *v,
               float *restrict pOut, float *mOut, float *vOut, double lr, double b1, double b2, double eps,
               double weightDecay, double stepSize, double bc2Sqrt, int decoupled) {
  const float c1 = (float)(1.0 - b1), b2f = (float)b2, c2 = (float)(1.0 - b2), shrink = (float)(1.0 - lr * weightDecay);
  const float wd = (float)weightDecay, epsf = (float)eps, step = (float)stepSize, bc2 = (float)bc2Sqrt;
  /* Three branch-free loops so each vectorises. */
  if (weightDecay == 0.0) {
    for (long i = 0; i < n; i++) {
      const float gr = g[i];
      const float mi = m[i] + (gr - m[i]) * c1;
      const float vi = v[i] * b2f + (gr * gr) * c2;
      mOut[i] = mi;
      vOut[i] = vi;
      pOut[i] = p[i] - (mi / (sqrtf(vi) / bc2 + epsf)) * step;
    }
  } else if (decoupled) {
    for (long i = 0; i < n; i++) {
      const float gr = g[i];
      const float mi = m[i] + (gr - m[i]) * c1;
      const float vi = v[i] * b2f + (gr * gr) * c2;
      mOut[i] = mi;
      vOut[i] = vi;
      pOut[i] = p[i] * shrink - (mi / (sqrtf(vi) / bc2 + epsf)) * step;
    }
  } else {
    for (long i = 0; i < n; i++) {
      const float gr = g[i] + p[i] * wd;
      const float mi = m[i] + (gr - m[i]) * c1;
      const float vi = v[i] * b2f + (gr * gr) * c2;
      mOut[i] = mi;
      vOut[i] = vi;
      pOut[i] = p[i] - (mi / (sqrtf(vi) / bc2 + epsf)) * step;
    }
  }
}

void mmsa_sum_rows(long R, long C, const float *x, float *out) {
  for (long c = 0; c < C; c++) out[c] = 0.0f;
  for (long r = 0; r < R; r++) {
    const float *row = x + r * C;
    for (long c = 0; c < C; c++) out[c] += row[c];
  }
}

void mmsa_accumulate(long n, const float *restrict src, float *restrict dst, int first) {
  if (first)
    for (long i = 0; i < n; i++) dst[i] = src[i];
  else
    for (long i = 0; i < n; i++) dst[i] += src[i];
}
