/* N-API entry points of mmsa's optional native kernels: float32 GEMM (and the ISA it was built for) working in place on
   an ArrayBuffer, which is the wasm backend's heap, so tensors never leave wasm memory. Phase 7 (execute). */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "attention.h"
#include "lstm.h"
#include "optim.h"
#include "sgemm.h"

#define MMSA_NATIVE_VERSION "1"

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
static int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, size_t need, int optional, void **out,
                     const char *what) {
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
    snprintf(msg, sizeof msg, "lstm: %s must be a %s", what, want == napi_int32_array ? "Int32Array" : "Float32Array");
    napi_throw_error(env, "MSA6510", msg);
    return 0;
  }
  if (length < need) {
    char msg[160];
    snprintf(msg, sizeof msg, "lstm: %s has %zu elements, needs %zu", what, length, need);
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
  if (!typed_arg(env, argv[4], napi_int32_array, (size_t)*K, 0, (void **)order, "order") ||
      !typed_arg(env, argv[5], napi_int32_array, (size_t)*B, 0, (void **)lens, "lens"))
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
  if (!typed_arg(env, argv[6], napi_float32_array, BT * G, 0, (void **)&xs, "xs") ||
      !typed_arg(env, argv[7], napi_float32_array, G * (size_t)H, 0, (void **)&W, "W") ||
      !typed_arg(env, argv[8], napi_float32_array, (size_t)B * (size_t)(T + 1) * (size_t)H, 0, (void **)&y, "y") ||
      !typed_arg(env, argv[9], napi_float32_array, BT * G, 1, (void **)&acts, "acts") ||
      !typed_arg(env, argv[10], napi_float32_array, BT * (size_t)H, 1, (void **)&tanhC, "tanhC") ||
      !typed_arg(env, argv[11], napi_float32_array, BT * (size_t)H, 1, (void **)&cPrev, "cPrev") ||
      !typed_arg(env, argv[12], napi_float32_array, BT * (size_t)H, 1, (void **)&hPrev, "hPrev"))
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
  if (!typed_arg(env, argv[6], napi_float32_array, (size_t)B * (size_t)(T + 1) * (size_t)H, 0, (void **)&dys, "dys") ||
      !typed_arg(env, argv[7], napi_float32_array, BT * G, 0, (void **)&acts, "acts") ||
      !typed_arg(env, argv[8], napi_float32_array, BT * (size_t)H, 0, (void **)&tanhC, "tanhC") ||
      !typed_arg(env, argv[9], napi_float32_array, BT * (size_t)H, 0, (void **)&cPrev, "cPrev") ||
      !typed_arg(env, argv[10], napi_float32_array, G * (size_t)H, 0, (void **)&W, "W") ||
      !typed_arg(env, argv[11], napi_float32_array, BT * G, 0, (void **)&dxp, "dxp"))
    return NULL;
  if (!get_i64(env, argv[12], &threads)) return throw_error(env, "lstmBackward: threads must be an integer");
  if (mmsa_lstm_backward((int)B, (int)T, (int)H, (int)K, order, lens, dys, acts, tanhC, cPrev, W, dxp,
                         (int)(threads < 1 ? 1 : threads)) != 0)
    return throw_error(env, "lstmBackward: out of memory");
  return NULL;
}

/* adam(heap, n, offP, offG, offM, offV, offPOut, offMOut, offVOut, lr, b1, b2, eps, weightDecay, stepSize, bc2Sqrt,
        decoupled): offsets count float32 elements of heap; every range is checked. */
static napi_value js_adam(napi_env env, napi_callback_info info) {
  napi_value argv[17];
  float *b;
  int64_t lim, a[8];
  if (!heap_args(env, info, "adam", 17, argv, &b, &lim, a, 8)) return NULL;
  double f[7];
  for (int i = 0; i < 7; i++)
    if (napi_get_value_double(env, argv[i + 9], &f[i]) != napi_ok) return throw_error(env, "adam: arguments 10-16 must be numbers");
  bool decoupled = false;
  if (napi_get_value_bool(env, argv[16], &decoupled) != napi_ok) return throw_error(env, "adam: argument 17 must be a boolean");
  const int64_t n = a[0];
  if (n < 0) return throw_error(env, "adam: bad size");
  for (int i = 1; i < 8; i++)
    if (a[i] < 0 || a[i] + n > lim) return throw_error(env, "adam: operand outside the buffer");
  mmsa_adam((long)n, b + a[1], b + a[2], b + a[3], b + a[4], b + a[5], b + a[6], b + a[7], f[0], f[1], f[2], f[3], f[4],
            f[5], f[6], decoupled);
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

/* An optional operand: offset -1 means none (NULL); otherwise [off, off + n) must lie in the heap. */
static int opt_operand(float *b, int64_t lim, int64_t off, int64_t n, float **out) {
  if (off == -1) {
    *out = NULL;
    return 1;
  }
  if (off < 0 || n < 0 || off + n > lim) return 0;
  *out = b + off;
  return 1;
}

/* softmaxRows(heap, R, C, offX, offMask, maskRows, offDrop, offP, offY): offsets count float32 elements of heap; -1 for
   no mask / no dropout (then offY is -1 too). */
static napi_value js_softmax_rows(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  float *b, *x, *mask, *drop, *p, *y;
  int64_t lim, a[8];
  if (!heap_args(env, info, "softmaxRows", 9, argv, &b, &lim, a, 8)) return NULL;
  const int64_t R = a[0], C = a[1], maskRows = a[4];
  if (R < 0 || C < 1 || (a[3] != -1 && maskRows < 1)) return throw_error(env, "softmaxRows: bad sizes");
  if (!opt_operand(b, lim, a[2], R * C, &x) || !x || !opt_operand(b, lim, a[3], maskRows * C, &mask) ||
      !opt_operand(b, lim, a[5], R * C, &drop) || !opt_operand(b, lim, a[6], R * C, &p) || !p ||
      !opt_operand(b, lim, a[7], R * C, &y) || (drop == NULL) != (y == NULL))
    return throw_error(env, "softmaxRows: operand outside the buffer");
  mmsa_softmax_rows((long)R, (long)C, x, mask, (long)(maskRows < 1 ? 1 : maskRows), drop, p, y);
  return NULL;
}

/* softmaxRowsBackward(heap, R, C, offP, offDY, offDrop, offDX): offsets count float32 elements; offDrop -1 for none. */
static napi_value js_softmax_rows_backward(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  float *b, *p, *dy, *drop, *dx;
  int64_t lim, a[6];
  if (!heap_args(env, info, "softmaxRowsBackward", 7, argv, &b, &lim, a, 6)) return NULL;
  const int64_t R = a[0], C = a[1];
  if (R < 0 || C < 1) return throw_error(env, "softmaxRowsBackward: bad sizes");
  if (!opt_operand(b, lim, a[2], R * C, &p) || !p || !opt_operand(b, lim, a[3], R * C, &dy) || !dy ||
      !opt_operand(b, lim, a[4], R * C, &drop) || !opt_operand(b, lim, a[5], R * C, &dx) || !dx)
    return throw_error(env, "softmaxRowsBackward: operand outside the buffer");
  mmsa_softmax_rows_backward((long)R, (long)C, p, dy, drop, dx);
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
      {"adam", NULL, js_adam, NULL, NULL, NULL, napi_default, NULL},
      {"lstmForward", NULL, js_lstm_forward, NULL, NULL, NULL, napi_default, NULL},
      {"lstmBackward", NULL, js_lstm_backward, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxRows", NULL, js_softmax_rows, NULL, NULL, NULL, napi_default, NULL},
      {"softmaxRowsBackward", NULL, js_softmax_rows_backward, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
