/* Native LSTM recurrence (forward and backward) for mmsa's fused LSTM: the per-step products go through mmsa_sgemm,
   the cell maths is float32 in plain loops. Same semantics as lstmRecurrence in src/runtime/nn/lstm-fused.ts. */
#include "lstm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sgemm.h"
#include "vmath.h"

/* In place over n contiguous values: x <- sigmoid(x). */
static void vsigmoid(float *restrict x, int n) {
  for (int i = 0; i < n; i++) x[i] = 1.0f / (1.0f + fast_expf(-x[i]));
}

/* In place: x <- tanh(x) = 2 sigmoid(2x) - 1 (absolute error ~1e-7, what the tfjs path computes too). */
static void vtanh(float *restrict x, int n) {
  for (int i = 0; i < n; i++) x[i] = 2.0f / (1.0f + fast_expf(-2.0f * x[i])) - 1.0f;
}

static int lstm_forward_rows(int B, int T, int H, int K, const int *order, const int *lens, const float *xs, const float *W,
                             float *y, float *acts, float *tanhC, float *cPrev, float *hPrev, int nthreads) {
  const int G = 4 * H;
  const int save = acts != NULL;
  float *h = calloc((size_t)B * H, sizeof(float));
  float *c = calloc((size_t)B * H, sizeof(float));
  float *gates = malloc((size_t)B * G * sizeof(float));
  float *tmp = malloc((size_t)H * sizeof(float));
  if (!h || !c || !gates || !tmp) {
    free(h);
    free(c);
    free(gates);
    free(tmp);
    return -1;
  }
  for (int k = 0; k < K; k++) {
    const int t = order[k];
    /* gates = h W_hh^T for every row; inactive rows are computed and ignored. */
    mmsa_sgemm(1, B, G, H, 0, 1, h, 0, W, 0, gates, 0, nthreads);
    for (int b = 0; b < B; b++) {
      if (t >= lens[b]) continue;
      float *restrict a = gates + (size_t)b * G;
      const float *restrict x = xs + ((size_t)b * T + t) * G;
      float *restrict hb = h + (size_t)b * H;
      float *restrict cb = c + (size_t)b * H;
      const size_t s = ((size_t)b * T + t) * H;
      if (save) {
        memcpy(hPrev + s, hb, (size_t)H * sizeof(float));
        memcpy(cPrev + s, cb, (size_t)H * sizeof(float));
      }
      for (int q = 0; q < G; q++) a[q] += x[q];
      vsigmoid(a, 2 * H);         /* i, f */
      vtanh(a + 2 * H, H);        /* g */
      vsigmoid(a + 3 * H, H);     /* o */
      float *restrict tc = tmp;
      for (int q = 0; q < H; q++) {
        const float cn = a[H + q] * cb[q] + a[q] * a[2 * H + q];
        cb[q] = cn;
        tc[q] = cn;
      }
      vtanh(tc, H);
      float *restrict yo = y + ((size_t)b * (T + 1) + t) * H;
      for (int q = 0; q < H; q++) {
        const float hn = a[3 * H + q] * tc[q];
        hb[q] = hn;
        yo[q] = hn;
      }
      if (save) {
        memcpy(acts + ((size_t)b * T + t) * G, a, (size_t)G * sizeof(float));
        memcpy(tanhC + s, tc, (size_t)H * sizeof(float));
      }
    }
  }
  for (int b = 0; b < B; b++) memcpy(y + ((size_t)b * (T + 1) + T) * H, h + (size_t)b * H, (size_t)H * sizeof(float));
  free(h);
  free(c);
  free(gates);
  free(tmp);
  return 0;
}

static int lstm_backward_rows(int B, int T, int H, int K, const int *order, const int *lens, const float *dys,
                              const float *acts, const float *tanhC, const float *cPrev, const float *W, float *dxp,
                              int nthreads) {
  const int G = 4 * H;
  float *dh = malloc((size_t)B * H * sizeof(float));
  float *dc = calloc((size_t)B * H, sizeof(float));
  float *dG = calloc((size_t)B * G, sizeof(float));
  float *prod = malloc((size_t)B * H * sizeof(float));
  if (!dh || !dc || !dG || !prod) {
    free(dh);
    free(dc);
    free(dG);
    free(prod);
    return -1;
  }
  for (int b = 0; b < B; b++) memcpy(dh + (size_t)b * H, dys + ((size_t)b * (T + 1) + T) * H, (size_t)H * sizeof(float));
  for (int k = K - 1; k >= 0; k--) {
    const int t = order[k];
    for (int b = 0; b < B; b++) {
      float *g = dG + (size_t)b * G;
      if (t >= lens[b]) {
        memset(g, 0, (size_t)G * sizeof(float));
        continue;
      }
      const float *a = acts + ((size_t)b * T + t) * G;
      const size_t s = ((size_t)b * T + t) * H;
      const float *dy = dys + ((size_t)b * (T + 1) + t) * H;
      float *dhb = dh + (size_t)b * H;
      float *dcb = dc + (size_t)b * H;
      for (int q = 0; q < H; q++) {
        const float dht = dhb[q] + dy[q];
        const float ig = a[q], fg = a[H + q], gg = a[2 * H + q], og = a[3 * H + q];
        const float tc = tanhC[s + q];
        const float dcn = dcb[q] + dht * og * (1.0f - tc * tc);
        g[q] = dcn * gg * ig * (1.0f - ig);
        g[H + q] = dcn * cPrev[s + q] * fg * (1.0f - fg);
        g[2 * H + q] = dcn * ig * (1.0f - gg * gg);
        g[3 * H + q] = dht * tc * og * (1.0f - og);
        dcb[q] = dcn * fg;
      }
      memcpy(dxp + ((size_t)b * T + t) * G, g, (size_t)G * sizeof(float));
    }
    if (k > 0) {
      /* dh_{t-1} = dG_t W_hh for the rows active at t; the others carry dh unchanged. */
      mmsa_sgemm(1, B, H, G, 0, 0, dG, 0, W, 0, prod, 0, nthreads);
      for (int b = 0; b < B; b++)
        if (t < lens[b]) memcpy(dh + (size_t)b * H, prod + (size_t)b * H, (size_t)H * sizeof(float));
    }
  }
  free(dh);
  free(dc);
  free(dG);
  free(prod);
  return 0;
}

/* Rows of a batch are independent recurrences, so the batch is split across threads, each running every step for its
   rows with a single-threaded GEMM. A row's result does not depend on the split (the GEMM's per-element order depends
   only on the inner size), so any thread count gives the same bits. */
typedef struct {
  int backward, B, T, H, K, status;
  const int *order, *lens;
  const float *in, *acts, *tanhC, *cPrev, *W;
  float *out, *sAct, *sTanh, *sCPrev, *sHPrev;
} lstm_job;

static void *lstm_job_run(void *arg) {
  lstm_job *j = arg;
  j->status = j->backward
                  ? lstm_backward_rows(j->B, j->T, j->H, j->K, j->order, j->lens, j->in, j->acts, j->tanhC, j->cPrev, j->W, j->out, 1)
                  : lstm_forward_rows(j->B, j->T, j->H, j->K, j->order, j->lens, j->in, j->W, j->out, j->sAct, j->sTanh,
                                      j->sCPrev, j->sHPrev, 1);
  return NULL;
}

/* Threads worth starting: at least 8 rows each and enough work to pay ~20 us per thread. */
static int lstm_threads(int B, int H, int K, int nthreads) {
  if (nthreads <= 1 || (double)B * H * H * K * 8.0 < 2e7) return 1;
  int nt = nthreads < B / 8 ? nthreads : B / 8;
  return nt < 1 ? 1 : nt > 16 ? 16 : nt;
}

static int lstm_split(lstm_job *proto, int nt) {
  lstm_job jobs[16];
  pthread_t tid[16];
  int started[16] = {0};
  const int B = proto->B, T = proto->T, H = proto->H, G = 4 * H;
  for (int i = 0; i < nt; i++) {
    const int b0 = (int)((long)B * i / nt), b1 = (int)((long)B * (i + 1) / nt);
    lstm_job *j = &jobs[i];
    *j = *proto;
    j->B = b1 - b0;
    j->lens = proto->lens + b0;
    const size_t xsRow = (size_t)T * G, yRow = (size_t)(T + 1) * H, sRow = (size_t)T * H;
    if (proto->backward) {
      j->in = proto->in + b0 * yRow;
      j->acts = proto->acts + b0 * xsRow;
      j->tanhC = proto->tanhC + b0 * sRow;
      j->cPrev = proto->cPrev + b0 * sRow;
      j->out = proto->out + b0 * xsRow;
    } else {
      j->in = proto->in + b0 * xsRow;
      j->out = proto->out + b0 * yRow;
      if (proto->sAct) {
        j->sAct = proto->sAct + b0 * xsRow;
        j->sTanh = proto->sTanh + b0 * sRow;
        j->sCPrev = proto->sCPrev + b0 * sRow;
        j->sHPrev = proto->sHPrev + b0 * sRow;
      }
    }
  }
  for (int i = 1; i < nt; i++) started[i] = pthread_create(&tid[i], NULL, lstm_job_run, &jobs[i]) == 0;
  lstm_job_run(&jobs[0]);
  for (int i = 1; i < nt; i++) {
    if (started[i]) pthread_join(tid[i], NULL);
    else lstm_job_run(&jobs[i]); /* could not start a thread: do its rows here */
  }
  for (int i = 0; i < nt; i++)
    if (jobs[i].status != 0) return -1;
  return 0;
}

int mmsa_lstm_forward(int B, int T, int H, int K, const int *order, const int *lens, const float *xs, const float *W,
                      float *y, float *acts, float *tanhC, float *cPrev, float *hPrev, int nthreads) {
  const int nt = lstm_threads(B, H, K, nthreads);
  if (nt <= 1) return lstm_forward_rows(B, T, H, K, order, lens, xs, W, y, acts, tanhC, cPrev, hPrev, 1);
  lstm_job proto = {0, B, T, H, K, 0, order, lens, xs, NULL, NULL, NULL, W, y, acts, tanhC, cPrev, hPrev};
  return lstm_split(&proto, nt);
}

int mmsa_lstm_backward(int B, int T, int H, int K, const int *order, const int *lens, const float *dys, const float *acts,
                       const float *tanhC, const float *cPrev, const float *W, float *dxp, int nthreads) {
  const int nt = lstm_threads(B, H, K, nthreads);
  if (nt <= 1) return lstm_backward_rows(B, T, H, K, order, lens, dys, acts, tanhC, cPrev, W, dxp, 1);
  lstm_job proto = {1, B, T, H, K, 0, order, lens, dys, acts, tanhC, cPrev, W, dxp, NULL, NULL, NULL, NULL};
  return lstm_split(&proto, nt);
}
