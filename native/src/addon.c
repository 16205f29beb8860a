/* N-API entry points of mmsa's optional native kernels: float32 GEMM (and the ISA it was built for) working in place on
   an ArrayBuffer, which is the wasm backend's heap, so tensors never leave wasm memory. Phase 7 (execute). */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bert.h"
#include "lstm.h"
#include "optim.h"
#include "sgemm.h"

#define MMSA_NATIVE_VERSION "4"

static napi_value throw_error(napi_env env, const char *msg) {
  napi_throw_error(env, "MSA6510", msg);
  return NULL;
}

static int get_i64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

/* Elements of an operand that the GEMM touches, counted from its offset: (batch-1)*stride + rows*cols. */
static int64_t extent(int64_t batch, int64_t stride, int64_t rows, int64_t cols) {
  return (batch - 1) * stride + rows * cols;
}

/* Arguments of a heap kernel: argv[0] the heap ArrayBuffer (its float32 view and length), then `n` integers. Throws
   `<name>: ...` and returns 0 when the call does not fit. */
static int heap_args(napi_env env, napi_callback_info info, const char *name, size_t want, napi_value *argv, float **heap,
                     int64_t *lim, int64_t *ints, size_t n) {
  size_t argc = want;
  char msg[128];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != want) {
    snprintf(msg, sizeof msg, "%s: expected %zu arguments", name, want);
    napi_throw_error(env, "MSA6510", msg);
    return 0;
  }
  void *data = NULL;
  size_t bytes = 0;
  bool is_ab = false;
  napi_is_arraybuffer(env, argv[0], &is_ab);
  if (!is_ab || napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok) {
    snprintf(msg, sizeof msg, "%s: argument 1 must be an ArrayBuffer", name);
    napi_throw_error(env, "MSA6510", msg);
    return 0;
  }
  for (size_t i = 0; i < n; i++)
    if (!get_i64(env, argv[i + 1], &ints[i])) {
      snprintf(msg, sizeof msg, "%s: arguments 2-%zu must be integers", name, n + 1);
      napi_throw_error(env, "MSA6510", msg);
      return 0;
    }
  *heap = (float *)data;
  *lim = (int64_t)(bytes / sizeof(float));
  return 1;
}

/* sgemm(heap, batch, M, N, K, transA, transB, offA, strideA, offB, strideB, offC, strideC, threads): offsets and
   strides count float32 elements of heap. Every range is checked against the buffer before anything is read. */
static napi_value js_sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  float *base;
  int64_t lim, a[13];
  if (!heap_args(env, info, "sgemm", 14, argv, &base, &lim, a, 13)) return NULL;
  int64_t batch = a[0], M = a[1], N = a[2], K = a[3], tA = a[4], tB = a[5];
  int64_t offA = a[6], sA = a[7], offB = a[8], sB = a[9], offC = a[10], sC = a[11], threads = a[12];
  const int64_t imax = 0x7fffffff;
  if (batch < 1 || M < 1 || N < 1 || K < 0 || M > imax || N > imax || K > imax || batch > imax)
    return throw_error(env, "sgemm: bad sizes");
  if (offA < 0 || offB < 0 || offC < 0 || sA < 0 || sB < 0 || sC < M * N)
    return throw_error(env, "sgemm: bad offsets or strides");
  if ((K > 0 && (offA + extent(batch, sA, M, K) > lim || offB + extent(batch, sB, K, N) > lim)) ||
      offC + extent(batch, sC, M, N) > lim)
    return throw_error(env, "sgemm: operand outside the buffer");
  mmsa_sgemm((int)batch, (int)M, (int)N, (int)K, tA != 0, tB != 0, base + offA, (long)sA, base + offB, (long)sB,
             base + offC, (long)sC, (int)(threads < 1 ? 1 : threads > 64 ? 64 : threads));
  return NULL;
}


/* A typed array argument of the given type holding at least `need` elements (NULL allowed when `optional`). */
static int typed_arg(napi_env env, const char *kernel, napi_value v, napi_typedarray_type want, size_t need, int optional,
                     void **out, const char *what) {
  napi_valuetype vt;
  napi_typeof(env, v, &vt);
  if (optional && (vt == napi_null || vt == napi_undefined)) {
    *out = NULL;
    return 1;
  }
  bool is_ta = false;
  napi_is_typedarray(env, v, &is_ta);
  napi_typedarray_type type;
  size_t length = 0;
  void *data = NULL;
  if (!is_ta || napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != want) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: %s must be a %s", kernel, what, want == napi_int32_array ? "Int32Array" : "Float32Array");
    napi_throw_error(env, "MSA6510", msg);
    return 0;
  }
  if (length < need) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s: %s has %zu elements, needs %zu", kernel, what, length, need);
    napi_throw_error(env, "MSA6510", msg);
    return 0;
  }
  *out = data;
  return 1;
}

/* Sizes B, T, H, K from argv[0..3] plus order/lens (argv[4], argv[5]) validated against T. */
static int lstm_sizes(napi_env env, napi_value *argv, int64_t *B, int64_t *T, int64_t *H, int64_t *K, int **order, int **lens) {
  if (!get_i64(env, argv[0], B) || !get_i64(env, argv[1], T) || !get_i64(env, argv[2], H) || !get_i64(env, argv[3], K) ||
      *B < 1 || *T < 1 || *H < 1 || *K < 0 || *K > *T || *B * *T * *H * 4 > 0x7fffffffLL) {
    napi_throw_error(env, "MSA6510", "lstm: bad sizes");
    return 0;
  }
  if (!typed_arg(env, "lstm", argv[4], napi_int32_array, (size_t)*K, 0, (void **)order, "order") ||
      !typed_arg(env, "lstm", argv[5], napi_int32_array, (size_t)*B, 0, (void **)lens, "lens"))
    return 0;
  for (int64_t k = 0; k < *K; k++)
    if ((*order)[k] < 0 || (*order)[k] >= *T) {
      napi_throw_error(env, "MSA6510", "lstm: order has a step outside 0..T-1");
      return 0;
    }
  for (int64_t b = 0; b < *B; b++)
    if ((*lens)[b] < 0 || (*lens)[b] > *T) {
      napi_throw_error(env, "MSA6510", "lstm: a length is outside 0..T");
      return 0;
    }
  return 1;
}

/* lstmForward(B, T, H, K, order, lens, xs, W, y, acts|null, tanhC|null, cPrev|null, hPrev|null, threads) */
static napi_value js_lstm_forward(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 14)
    return throw_error(env, "lstmForward: expected 14 arguments");
  int64_t B, T, H, K, threads;
  int *order, *lens;
  if (!lstm_sizes(env, argv, &B, &T, &H, &K, &order, &lens)) return NULL;
  const size_t G = 4 * (size_t)H, BT = (size_t)(B * T);
  float *xs, *W, *y, *acts, *tanhC, *cPrev, *hPrev;
  if (!typed_arg(env, "lstm", argv[6], napi_float32_array, BT * G, 0, (void **)&xs, "xs") ||
      !typed_arg(env, "lstm", argv[7], napi_float32_array, G * (size_t)H, 0, (void **)&W, "W") ||
      !typed_arg(env, "lstm", argv[8], napi_float32_array, (size_t)B * (size_t)(T + 1) * (size_t)H, 0, (void **)&y, "y") ||
      !typed_arg(env, "lstm", argv[9], napi_float32_array, BT * G, 1, (void **)&acts, "acts") ||
      !typed_arg(env, "lstm", argv[10], napi_float32_array, BT * (size_t)H, 1, (void **)&tanhC, "tanhC") ||
      !typed_arg(env, "lstm", argv[11], napi_float32_array, BT * (size_t)H, 1, (void **)&cPrev, "cPrev") ||
      !typed_arg(env, "lstm", argv[12], napi_float32_array, BT * (size_t)H, 1, (void **)&hPrev, "hPrev"))
    return NULL;
  if (!((acts && tanhC && cPrev && hPrev) || (!acts && !tanhC && !cPrev && !hPrev)))
    return throw_error(env, "lstmForward: the saved arrays are all given or all null");
  if (!get_i64(env, argv[13], &threads)) return throw_error(env, "lstmForward: threads must be an integer");
  if (mmsa_lstm_forward((int)B, (int)T, (int)H, (int)K, order, lens, xs, W, y, acts, tanhC, cPrev, hPrev,
                        (int)(threads < 1 ? 1 : threads)) != 0)
    return throw_error(env, "lstmForward: out of memory");
  return NULL;
}

/* lstmBackward(B, T, H, K, order, lens, dys, acts, tanhC, cPrev, W, dxp, threads) */
static napi_value js_lstm_backward(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 13)
    return throw_error(env, "lstmBackward: expected 13 arguments");
  int64_t B, T, H, K, threads;
  int *order, *lens;
  if (!lstm_sizes(env, argv, &B, &T, &H, &K, &order, &lens)) return NULL;
  const size_t G = 4 * (size_t)H, BT = (size_t)(B * T);
  float *dys, *acts, *tanhC, *cPrev, *W, *dxp;
  if (!typed_arg(env, "lstm", argv[6], napi_float32_array, (size_t)B * (size_t)(T + 1) * (size_t)H, 0, (void **)&dys, "dys") ||
      !typed_arg(env, "lstm", argv[7], napi_float32_array, BT * G, 0, (void **)&acts, "acts") ||
      !typed_arg(env, "lstm", argv[8], napi_float32_array, BT * (size_t)H, 0, (void **)&tanhC, "tanhC") ||
      !typed_arg(env, "lstm", argv[9], napi_float32_array, BT * (size_t)H, 0, (void **)&cPrev, "cPrev") ||
      !typed_arg(env, "lstm", argv[10], napi_float32_array, G * (size_t)H, 0, (void **)&W, "W") ||
      !typed_arg(env, "lstm", argv[11], napi_float32_array, BT * G, 0, (void **)&dxp, "dxp"))
    return NULL;
  if (!get_i64(env, argv[12], &threads)) return throw_error(env, "lstmBackward: threads must be an integer");
  if (mmsa_lstm_backward((int)B, (int)T, (int)H, (int)K, order, lens, dys, acts, tanhC, cPrev, W, dxp,
                         (int)(threads < 1 ? 1 : threads)) != 0)
    return throw_error(env, "lstmBackward: out of memory");
  return NULL;
}

/* sumRows(heap, R, C, offIn, offOut): offsets count float32 elements of heap; ranges are checked. */
static napi_value js_sum_rows(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float *b;
  int64_t lim, a[4];
  if (!heap_args(env, info, "sumRows", 5, argv, &b, &lim, a, 4)) return NULL;
  const int64_t R = a[0], C = a[1];
  if (R < 0 || C < 0 || a[2] < 0 || a[3] < 0 || a[2] + R * C > lim || a[3] + C > lim)
    return throw_error(env, "sumRows: operand outside the buffer");
  mmsa_sum_rows((long)R, (long)C, b + a[2], b + a[3]);
  return NULL;
}

/* adamHost(heap, n, offP, offG, offPOut, m, v, lr, b1, b2, eps, weightDecay, stepSize, bc2Sqrt, decoupled): the
   parameter and its gradient in the heap (offsets in float32 elements), the moments in Float32Arrays outside it,
   updated in place. */
static napi_value js_adam_host(napi_env env, napi_callback_info info) {
  napi_value argv[15];
  float *b, *m, *v;
  int64_t lim, a[4];
  if (!heap_args(env, info, "adamHost", 15, argv, &b, &lim, a, 4)) return NULL;
  const int64_t n = a[0];
  if (n < 0) return throw_error(env, "adamHost: bad size");
  for (int i = 1; i < 4; i++)
    if (a[i] < 0 || a[i] + n > lim) return throw_error(env, "adamHost: operand outside the buffer");
  if (!typed_arg(env, "adamHost", argv[5], napi_float32_array, (size_t)n, 0, (void **)&m, "m") ||
      !typed_arg(env, "adamHost", argv[6], napi_float32_array, (size_t)n, 0, (void **)&v, "v"))
    return NULL;
  double f[7];
  for (int i = 0; i < 7; i++)
    if (napi_get_value_double(env, argv[i + 7], &f[i]) != napi_ok) return throw_error(env, "adamHost: arguments 8-14 must be numbers");
  bool decoupled = false;
  if (napi_get_value_bool(env, argv[14], &decoupled) != napi_ok) return throw_error(env, "adamHost: argument 15 must be a boolean");
  mmsa_adam((long)n, b + a[1], b + a[2], m, v, b + a[3], m, v, f[0], f[1], f[2], f[3], f[4], f[5], f[6], decoupled);
  return NULL;
}

/* accumulate(heap, off, n, dst, first): dst = heap[off..off+n) (first) or dst += it; dst a Float32Array. */
static napi_value js_accumulate(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float *b, *dst;
  int64_t lim, a[2];
  if (!heap_args(env, info, "accumulate", 5, argv, &b, &lim, a, 2)) return NULL;
  const int64_t off = a[0], n = a[1];
  if (off < 0 || n < 0 || off + n > lim) return throw_error(env, "accumulate: operand outside the buffer");
  if (!typed_arg(env, "accumulate", argv[3], napi_float32_array, (size_t)n, 0, (void **)&dst, "dst")) return NULL;
  bool first = false;
  if (napi_get_value_bool(env, argv[4], &first) != napi_ok) return throw_error(env, "accumulate: argument 5 must be a boolean");
  mmsa_accumulate((long)n, b + off, dst, first);
  return NULL;
}

/* ------------------------------------------------------------------------------- BERT layer kernels (bert.h) */

/* Checks that [off, off + n) lies in the heap (n >= 0, off >= 0); throws `<name>: operand outside the buffer`. */
static int in_heap(napi_env env, const char *name, int64_t off, int64_t n, int64_t lim) {
  if (off < 0 || n < 0 || off + n > lim) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: operand outside the buffer", name);
    napi_throw_error(env, "MSA6510", msg);
    return 0;
  }
  return 1;
}

static int get_f64(napi_env env, napi_value v, double *out, const char *name) {
  if (napi_get_value_double(env, v, out) == napi_ok) return 1;
  char msg[96];
  snprintf(msg, sizeof msg, "%s: expected a number", name);
  napi_throw_error(env, "MSA6510", msg);
  return 0;
}

/* biasGelu(heap, N, C, offX, offBias, offPre, offAct, threads) */
static napi_value js_bias_gelu(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  float *b;
  int64_t lim, a[7];
  if (!heap_args(env, info, "biasGelu", 8, argv, &b, &lim, a, 7)) return NULL;
  const int64_t N = a[0], C = a[1], n = N * C;
  if (N < 0 || C < 0 || !in_heap(env, "biasGelu", a[2], n, lim) || !in_heap(env, "biasGelu", a[3], C, lim) ||
      !in_heap(env, "biasGelu", a[4], n, lim) || !in_heap(env, "biasGelu", a[5], n, lim))
    return NULL;
  mmsa_bias_gelu((long)N, (long)C, b + a[2], b + a[3], b + a[4], b + a[5], (int)a[6]);
  return NULL;
}

/* geluBackward(heap, n, offDAct, offPre, offDPre, threads) */
static napi_value js_gelu_backward(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  float *b;
  int64_t lim, a[5];
  if (!heap_args(env, info, "geluBackward", 6, argv, &b, &lim, a, 5)) return NULL;
  const int64_t n = a[0];
  for (int i = 1; i < 4; i++)
    if (!in_heap(env, "geluBackward", a[i], n, lim)) return NULL;
  mmsa_gelu_backward((long)n, b + a[1], b + a[2], b + a[3], (int)a[4]);
  return NULL;
}

/* layerNormForward(heap, N, C, offA, offBias, offResidual, offGamma, offBeta, offY, offXhat, offRstd, threads, mask|null,
                    eps) */
static napi_value js_layernorm_forward(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  float *b, *mask;
  int64_t lim, a[11];
  double eps;
  if (!heap_args(env, info, "layerNormForward", 14, argv, &b, &lim, a, 11)) return NULL;
  const int64_t N = a[0], C = a[1], n = N * C;
  /* bias and residual may be absent (-1): a plain LayerNorm of a. */
  if (N < 0 || C < 1 || !in_heap(env, "layerNormForward", a[2], n, lim) ||
      (a[3] != -1 && !in_heap(env, "layerNormForward", a[3], C, lim)) ||
      (a[4] != -1 && !in_heap(env, "layerNormForward", a[4], n, lim)) || !in_heap(env, "layerNormForward", a[5], C, lim) ||
      !in_heap(env, "layerNormForward", a[6], C, lim) || !in_heap(env, "layerNormForward", a[7], n, lim) ||
      !in_heap(env, "layerNormForward", a[8], n, lim) || !in_heap(env, "layerNormForward", a[9], N, lim))
    return NULL;
  if (!typed_arg(env, "layerNormForward", argv[12], napi_float32_array, (size_t)n, 1, (void **)&mask, "mask") ||
      !get_f64(env, argv[13], &eps, "layerNormForward"))
    return NULL;
  mmsa_layernorm_forward((long)N, (long)C, b + a[2], a[3] == -1 ? NULL : b + a[3], mask, a[4] == -1 ? NULL : b + a[4], b + a[5],
                         b + a[6], eps, b + a[7], b + a[8], b + a[9], (int)a[10]);
  return NULL;
}

/* layerNormBackward(heap, N, C, offDy, offXhat, offRstd, offGamma, offDx, offDMasked, offDGamma, offDBeta, offDBias,
                     threads, mask|null) */
static napi_value js_layernorm_backward(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  float *b, *mask;
  int64_t lim, a[12];
  if (!heap_args(env, info, "layerNormBackward", 14, argv, &b, &lim, a, 12)) return NULL;
  const int64_t N = a[0], C = a[1], n = N * C;
  const int64_t sizes[9] = {n, n, N, C, n, n, C, C, C};
  if (N < 0 || C < 1) return throw_error(env, "layerNormBackward: bad sizes");
  for (int i = 0; i < 9; i++)
    if (!in_heap(env, "layerNormBackward", a[i + 2], sizes[i], lim)) return NULL;
  if (!typed_arg(env, "layerNormBackward", argv[13], napi_float32_array, (size_t)n, 1, (void **)&mask, "mask")) return NULL;
  mmsa_layernorm_backward((long)N, (long)C, b + a[2], b + a[3], b + a[4], b + a[5], mask, b + a[6], b + a[7], b + a[8],
                          b + a[9], b + a[10], (int)a[11]);
  return NULL;
}

/* softmaxForward(heap, B, heads, L, offS, offAddMask, offP, offDropped, threads, mask|null, scale) */
static napi_value js_softmax_forward(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  float *b, *mask;
  int64_t lim, a[8];
  double scale;
  if (!heap_args(env, info, "softmaxForward", 11, argv, &b, &lim, a, 8)) return NULL;
  const int64_t B = a[0], H = a[1], L = a[2], n = B * H * L * L;
  if (B < 0 || H < 1 || L < 1 || !in_heap(env, "softmaxForward", a[3], n, lim) || !in_heap(env, "softmaxForward", a[4], B * L, lim) ||
      !in_heap(env, "softmaxForward", a[5], n, lim) || !in_heap(env, "softmaxForward", a[6], n, lim))
    return NULL;
  if (!typed_arg(env, "softmaxForward", argv[9], napi_float32_array, (size_t)n, 1, (void **)&mask, "mask") ||
      !get_f64(env, argv[10], &scale, "softmaxForward"))
    return NULL;
  mmsa_softmax_forward((long)B, (long)H, (long)L, b + a[3], b + a[4], scale, mask, b + a[5], b + a[6], (int)a[7]);
  return NULL;
}

/* softmaxForwardRows(heap, rows, Tq, Tk, offS, offAddMask (-1: none), offP, offDropped, threads, mask|null, scale) */
static napi_value js_softmax_forward_rows(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  float *b, *mask;
  int64_t lim, a[8];
  double scale;
  if (!heap_args(env, info, "softmaxForwardRows", 11, argv, &b, &lim, a, 8)) return NULL;
  const int64_t R = a[0], Tq = a[1], Tk = a[2], n = R * Tk;
  if (R < 0 || Tq < 1 || Tk < 1 || !in_heap(env, "softmaxForwardRows", a[3], n, lim) ||
      (a[4] != -1 && !in_heap(env, "softmaxForwardRows", a[4], Tq * Tk, lim)) || !in_heap(env, "softmaxForwardRows", a[5], n, lim) ||
      !in_heap(env, "softmaxForwardRows", a[6], n, lim))
    return NULL;
  if (!typed_arg(env, "softmaxForwardRows", argv[9], napi_float32_array, (size_t)n, 1, (void **)&mask, "mask") ||
      !get_f64(env, argv[10], &scale, "softmaxForwardRows"))
    return NULL;
  mmsa_softmax_forward_rows((long)R, (long)Tq, (long)Tk, b + a[3], a[4] == -1 ? NULL : b + a[4], scale, mask, b + a[5], b + a[6],
                            (int)a[7]);
  return NULL;
}

/* softmaxBackward(heap, rows, L, offP, offDDropped, offDs, threads, mask|null, scale) */
static napi_value js_softmax_backward(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  float *b, *mask;
  int64_t lim, a[6];
  double scale;
  if (!heap_args(env, info, "softmaxBackward", 9, argv, &b, &lim, a, 6)) return NULL;
  const int64_t R = a[0], L = a[1], n = R * L;
  if (R < 0 || L < 1 || !in_heap(env, "softmaxBackward", a[2], n, lim) || !in_heap(env, "softmaxBackward", a[3], n, lim) ||
      !in_heap(env, "softmaxBackward", a[4], n, lim))
    return NULL;
  if (!typed_arg(env, "softmaxBackward", argv[7], napi_float32_array, (size_t)n, 1, (void **)&mask, "mask") ||
      !get_f64(env, argv[8], &scale, "softmaxBackward"))
    return NULL;
  mmsa_softmax_backward((long)R, (long)L, b + a[2], b + a[3], mask, scale, b + a[4], (int)a[5]);
  return NULL;
}

/* mulMask(heap, n, offX, offOut, threads, mask) */
static napi_value js_mul_mask(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  float *b, *mask;
  int64_t lim, a[4];
  if (!heap_args(env, info, "mulMask", 6, argv, &b, &lim, a, 4)) return NULL;
  const int64_t n = a[0];
  if (!in_heap(env, "mulMask", a[1], n, lim) || !in_heap(env, "mulMask", a[2], n, lim)) return NULL;
  if (!typed_arg(env, "mulMask", argv[5], napi_float32_array, (size_t)n, 0, (void **)&mask, "mask")) return NULL;
  mmsa_mul_mask((long)n, b + a[1], mask, b + a[2], (int)a[3]);
  return NULL;
}

/* embeddingGrad(heap, n, H, V, offIds, offDy, offOut): ids are int32 at offIds (counted in 4-byte elements too). */
static napi_value js_embedding_grad(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  float *b;
  int64_t lim, a[6];
  if (!heap_args(env, info, "embeddingGrad", 7, argv, &b, &lim, a, 6)) return NULL;
  const int64_t n = a[0], H = a[1], V = a[2];
  if (n < 0 || H < 1 || V < 1 || !in_heap(env, "embeddingGrad", a[3], n, lim) || !in_heap(env, "embeddingGrad", a[4], n * H, lim) ||
      !in_heap(env, "embeddingGrad", a[5], V * H, lim))
    return NULL;
  const int *ids = (const int *)(b + a[3]);
  for (int64_t r = 0; r < n; r++)
    if (ids[r] < 0 || ids[r] >= V) return throw_error(env, "embeddingGrad: an id is outside the table");
  mmsa_embedding_grad((long)n, (long)H, (long)V, ids, b + a[4], b + a[5]);
  return NULL;
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, v;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, MMSA_NATIVE_VERSION, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "version", v);
  const char *isa = mmsa_sgemm_isa();
  napi_create_string_utf8(env, isa, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, "isa", v);
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, js_sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_default, NULL},
      {"sumRows", NULL, js_sum_rows, NULL, NULL, NULL, napi_default, NULL},
      {"adamHost", NULL, js_adam_host, NULL, NULL, NULL, napi_default, NULL},
      {"accumulate", NULL, js_accumulate, NULL, NULL, NULL, napi_default, NULL},
      {"biasGelu", NULL, js_bias_gelu, NULL, NULL, NULL, napi_default, NULL},
      {"geluBackward", NULL, js_gelu_backward, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormForward", NULL, js_layernorm_forward, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormBackward", NULL, js_layernorm_backward, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxForward", NULL, js_softmax_forward, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxForwardRows", NULL, js_softmax_forward_rows, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxBackward", NULL, js_softmax_backward, NULL, NULL, NULL, napi_default, NULL},
      {"mulMask", NULL, js_mul_mask, NULL, NULL, NULL, napi_default, NULL},
      {"embeddingGrad", NULL, js_embedding_grad, NULL, NULL, NULL, napi_default, NULL},
      {"lstmForward", NULL, js_lstm_forward, NULL, NULL, NULL, napi_default, NULL},
      {"lstmBackward", NULL, js_lstm_backward, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
