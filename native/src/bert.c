/* Fused elementwise kernels of a BERT encoder layer (see bert.h): one pass each where tfjs runs five to twelve ops,
   rows split over threads, column sums in row order on the calling thread (the same bits for any thread count). */
#include "bert.h"
#include "vmath.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

#define MAX_THREADS 16
/* Below this many elements a second thread costs more than it saves. */
#define MIN_PARALLEL 65536

typedef void (*rows_fn)(void *ctx, long r0, long r1);

typedef struct {
  rows_fn fn;
  void *ctx;
  long r0, r1;
} rows_job;

static void *rows_thread(void *p) {
  rows_job *j = (rows_job *)p;
  j->fn(j->ctx, j->r0, j->r1);
  return NULL;
}

/* fn over rows [0, rows), split into contiguous ranges; a thread that cannot start has its range run here. */
static void parallel_rows(long rows, long per_row, int nthreads, rows_fn fn, void *ctx) {
  int T = nthreads < 1 ? 1 : nthreads > MAX_THREADS ? MAX_THREADS : nthreads;
  if (rows * per_row < MIN_PARALLEL) T = 1;
  if (T > rows) T = (int)rows;
  if (T <= 1) {
    fn(ctx, 0, rows);
    return;
  }
  rows_job jobs[MAX_THREADS];
  pthread_t tid[MAX_THREADS];
  int started[MAX_THREADS];
  for (int t = 0; t < T; t++) jobs[t] = (rows_job){fn, ctx, rows * t / T, rows * (t + 1) / T};
  for (int t = 1; t < T; t++) started[t] = pthread_create(&tid[t], NULL, rows_thread, &jobs[t]) == 0;
  fn(ctx, jobs[0].r0, jobs[0].r1);
  for (int t = 1; t < T; t++) {
    if (started[t])
      pthread_join(tid[t], NULL);
    else
      fn(ctx, jobs[t].r0, jobs[t].r1);
  }
}

/* Clamps written as selects: fminf/fmaxf's NaN rules keep GCC from vectorising the loops that call them. */
static inline float clampf(float x, float lo, float hi) {
  x = x < lo ? lo : x;
  return x > hi ? hi : x;
}

/* erf(x) for float32: odd rational approximation on [-4, 4] (erf is +-1 in float32 beyond), max abs error ~1e-7. */
static inline float erf_f(float x) {
  x = clampf(x, -4.0f, 4.0f);
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  p = p * x;
  float q = -1.45660718464996e-05f;
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return p / q;
}

#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

/* ---------------------------------------------------------------------------------------------------- GELU */

typedef struct {
  long C;
  const float *x, *bias;
  float *pre, *act;
} bias_gelu_ctx;

static void bias_gelu_rows(void *p, long r0, long r1) {
  const bias_gelu_ctx *c = (const bias_gelu_ctx *)p;
  for (long r = r0; r < r1; r++) {
    const float *x = c->x + r * c->C;
    float *pre = c->pre + r * c->C, *act = c->act + r * c->C;
    for (long j = 0; j < c->C; j++) {
      const float v = x[j] + c->bias[j];
      pre[j] = v;
      act[j] = (v * 0.5f) * (erf_f(v * INV_SQRT2) + 1.0f);
    }
  }
}

void mmsa_bias_gelu(long N, long C, const float *x, const float *bias, float *pre, float *act, int nthreads) {
  bias_gelu_ctx c = {C, x, bias, pre, act};
  parallel_rows(N, C, nthreads, bias_gelu_rows, &c);
}

typedef struct {
  const float *dact, *pre;
  float *dpre;
} gelu_bwd_ctx;

#define CHUNK 4096

static void gelu_bwd_chunks(void *p, long k0, long k1) {
  const gelu_bwd_ctx *c = (const gelu_bwd_ctx *)p;
  for (long i = k0 * CHUNK; i < k1 * CHUNK; i++) {
    const float x = c->pre[i];
    const float cdf = (erf_f(x * INV_SQRT2) + 1.0f) * 0.5f;
    const float pdf = fast_expf(x * x * -0.5f) * INV_SQRT_2PI;
    c->dpre[i] = c->dact[i] * (cdf + x * pdf);
  }
}

void mmsa_gelu_backward(long n, const float *dact, const float *pre, float *dpre, int nthreads) {
  gelu_bwd_ctx c = {dact, pre, dpre};
  const long full = n / CHUNK;
  parallel_rows(full, CHUNK, nthreads, gelu_bwd_chunks, &c);
  for (long i = full * CHUNK; i < n; i++) {
    const float x = pre[i];
    const float cdf = (erf_f(x * INV_SQRT2) + 1.0f) * 0.5f;
    const float pdf = fast_expf(x * x * -0.5f) * INV_SQRT_2PI;
    dpre[i] = dact[i] * (cdf + x * pdf);
  }
}

/* ----------------------------------------------------------------------------------------------- LayerNorm */

typedef struct {
  long C;
  const float *a, *bias, *mask, *res, *gamma, *beta;
  float eps;
  float *y, *xhat, *rstd;
} ln_fwd_ctx;

static void ln_fwd_rows(void *p, long r0, long r1) {
  const ln_fwd_ctx *c = (const ln_fwd_ctx *)p;
  const long C = c->C;
  for (long r = r0; r < r1; r++) {
    const float *a = c->a + r * C, *m = c->mask ? c->mask + r * C : NULL;
    float *xh = c->xhat + r * C, *y = c->y + r * C;
    double sum = 0;
    if (c->res) {
      const float *res = c->res + r * C;
      for (long j = 0; j < C; j++) {
        const float v = m ? (a[j] + c->bias[j]) * m[j] + res[j] : (a[j] + c->bias[j]) + res[j];
        xh[j] = v;
        sum += v;
      }
    } else {
      /* A plain LayerNorm of a (MulT's pre-LN): no bias, mask or residual. */
      for (long j = 0; j < C; j++) {
        xh[j] = a[j];
        sum += a[j];
      }
    }
    const double mean = sum / (double)C;
    double ss = 0;
    for (long j = 0; j < C; j++) {
      const double d = (double)xh[j] - mean;
      ss += d * d;
    }
    const float rs = (float)(1.0 / sqrt(ss / (double)C + (double)c->eps));
    const float mf = (float)mean;
    c->rstd[r] = rs;
    for (long j = 0; j < C; j++) {
      const float h = (xh[j] - mf) * rs;
      xh[j] = h;
      y[j] = h * c->gamma[j] + c->beta[j];
    }
  }
}

void mmsa_layernorm_forward(long N, long C, const float *a, const float *bias, const float *mask, const float *residual,
                            const float *gamma, const float *beta, double eps, float *y, float *xhat, float *rstd,
                            int nthreads) {
  ln_fwd_ctx c = {C, a, bias, mask, residual, gamma, beta, (float)eps, y, xhat, rstd};
  parallel_rows(N, 4 * C, nthreads, ln_fwd_rows, &c);
}

typedef struct {
  long C;
  const float *dy, *xhat, *rstd, *gamma, *mask;
  float *dx, *dmasked;
} ln_bwd_ctx;

static void ln_bwd_rows(void *p, long r0, long r1) {
  const ln_bwd_ctx *c = (const ln_bwd_ctx *)p;
  const long C = c->C;
  for (long r = r0; r < r1; r++) {
    const float *dy = c->dy + r * C, *xh = c->xhat + r * C, *m = c->mask ? c->mask + r * C : NULL;
    float *dx = c->dx + r * C, *dm = c->dmasked + r * C;
    double s1 = 0, s2 = 0;
    for (long j = 0; j < C; j++) {
      const float g = dy[j] * c->gamma[j];
      s1 += g;
      s2 += (double)g * xh[j];
    }
    const float m1 = (float)(s1 / (double)C), m2 = (float)(s2 / (double)C), rs = c->rstd[r];
    for (long j = 0; j < C; j++) {
      const float d = ((dy[j] * c->gamma[j] - m1) - xh[j] * m2) * rs;
      dx[j] = d;
      dm[j] = m ? d * m[j] : d;
    }
  }
}

/* Column sums of up to three N x C arrays (NULL skipped), rows in order, accumulated in double. */
static void column_sums(long N, long C, const float *a, const float *b, const float *bmul, float *outA, float *outB,
                        const float *c, float *outC) {
  /* One column block at a time keeps the double accumulators in cache. */
  enum { BLK = 256 };
  double accA[BLK], accB[BLK], accC[BLK];
  for (long j0 = 0; j0 < C; j0 += BLK) {
    const long w = C - j0 < BLK ? C - j0 : BLK;
    memset(accA, 0, sizeof accA);
    memset(accB, 0, sizeof accB);
    memset(accC, 0, sizeof accC);
    for (long r = 0; r < N; r++) {
      const long o = r * C + j0;
      for (long j = 0; j < w; j++) {
        accA[j] += a[o + j];
        if (bmul) accB[j] += (double)(b[o + j] * bmul[o + j]);
        if (c) accC[j] += c[o + j];
      }
    }
    for (long j = 0; j < w; j++) {
      outA[j0 + j] = (float)accA[j];
      if (bmul) outB[j0 + j] = (float)accB[j];
      if (c) outC[j0 + j] = (float)accC[j];
    }
  }
}

void mmsa_layernorm_backward(long N, long C, const float *dy, const float *xhat, const float *rstd, const float *gamma,
                             const float *mask, float *dx, float *dmasked, float *dgamma, float *dbeta, float *dbias,
                             int nthreads) {
  ln_bwd_ctx c = {C, dy, xhat, rstd, gamma, mask, dx, dmasked};
  parallel_rows(N, 4 * C, nthreads, ln_bwd_rows, &c);
  /* dbeta = sum dy, dgamma = sum dy * xhat, dbias = sum dmasked */
  column_sums(N, C, dy, dy, xhat, dbeta, dgamma, dmasked, dbias);
}

/* ------------------------------------------------------------------------------------------------- softmax */

typedef struct {
  long L, am_div, am_mod;
  const float *s, *addmask, *mask;
  float scale;
  float *p, *dropped;
} sm_fwd_ctx;

/* Row r adds addmask row (r / am_div) % am_mod: BERT's per-sample key mask (div heads * L) or MulT's per-query mask
   (div 1, mod Tq); no addmask, nothing added. */
static void sm_fwd_rows(void *pp, long r0, long r1) {
  const sm_fwd_ctx *c = (const sm_fwd_ctx *)pp;
  const long L = c->L;
  for (long r = r0; r < r1; r++) {
    const float *s = c->s + r * L, *am = c->addmask ? c->addmask + ((r / c->am_div) % c->am_mod) * L : NULL;
    const float *m = c->mask ? c->mask + r * L : NULL;
    float *p = c->p + r * L, *dr = c->dropped + r * L;
    float mx = -INFINITY;
    for (long j = 0; j < L; j++) {
      const float v = am ? s[j] * c->scale + am[j] : s[j] * c->scale;
      p[j] = v;
      mx = v > mx ? v : mx;
    }
    double sum = 0;
    for (long j = 0; j < L; j++) {
      /* A -inf mask entry (MulT's causal mask) gives exactly 0, as exp does; fast_expf clamps its argument. */
      const float e = p[j] == -INFINITY ? 0.0f : fast_expf(p[j] - mx);
      p[j] = e;
      sum += e;
    }
    const float inv = (float)(1.0 / sum);
    for (long j = 0; j < L; j++) {
      const float q = p[j] * inv;
      p[j] = q;
      dr[j] = m ? q * m[j] : q;
    }
  }
}

void mmsa_softmax_forward(long B, long heads, long L, const float *s, const float *addmask, double scale,
                          const float *mask, float *p, float *dropped, int nthreads) {
  sm_fwd_ctx c = {L, heads * L, B > 0 ? B : 1, s, addmask, mask, (float)scale, p, dropped};
  parallel_rows(B * heads * L, 4 * L, nthreads, sm_fwd_rows, &c);
}

void mmsa_softmax_forward_rows(long rows, long Tq, long Tk, const float *s, const float *addmask, double scale,
                               const float *mask, float *p, float *dropped, int nthreads) {
  sm_fwd_ctx c = {Tk, 1, Tq, s, addmask, mask, (float)scale, p, dropped};
  parallel_rows(rows, 4 * Tk, nthreads, sm_fwd_rows, &c);
}

typedef struct {
  long L;
  const float *p, *dd, *mask;
  float scale;
  float *ds;
} sm_bwd_ctx;

static void sm_bwd_rows(void *pp, long r0, long r1) {
  const sm_bwd_ctx *c = (const sm_bwd_ctx *)pp;
  const long L = c->L;
  for (long r = r0; r < r1; r++) {
    const float *p = c->p + r * L, *dd = c->dd + r * L, *m = c->mask ? c->mask + r * L : NULL;
    float *ds = c->ds + r * L;
    double dot = 0;
    for (long j = 0; j < L; j++) {
      const float dp = m ? dd[j] * m[j] : dd[j];
      ds[j] = dp;
      dot += (double)dp * p[j];
    }
    const float d = (float)dot;
    for (long j = 0; j < L; j++) ds[j] = (p[j] * (ds[j] - d)) * c->scale;
  }
}

void mmsa_softmax_backward(long rows, long L, const float *p, const float *ddropped, const float *mask, double scale,
                           float *ds, int nthreads) {
  sm_bwd_ctx c = {L, p, ddropped, mask, (float)scale, ds};
  parallel_rows(rows, 4 * L, nthreads, sm_bwd_rows, &c);
}

typedef struct {
  const float *x, *mask;
  float *out;
} mul_ctx;

static void mul_chunks(void *p, long k0, long k1) {
  const mul_ctx *c = (const mul_ctx *)p;
  for (long i = k0 * CHUNK; i < k1 * CHUNK; i++) c->out[i] = c->x[i] * c->mask[i];
}

void mmsa_mul_mask(long n, const float *x, const float *mask, float *out, int nthreads) {
  mul_ctx c = {x, mask, out};
  const long full = n / CHUNK;
  parallel_rows(full, CHUNK, nthreads, mul_chunks, &c);
  for (long i = full * CHUNK; i < n; i++) out[i] = x[i] * mask[i];
}

void mmsa_embedding_grad(long n, long H, long V, const int *ids, const float *dy, float *out) {
  memset(out, 0, sizeof(float) * (size_t)V * (size_t)H);
  for (long r = 0; r < n; r++) {
    float *o = out + (long)ids[r] * H;
    const float *d = dy + r * H;
    for (long j = 0; j < H; j++) o[j] += d[j];
  }
}
