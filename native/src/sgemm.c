/* sgemm.c: deterministic packed single-precision GEMM (batched, all transposes) with optional pthreads.
   Each C element's arithmetic is fixed by K alone (see sgemm.h), so blocking, threads and paths never change bits. */
#include "sgemm.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------------------------------
   ISA selection. MR x NR is the register tile of the micro-kernel; packed A panels are MR wide, B panels NR wide.
   --------------------------------------------------------------------------------------------------------------- */
#if defined(__AVX512F__)
#include <immintrin.h>
#define MMSA_ISA "avx512"
#define MMSA_AVX512 1
#define MMSA_MR 14
#define MMSA_NR 32
#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define MMSA_ISA "avx2"
#define MMSA_AVX2 1
#define MMSA_MR 6
#define MMSA_NR 16
#else
#define MMSA_ISA "generic"
#define MMSA_GENERIC 1
#define MMSA_MR 4
#define MMSA_NR 8
#endif

#define MR MMSA_MR
#define NR MMSA_NR

/* The scalar multiply-add must round exactly like the vector kernel's, because the no-buffer fallback and the
   vector kernels have to agree bit for bit. The vector kernels use hardware FMA whenever the target has it. */
#if defined(MMSA_AVX512) || defined(MMSA_AVX2) || defined(__FMA__) || defined(__FP_FAST_FMAF)
#define SMADD(a, b, c) __builtin_fmaf((a), (b), (c))
#else
#define SMADD(a, b, c) ((a) * (b) + (c))
#endif

/* Cache blocking. KC: depth of one packed block; MC: rows of A packed per block (lives in L2); NC: columns of B
   packed per block. None of these affect results, only speed. */
#ifndef MMSA_KC
#define MMSA_KC 384
#endif
#ifndef MMSA_MC
#define MMSA_MC (MR * 16)
#endif
#ifndef MMSA_NC
#define MMSA_NC 1024
#endif
/* Below this many flops (2*M*N*K*batch) a second thread does not pay: creating and joining one costs ~16 us on the
   development VM; measured break-even ~1.4e7, 1.2x faster from ~3e7 (sgemm_check bench-threads). */
#ifndef MMSA_THREAD_MIN_FLOPS
#define MMSA_THREAD_MIN_FLOPS 3.0e7
#endif
#define MMSA_MAX_THREADS 64
/* A C matrix at least this big, written in one K block, is stored with streaming (non-temporal) stores. */
#ifndef MMSA_STREAM_BYTES
#define MMSA_STREAM_BYTES (16.0 * 1024 * 1024)
#endif

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Software prefetch stream handed to a kernel call: while it runs, the kernel touches one cache line per k step,
   n lines in all, walking lines col, col+1, ... of row `row` (lpr lines per row, rows ld bytes apart). The driver
   points it at the source data of the next block to be packed, so DRAM latency overlaps computation. */
typedef struct {
    const char *row;
    long ld;
    int col, lpr, n;
    /* C tile of the next kernel call (rows x cols floats, ldc apart), prefetched for writing. */
    float *cnext;
    int cnext_rows, cnext_cols;
} pf_t;

/* Prefetch for writing every cache line of a rows x cols tile of C. */
ALWAYS_INLINE void prefetch_c_tile(const float *c, long ldc, int rows, int cols)
{
    for (int i = 0; i < rows; i++) {
        const char *p = (const char *)((uintptr_t)(c + i * ldc) & ~(uintptr_t)63);
        const char *e = (const char *)(c + i * ldc + cols);
        for (; p < e; p += 64) __builtin_prefetch(p, 1, 3);
    }
}

/* ---------------------------------------------------------------------------------------------------------------
   Micro-kernels. p[i][j] = sum_k a[k*aks + i] * b[k*bks + j], the sum taken in increasing k from 0, one
   multiply-add per step; then c[i][j] = accumulate ? c[i][j] + p[i][j] : p[i][j] (i < mr, j < ncols).
   b must hold NR readable floats per k (packed panels are zero-padded), a must hold mr.
   --------------------------------------------------------------------------------------------------------------- */
/* The accumulators are separate named variables (not arrays) so that every specialisation keeps them in
   registers; rows >= mr are dead code once mr is a constant. */
#define ROWS16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

#if defined(MMSA_AVX512)

ALWAYS_INLINE void kern_body(const int mr, int kc, const float *restrict a, long aks, const float *restrict b,
                             long bks, float *restrict c, long ldc, int ncols, int accumulate, const pf_t *pf)
{
    const char *pfrow = pf->row;
    const long pfld = pf->ld;
    int pfcol = pf->col, npf = pf->n;
    const int pflpr = pf->lpr;
    /* Streaming stores bypass the caches for a C written once and too big to stay cached (no read for ownership). */
    const int stream = (accumulate & 2) && ncols == NR && ((uintptr_t)c & 63) == 0 && (ldc & 15) == 0;
    accumulate &= 1;
    if (!stream && pf->cnext) prefetch_c_tile(pf->cnext, ldc, pf->cnext_rows, pf->cnext_cols);
    const __mmask16 m0 = ncols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << ncols) - 1u);
    const __mmask16 m1 = ncols >= 32 ? (__mmask16)0xFFFF : ncols > 16 ? (__mmask16)((1u << (ncols - 16)) - 1u) : 0;
#define K_DECL(i) __m512 x##i##a = _mm512_setzero_ps(), x##i##b = _mm512_setzero_ps();
#define K_STEP(i)                                                                                               \
    if (MR > i && mr > i) {                                                                                     \
        const __m512 t = _mm512_set1_ps(a[i]);                                                                  \
        x##i##a = _mm512_fmadd_ps(t, b0, x##i##a);                                                              \
        x##i##b = _mm512_fmadd_ps(t, b1, x##i##b);                                                              \
    }
#define K_ADDC(i)                                                                                               \
    if (MR > i && mr > i) {                                                                                     \
        x##i##a = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c + i * ldc), x##i##a);                              \
        x##i##b = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c + i * ldc + 16), x##i##b);                         \
    }
#define K_STORE(i)                                                                                              \
    if (MR > i && mr > i) {                                                                                     \
        _mm512_mask_storeu_ps(c + i * ldc, m0, x##i##a);                                                        \
        _mm512_mask_storeu_ps(c + i * ldc + 16, m1, x##i##b);                                                   \
    }
#define K_STREAM(i)                                                                                             \
    if (MR > i && mr > i) {                                                                                     \
        _mm512_stream_ps(c + i * ldc, x##i##a);                                                                 \
        _mm512_stream_ps(c + i * ldc + 16, x##i##b);                                                            \
    }
    ROWS16(K_DECL)
    for (int k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        ROWS16(K_STEP)
        a += aks;
        b += bks;
        if (npf > 0) {
            __builtin_prefetch(pfrow + 64 * pfcol, 0, 3);
            if (++pfcol == pflpr) {
                pfcol = 0;
                pfrow += pfld;
            }
            npf--;
        }
    }
    if (accumulate) {
        ROWS16(K_ADDC)
    }
    if (stream) {
        ROWS16(K_STREAM)
    } else {
        ROWS16(K_STORE)
    }
#undef K_DECL
#undef K_STEP
#undef K_ADDC
#undef K_STORE
#undef K_STREAM
}

#elif defined(MMSA_AVX2)

ALWAYS_INLINE void kern_body(const int mr, int kc, const float *restrict a, long aks, const float *restrict b,
                             long bks, float *restrict c, long ldc, int ncols, int accumulate, const pf_t *pf)
{
    if (pf->cnext) prefetch_c_tile(pf->cnext, ldc, pf->cnext_rows, pf->cnext_cols);
    accumulate &= 1;
    const char *pfrow = pf->row;
    const long pfld = pf->ld;
    int pfcol = pf->col, npf = pf->n;
    const int pflpr = pf->lpr;
#define K_DECL(i) __m256 x##i##a = _mm256_setzero_ps(), x##i##b = _mm256_setzero_ps();
#define K_STEP(i)                                                                                               \
    if (MR > i && mr > i) {                                                                                     \
        const __m256 t = _mm256_broadcast_ss(a + i);                                                            \
        x##i##a = _mm256_fmadd_ps(t, b0, x##i##a);                                                              \
        x##i##b = _mm256_fmadd_ps(t, b1, x##i##b);                                                              \
    }
#define K_STORE(i)                                                                                              \
    if (MR > i && mr > i) {                                                                                     \
        if (ncols == NR) {                                                                                      \
            if (accumulate) {                                                                                   \
                x##i##a = _mm256_add_ps(_mm256_loadu_ps(c + i * ldc), x##i##a);                                 \
                x##i##b = _mm256_add_ps(_mm256_loadu_ps(c + i * ldc + 8), x##i##b);                             \
            }                                                                                                   \
            _mm256_storeu_ps(c + i * ldc, x##i##a);                                                             \
            _mm256_storeu_ps(c + i * ldc + 8, x##i##b);                                                         \
        } else {                                                                                                \
            float t[NR];                                                                                        \
            _mm256_storeu_ps(t, x##i##a);                                                                       \
            _mm256_storeu_ps(t + 8, x##i##b);                                                                   \
            for (int j = 0; j < ncols; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + t[j] : t[j];         \
        }                                                                                                       \
    }
    ROWS16(K_DECL)
    for (int k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        ROWS16(K_STEP)
        a += aks;
        b += bks;
        if (npf > 0) {
            __builtin_prefetch(pfrow + 64 * pfcol, 0, 3);
            if (++pfcol == pflpr) {
                pfcol = 0;
                pfrow += pfld;
            }
            npf--;
        }
    }
    ROWS16(K_STORE)
#undef K_DECL
#undef K_STEP
#undef K_STORE
}

#else /* generic: plain arrays, left to the auto-vectoriser */

ALWAYS_INLINE void kern_body(const int mr, int kc, const float *restrict a, long aks, const float *restrict b,
                             long bks, float *restrict c, long ldc, int ncols, int accumulate, const pf_t *pf)
{
    if (pf->cnext) prefetch_c_tile(pf->cnext, ldc, pf->cnext_rows, pf->cnext_cols);
    accumulate &= 1;
    const char *pfrow = pf->row;
    const long pfld = pf->ld;
    int pfcol = pf->col, npf = pf->n;
    const int pflpr = pf->lpr;
    float acc[MR][NR];
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = 0.0f;
    for (int k = 0; k < kc; k++) {
        for (int i = 0; i < mr; i++) {
            const float ai = a[i];
            for (int j = 0; j < NR; j++) acc[i][j] = SMADD(ai, b[j], acc[i][j]);
        }
        a += aks;
        b += bks;
        if (npf > 0) {
            __builtin_prefetch(pfrow + 64 * pfcol, 0, 3);
            if (++pfcol == pflpr) {
                pfcol = 0;
                pfrow += pfld;
            }
            npf--;
        }
    }
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < ncols; j++) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

#endif

/* One specialised copy of the kernel per row count, so edge tiles keep their accumulators in registers. */
#define KERN_CASE(R)                                                                                            \
    case R:                                                                                                     \
        kern_body(R, kc, a, aks, b, bks, c, ldc, ncols, accumulate, pf);                                        \
        break;

static __attribute__((noinline)) void kern(int mr, int kc, const float *restrict a, long aks,
                                           const float *restrict b, long bks, float *restrict c, long ldc, int ncols,
                                           int accumulate, const pf_t *pf)
{
    switch (mr) {
#if MR >= 16
        KERN_CASE(16)
#endif
#if MR >= 15
        KERN_CASE(15)
#endif
#if MR >= 14
        KERN_CASE(14)
#endif
#if MR >= 13
        KERN_CASE(13)
#endif
#if MR >= 12
        KERN_CASE(12)
#endif
#if MR >= 11
        KERN_CASE(11)
#endif
#if MR >= 10
        KERN_CASE(10)
#endif
#if MR >= 9
        KERN_CASE(9)
#endif
#if MR >= 8
        KERN_CASE(8)
#endif
#if MR >= 7
        KERN_CASE(7)
#endif
#if MR >= 6
        KERN_CASE(6)
#endif
#if MR >= 5
        KERN_CASE(5)
#endif
        KERN_CASE(4)
        KERN_CASE(3)
        KERN_CASE(2)
        KERN_CASE(1)
    default:
        break;
    }
}

/* ---------------------------------------------------------------------------------------------------------------
   Packing. A packed panel of width R (R = MR or NR) holds, for each k, R consecutive floats; lanes >= nvalid are 0.
   contig:    element (r, k) is src[k*ld + r]   (A transposed, B not transposed)
   transpose: element (r, k) is src[r*ld + k]   (A not transposed, B transposed)
   --------------------------------------------------------------------------------------------------------------- */
#if defined(MMSA_AVX512)

ALWAYS_INLINE __mmask16 lane_mask(int n)
{
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

ALWAYS_INLINE void pack_contig(const int R, float *restrict dst, const float *restrict src, long ld, int nvalid,
                               int kc)
{
    for (int k = 0; k < kc; k++) {
        for (int r0 = 0; r0 < R; r0 += 16) {
            const __m512 v = _mm512_maskz_loadu_ps(lane_mask(nvalid - r0), src + r0);
            _mm512_mask_storeu_ps(dst + r0, lane_mask(R - r0), v);
        }
        dst += R;
        src += ld;
    }
}

/* Transpose a 16 x 16 block held in r[0..15] (row i = r[i]) into o[0..15] (o[k] = column k). */
ALWAYS_INLINE void transpose16(__m512 r[16], __m512 o[16])
{
    __m512 t[16], u[16];
    for (int p = 0; p < 8; p++) {
        t[2 * p] = _mm512_unpacklo_ps(r[2 * p], r[2 * p + 1]);
        t[2 * p + 1] = _mm512_unpackhi_ps(r[2 * p], r[2 * p + 1]);
    }
    for (int q = 0; q < 4; q++) {
        u[4 * q + 0] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
        u[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xEE);
        u[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
        u[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xEE);
    }
    /* u[4q+m] lane l holds column 4l+m of rows 4q..4q+3; gather lane l of u[m], u[4+m], u[8+m], u[12+m]. */
    for (int m = 0; m < 4; m++) {
        const __m512 c0 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x44);
        const __m512 c1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xEE);
        const __m512 c2 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x44);
        const __m512 c3 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xEE);
        o[m] = _mm512_shuffle_f32x4(c0, c2, 0x88);
        o[4 + m] = _mm512_shuffle_f32x4(c0, c2, 0xDD);
        o[8 + m] = _mm512_shuffle_f32x4(c1, c3, 0x88);
        o[12 + m] = _mm512_shuffle_f32x4(c1, c3, 0xDD);
    }
}

ALWAYS_INLINE void pack_transpose(const int R, float *restrict dst, const float *restrict src, long ld, int nvalid,
                                  int kc)
{
    for (int r0 = 0; r0 < R; r0 += 16) {
        const int rv = nvalid - r0 < 16 ? (nvalid - r0 < 0 ? 0 : nvalid - r0) : 16;
        const __mmask16 sm = lane_mask(R - r0);
        int k0 = 0;
        for (; k0 + 16 <= kc; k0 += 16) {
            __m512 r[16], o[16];
            for (int i = 0; i < 16; i++)
                r[i] = i < rv ? _mm512_loadu_ps(src + (long)(r0 + i) * ld + k0) : _mm512_setzero_ps();
            transpose16(r, o);
            for (int k = 0; k < 16; k++) _mm512_mask_storeu_ps(dst + (long)(k0 + k) * R + r0, sm, o[k]);
        }
        if (k0 < kc) {
            /* Tail of fewer than 16 k: masked loads of the remaining columns, same transpose. */
            const __mmask16 km = lane_mask(kc - k0);
            __m512 r[16], o[16];
            for (int i = 0; i < 16; i++)
                r[i] = i < rv ? _mm512_maskz_loadu_ps(km, src + (long)(r0 + i) * ld + k0) : _mm512_setzero_ps();
            transpose16(r, o);
            for (int k = 0; k < kc - k0; k++) _mm512_mask_storeu_ps(dst + (long)(k0 + k) * R + r0, sm, o[k]);
        }
    }
}

#else

ALWAYS_INLINE void pack_contig(const int R, float *restrict dst, const float *restrict src, long ld, int nvalid,
                               int kc)
{
    if (nvalid == R) {
        for (int k = 0; k < kc; k++, dst += R, src += ld)
            for (int r = 0; r < R; r++) dst[r] = src[r];
    } else {
        for (int k = 0; k < kc; k++, dst += R, src += ld)
            for (int r = 0; r < R; r++) dst[r] = r < nvalid ? src[r] : 0.0f;
    }
}

ALWAYS_INLINE void pack_transpose(const int R, float *restrict dst, const float *restrict src, long ld, int nvalid,
                                  int kc)
{
    /* Blocks of 8 k keep the strided writes within a few cache lines. */
    int k0 = 0;
    for (; k0 + 8 <= kc; k0 += 8) {
        for (int r = 0; r < R; r++) {
            if (r < nvalid) {
                const float *s = src + (long)r * ld + k0;
                for (int k = 0; k < 8; k++) dst[(long)(k0 + k) * R + r] = s[k];
            } else {
                for (int k = 0; k < 8; k++) dst[(long)(k0 + k) * R + r] = 0.0f;
            }
        }
    }
    for (; k0 < kc; k0++)
        for (int r = 0; r < R; r++) dst[(long)k0 * R + r] = r < nvalid ? src[(long)r * ld + k0] : 0.0f;
}

#endif

/* Pack rows [0, mv) x k [0, kc) of op(A) starting at src into one MR-wide panel. */
static __attribute__((noinline)) void pack_a_panel(float *restrict dst, const float *restrict src, long lda, int tA,
                                                   int mv, int kc)
{
    if (tA)
        pack_contig(MR, dst, src, lda, mv, kc);
    else
        pack_transpose(MR, dst, src, lda, mv, kc);
}

/* Pack k [0, kc) x columns [0, nv) of op(B) starting at src into one NR-wide panel. */
static __attribute__((noinline)) void pack_b_panel(float *restrict dst, const float *restrict src, long ldb, int tB,
                                                   int nv, int kc)
{
    if (tB)
        pack_transpose(NR, dst, src, ldb, nv, kc);
    else
        pack_contig(NR, dst, src, ldb, nv, kc);
}

/* ---------------------------------------------------------------------------------------------------------------
   Driver for one thread's share: batch items [b0, b1), C rows [m0, m1), C columns [n0, n1).
   --------------------------------------------------------------------------------------------------------------- */
typedef struct {
    const float *A, *B;
    float *C;
    long sA, sB, sC;
    int M, N, K, tA, tB;
    int b0, b1, m0, m1, n0, n1;
    float *buf; /* packing memory for this share (job_buf_floats), NULL: use the no-buffer path */
} job_t;

static int imin(int a, int b) { return a < b ? a : b; }
static int round_up(int x, int m) { return (x + m - 1) / m * m; }

/* Length of the K blocks whose partial sums are added in order. A function of K alone (never of threads or
   path), and every block but the last has this length. Blocks of equal size (multiple of 16 when possible) avoid a
   tiny last block. */
static int kblock(int K)
{
    if (K <= 0) return 0;
    const int nkb = (K + MMSA_KC - 1) / MMSA_KC;
    return imin(round_up((K + nkb - 1) / nkb, 16), K);
}

int mmsa_sgemm_kblock(int K) { return kblock(K); }

/* No-buffer path used only if allocation fails: same block partial sums per element, so identical bits. */
static void run_job_nobuf(const job_t *j)
{
    const long lda = j->tA ? j->M : j->K, ldb = j->tB ? j->K : j->N, ldc = j->N;
    const int K = j->K, kb = kblock(K);
    const long ask = j->tA ? lda : 1, asi = j->tA ? 1 : lda, bsk = j->tB ? 1 : ldb, bsn = j->tB ? ldb : 1;
    for (int bi = j->b0; bi < j->b1; bi++) {
        const float *A = j->A + bi * j->sA, *B = j->B + bi * j->sB;
        float *C = j->C + bi * j->sC;
        for (int i = j->m0; i < j->m1; i++) {
            for (int n = j->n0; n < j->n1; n++) {
                const float *a = A + i * asi, *b = B + n * bsn;
                float c = 0.0f;
                for (int p = 0; p < K; p += kb) {
                    const int pe = imin(p + kb, K);
                    float part = 0.0f;
                    for (int k = p; k < pe; k++) part = SMADD(a[k * ask], b[k * bsk], part);
                    c = p == 0 ? part : c + part;
                }
                C[i * ldc + n] = c;
            }
        }
    }
}

/* Source rectangle (rows x cols floats, rows ld floats apart) of a block that will be packed soon. */
typedef struct {
    const char *base;
    long ld;
    int lpr, nrows;
} region_t;

typedef struct {
    region_t r[2];
    int nr, cur, row, col;
} pfcursor_t;

static void region_set(region_t *r, const float *p, long ld, int rows, int cols)
{
    const uintptr_t a = (uintptr_t)p & ~(uintptr_t)63;
    r->base = (const char *)a;
    r->ld = ld * (long)sizeof(float);
    r->lpr = (int)(((uintptr_t)(p + cols) - a + 63) / 64);
    r->nrows = rows;
}

static long pf_total(const pfcursor_t *c)
{
    long t = 0;
    for (int i = 0; i < c->nr; i++) t += (long)c->r[i].lpr * c->r[i].nrows;
    return t;
}

/* Hand out up to `want` lines of the current region (never spanning two regions). */
static void pf_take(pfcursor_t *c, int want, pf_t *out)
{
    out->n = 0;
    while (c->cur < c->nr && c->row >= c->r[c->cur].nrows) {
        c->cur++;
        c->row = 0;
        c->col = 0;
    }
    if (c->cur >= c->nr || want <= 0) return;
    const region_t *r = &c->r[c->cur];
    const long avail = (long)(r->nrows - c->row) * r->lpr - c->col;
    const int n = want < avail ? want : (int)avail;
    out->row = r->base + (long)c->row * r->ld;
    out->ld = r->ld;
    out->col = c->col;
    out->lpr = r->lpr;
    out->n = n;
    const long pos = (long)c->col + n;
    c->row += (int)(pos / r->lpr);
    c->col = (int)(pos % r->lpr);
}

static size_t round_up16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Block sizes of one share: K block, packed B columns, packed A rows. */
static void job_blocks(const job_t *j, int *kcmax, int *ncmax, int *mcmax)
{
    *kcmax = kblock(j->K);
    *ncmax = imin(round_up(MMSA_NC, NR), round_up(j->n1 - j->n0, NR));
    *mcmax = imin(round_up(MMSA_MC, MR), round_up(j->m1 - j->m0, MR));
}

static size_t job_buf_floats(const job_t *j)
{
    int kc, nc, mc;
    if (j->K <= 0 || j->m1 <= j->m0 || j->n1 <= j->n0 || j->b1 <= j->b0) return 0;
    job_blocks(j, &kc, &nc, &mc);
    return round_up16((size_t)kc * (size_t)nc) + round_up16((size_t)kc * (size_t)mc);
}

static void run_job(const job_t *j)
{
    const int M = j->M, N = j->N, K = j->K;
    const long lda = j->tA ? M : K, ldb = j->tB ? K : N, ldc = N;
    const int mlen = j->m1 - j->m0, nlen = j->n1 - j->n0;
    if (mlen <= 0 || nlen <= 0 || j->b1 <= j->b0) return;
    if (K <= 0) {
        for (int bi = j->b0; bi < j->b1; bi++)
            for (int i = j->m0; i < j->m1; i++)
                memset(j->C + bi * j->sC + (long)i * ldc + j->n0, 0, (size_t)nlen * sizeof(float));
        return;
    }
    int kcmax, ncmax, mcmax;
    job_blocks(j, &kcmax, &ncmax, &mcmax);
    if (!j->buf) {
        run_job_nobuf(j);
        return;
    }
    float *const bufB = j->buf, *const bufA = j->buf + round_up16((size_t)kcmax * (size_t)ncmax);
    /* C written once (one K block) and much bigger than the caches: let the kernel use streaming stores. */
    const int stream = (K <= kcmax && (double)M * N * sizeof(float) >= MMSA_STREAM_BYTES) ? 2 : 0;
    for (int bi = j->b0; bi < j->b1; bi++) {
        const float *A = j->A + bi * j->sA, *B = j->B + bi * j->sB;
        float *C = j->C + bi * j->sC;
        for (int jc = j->n0; jc < j->n1; jc += ncmax) {
            const int nc = imin(ncmax, j->n1 - jc);
            for (int pc = 0; pc < K; pc += kcmax) {
                const int kc = imin(kcmax, K - pc);
                for (int jr = 0; jr < nc; jr += NR) {
                    const int nv = imin(NR, nc - jr);
                    pack_b_panel(bufB + (long)jr * kc,
                                 j->tB ? B + (long)(jc + jr) * ldb + pc : B + (long)pc * ldb + jc + jr, ldb, j->tB,
                                 nv, kc);
                }
                for (int ic = j->m0; ic < j->m1; ic += mcmax) {
                    const int mc = imin(mcmax, j->m1 - ic);
                    for (int ir = 0; ir < mc; ir += MR) {
                        const int mv = imin(MR, mc - ir);
                        pack_a_panel(bufA + (long)ir * kc,
                                     j->tA ? A + (long)pc * lda + ic + ir : A + (long)(ic + ir) * lda + pc, lda,
                                     j->tA, mv, kc);
                    }
                    /* What gets packed after this step: the next A block, or the next B block and first A block. */
                    pfcursor_t cur = {.nr = 0};
                    int nic = ic + mc, npc = pc, njc = jc;
                    if (nic >= j->m1) {
                        nic = j->m0;
                        npc = pc + kc;
                        if (npc >= K) {
                            npc = 0;
                            njc = jc + nc;
                        }
                    }
                    if (njc < j->n1) {
                        const int nkc = imin(kcmax, K - npc), nnc = imin(ncmax, j->n1 - njc);
                        const int nmc = imin(mcmax, j->m1 - nic);
                        if (npc != pc || njc != jc) {
                            if (j->tB)
                                region_set(&cur.r[cur.nr++], B + (long)njc * ldb + npc, ldb, nnc, nkc);
                            else
                                region_set(&cur.r[cur.nr++], B + (long)npc * ldb + njc, ldb, nkc, nnc);
                        }
                        if (j->tA)
                            region_set(&cur.r[cur.nr++], A + (long)npc * lda + nic, lda, nkc, nmc);
                        else
                            region_set(&cur.r[cur.nr++], A + (long)nic * lda + npc, lda, nmc, nkc);
                    }
                    const long calls = (long)((mc + MR - 1) / MR) * ((nc + NR - 1) / NR);
                    const long quota = (pf_total(&cur) + calls - 1) / calls;
                    const int q = quota > kc ? kc : (int)quota;
                    float *const Cblk = C + (long)ic * ldc + jc;
                    if (!stream) prefetch_c_tile(Cblk, ldc, imin(MR, mc), imin(NR, nc));
                    /* jr outer: one packed B panel stays in L1 while the A panels stream from L2. */
                    for (int jr = 0; jr < nc; jr += NR) {
                        for (int ir = 0; ir < mc; ir += MR) {
                            int nir = ir + MR, njr = jr;
                            if (nir >= mc) {
                                nir = 0;
                                njr = jr + NR;
                            }
                            pf_t pf;
                            pf_take(&cur, q, &pf);
                            pf.cnext = njr < nc ? Cblk + (long)nir * ldc + njr : NULL;
                            pf.cnext_rows = imin(MR, mc - nir);
                            pf.cnext_cols = imin(NR, nc - njr);
                            kern(imin(MR, mc - ir), kc, bufA + (long)ir * kc, MR, bufB + (long)jr * kc, NR,
                                 Cblk + (long)ir * ldc + jr, ldc, imin(NR, nc - jr), (pc > 0) | stream, &pf);
                        }
                    }
                }
            }
        }
    }
#if defined(MMSA_AVX512)
    if (stream) _mm_sfence(); /* order the streaming stores before the caller or joining thread reads C */
#endif
}

/* ---------------------------------------------------------------------------------------------------------------
   Packing memory. Allocating and freeing it on every call makes glibc trim and re-grow its heap (fresh page faults
   each call, measured at up to 2x the run time of mid-size problems), so each calling OS thread keeps one block,
   reached through a pthread key (thread-specific, so no shared mutable state) and freed when that thread exits.
   Worker threads never allocate: the caller hands each its slice. Blocks larger than the cap are not kept.
   --------------------------------------------------------------------------------------------------------------- */
#ifndef MMSA_CACHE_MAX_BYTES
#define MMSA_CACHE_MAX_BYTES ((size_t)16 << 20)
#endif
#define BLOCK_HEADER 64 /* keeps the data 64-byte aligned; the first size_t holds the capacity in floats */

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_key_ok; /* written once inside pthread_once, read only after it */

static void cache_destroy(void *blk) { free(blk); }
static void cache_init(void) { cache_key_ok = pthread_key_create(&cache_key, cache_destroy) == 0; }

static char *block_alloc(size_t floats)
{
    const size_t bytes = BLOCK_HEADER + ((floats * sizeof(float) + 63) & ~(size_t)63);
    char *blk = aligned_alloc(64, bytes);
    if (blk) memcpy(blk, &floats, sizeof floats);
    return blk;
}

/* Returns memory for `floats` floats (NULL if none can be had); *to_free is set when it is not the cached block. */
static float *buffer_acquire(size_t floats, char **to_free)
{
    *to_free = NULL;
    if (floats * sizeof(float) <= MMSA_CACHE_MAX_BYTES) {
        pthread_once(&cache_once, cache_init);
        if (cache_key_ok) {
            char *old = pthread_getspecific(cache_key);
            size_t cap = 0;
            if (old) memcpy(&cap, old, sizeof cap);
            if (old && cap >= floats) return (float *)(old + BLOCK_HEADER);
            char *blk = block_alloc(floats);
            if (!blk) return NULL;
            if (pthread_setspecific(cache_key, blk) != 0) {
                *to_free = blk;
            } else {
                free(old);
            }
            return (float *)(blk + BLOCK_HEADER);
        }
    }
    char *blk = block_alloc(floats);
    *to_free = blk;
    return blk ? (float *)(blk + BLOCK_HEADER) : NULL;
}

void mmsa_sgemm_release_thread_cache(void)
{
    pthread_once(&cache_once, cache_init);
    if (!cache_key_ok) return;
    char *old = pthread_getspecific(cache_key);
    if (old && pthread_setspecific(cache_key, NULL) == 0) free(old);
}

/* Gives every job its slice of one buffer, or NULL slices (no-buffer path) if there is no memory. */
static char *assign_buffers(job_t *jobs, int T)
{
    size_t total = 0;
    for (int t = 0; t < T; t++) total += job_buf_floats(&jobs[t]);
    char *to_free = NULL;
    float *buf = total ? buffer_acquire(total, &to_free) : NULL;
    for (int t = 0; t < T; t++) {
        jobs[t].buf = buf;
        if (buf) buf += job_buf_floats(&jobs[t]);
    }
    return to_free;
}

static void *job_thread(void *arg)
{
    run_job((const job_t *)arg);
    return NULL;
}

/* ---------------------------------------------------------------------------------------------------------------
   Entry points.
   --------------------------------------------------------------------------------------------------------------- */

/* Largest share of len (as a fraction) when ceil(len/tile) tiles are dealt out to T threads in contiguous runs. */
static double share_frac(int len, int tile, int T)
{
    const int units = (len + tile - 1) / tile;
    if (units < T) T = units;
    int worst = 0;
    for (int t = 0; t < T; t++) {
        const int u0 = (int)((long)units * t / T), u1 = (int)((long)units * (t + 1) / T);
        const int hi = u1 * tile < len ? u1 * tile : len;
        if (hi - u0 * tile > worst) worst = hi - u0 * tile;
    }
    return (double)worst / len;
}

void mmsa_sgemm_ex(int batch, int M, int N, int K, int transA, int transB, const float *A, long strideA,
                   const float *B, long strideB, float *C, long strideC, int nthreads, double min_flops_for_threads)
{
    if (batch <= 0 || M <= 0 || N <= 0 || K < 0) return;
    job_t base = {A, B, C, strideA, strideB, strideC, M, N, K, transA != 0, transB != 0, 0, batch, 0, M, 0, N, NULL};
    /* All items would overwrite the same C: only the last one's result survives, so compute just that one (also
       keeps threads from racing on it). */
    if (strideC == 0 && batch > 1) base.b0 = batch - 1;

    int T = nthreads < 1 ? 1 : nthreads > MMSA_MAX_THREADS ? MMSA_MAX_THREADS : nthreads;
    const int nb = base.b1 - base.b0;
    const double flops = 2.0 * (double)M * (double)N * (double)K * (double)nb;
    if (flops < min_flops_for_threads || K == 0) T = 1;
    if (T == 1) {
        free(assign_buffers(&base, 1));
        run_job(&base);
        return;
    }

    /* Split the output only (never K); each thread packs its own panels. Pick the split whose largest share is
       smallest: whole batch items, rows (duplicates packing B in every thread) or column panels (duplicates
       packing A); near-ties go to batch items, then to the split duplicating the smaller operand. Rows are dealt
       out evenly, not in whole MR tiles: a short last tile costs little, and bits do not depend on tile positions.
       Column shares stay whole NR panels, since a partial panel costs as much as a full one. */
    job_t jobs[MMSA_MAX_THREADS];
    const int nt = (N + NR - 1) / NR;
    const double fb = share_frac(nb, 1, T), fm = share_frac(M, 1, T), fn = share_frac(N, NR, T);
    int mode; /* 0 batch items, 1 rows, 2 columns */
    if (fb <= fm + 0.02 && fb <= fn + 0.02)
        mode = 0;
    else if (fm + 0.02 < fn)
        mode = 1;
    else if (fn + 0.02 < fm)
        mode = 2;
    else
        mode = M >= N ? 1 : 2;
    const int units = mode == 0 ? nb : mode == 1 ? M : nt;
    if (T > units) T = units;
    if (T <= 1) {
        free(assign_buffers(&base, 1));
        run_job(&base);
        return;
    }
    for (int t = 0; t < T; t++) {
        job_t *jt = &jobs[t];
        *jt = base;
        const int u0 = (int)((long)units * t / T), u1 = (int)((long)units * (t + 1) / T);
        if (mode == 0) {
            jt->b0 = base.b0 + u0;
            jt->b1 = base.b0 + u1;
        } else if (mode == 1) {
            jt->m0 = u0;
            jt->m1 = u1;
        } else {
            jt->n0 = u0 * NR;
            jt->n1 = imin(u1 * NR, N);
        }
    }
    char *to_free = assign_buffers(jobs, T);
    pthread_t tid[MMSA_MAX_THREADS];
    int started[MMSA_MAX_THREADS];
    for (int t = 1; t < T; t++) started[t] = pthread_create(&tid[t], NULL, job_thread, &jobs[t]) == 0;
    run_job(&jobs[0]);
    for (int t = 1; t < T; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            run_job(&jobs[t]); /* could not start a thread: do its share here, same bits */
    }
    free(to_free);
}

void mmsa_sgemm(int batch, int M, int N, int K, int transA, int transB, const float *A, long strideA,
                const float *B, long strideB, float *C, long strideC, int nthreads)
{
    mmsa_sgemm_ex(batch, M, N, K, transA, transB, A, strideA, B, strideB, C, strideC, nthreads,
                  MMSA_THREAD_MIN_FLOPS);
}

const char *mmsa_sgemm_isa(void) { return MMSA_ISA; }
