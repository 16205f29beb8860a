/* sgemm_check.c: correctness/determinism test and benchmark for native/src/sgemm.c (`check` or `bench` mode).
   Build: cc -O3 -march=native -ffp-contract=fast -pthread native/src/sgemm.c native/test/sgemm_check.c -lm */
#define _GNU_SOURCE /* dlsym(RTLD_NEXT) for the pthread_create interposer */
#include "../src/sgemm.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Must match the library's choice of multiply-add (see sgemm.h): fused whenever the target has FMA. */
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__)) || defined(__FMA__) || defined(__FP_FAST_FMAF)
#define REF_MADD(a, b, c) fmaf((a), (b), (c))
#define REF_MADD_NAME "fma"
#else
#define REF_MADD(a, b, c) ((a) * (b) + (c))
#define REF_MADD_NAME "mul+add"
#endif

/* Fault injection: this executable's definitions of aligned_alloc and pthread_create take precedence over libc's
   for the library code linked into it, so the tests can force its fallback paths. */
static volatile int fail_alloc, fail_thread_create;

void *aligned_alloc(size_t alignment, size_t size)
{
    if (fail_alloc) return NULL;
    void *p = NULL;
    if (alignment < sizeof(void *)) alignment = sizeof(void *);
    return posix_memalign(&p, alignment, size ? size : 1) == 0 ? p : NULL;
}

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (fail_thread_create) return EAGAIN;
    static pthread_create_fn real; /* benign race: every thread stores the same value */
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "pthread_create");
        memcpy(&real, &sym, sizeof real);
    }
    return real ? real(t, attr, fn, arg) : EAGAIN;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int rng_int(int n) { return (int)(rng_next() % (uint64_t)n); }
static float rng_unit(void) { return (float)((rng_next() >> 40) * (1.0 / 16777216.0)); } /* [0, 1) */

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    int batch, M, N, K, tA, tB;
    long sA, sB, sC;
    int positive; /* inputs in [0,1) instead of [-1,1): worst case for accumulated rounding */
    int sample;   /* check only a sample of rows against the references (big shapes) */
} case_t;

static const uint32_t SENTINEL = 0x7FC0DEADu;

static float *alloc_f(size_t n)
{
    /* 64-byte aligned like a typical tensor allocator. */
    void *v = NULL;
    float *p = posix_memalign(&v, 64, (n ? n : 1) * sizeof(float)) == 0 ? v : NULL;
    if (!p) {
        fprintf(stderr, "out of memory (%zu floats)\n", n);
        exit(2);
    }
    return p;
}
static void fill_sentinel(float *c, size_t n)
{
    for (size_t i = 0; i < n; i++) memcpy(&c[i], &SENTINEL, 4);
}

/* Totals across the whole check run. */
static long n_cases, n_fail, n_elems_checked, n_exact_mismatch;
static double worst_rel;

static void describe(const case_t *c, char *buf, size_t n)
{
    snprintf(buf, n, "batch=%d M=%d N=%d K=%d %s%s sA=%ld sB=%ld sC=%ld%s", c->batch, c->M, c->N, c->K,
             c->tA ? "T" : "N", c->tB ? "T" : "N", c->sA, c->sB, c->sC, c->positive ? " positive" : "");
}

/* Runs one case with several thread settings; returns 0 if everything holds. */
static int run_case(const case_t *c)
{
    const int M = c->M, N = c->N, K = c->K, batch = c->batch;
    const size_t aE = (size_t)M * K, bE = (size_t)K * N, cE = (size_t)M * N;
    const size_t aT = (c->sA ? (size_t)(batch - 1) * c->sA : 0) + aE;
    const size_t bT = (c->sB ? (size_t)(batch - 1) * c->sB : 0) + bE;
    const size_t cT = (size_t)(batch - 1) * c->sC + cE;
    float *A = alloc_f(aT), *B = alloc_f(bT);
    for (size_t i = 0; i < aT; i++) A[i] = c->positive ? rng_unit() : 2.0f * rng_unit() - 1.0f;
    for (size_t i = 0; i < bT; i++) B[i] = c->positive ? rng_unit() : 2.0f * rng_unit() - 1.0f;

    /* (nthreads, forced threading) settings; the first is the baseline for bitwise comparison. */
    static const int set_threads[] = {1, 2, 3, 2, 3};
    static const int set_forced[] = {0, 0, 0, 1, 1};
    const int nset = 5;
    float *C0 = alloc_f(cT), *C1 = alloc_f(cT);
    char desc[256];
    describe(c, desc, sizeof desc);
    int fail = 0;

    for (int s = 0; s < nset && !fail; s++) {
        float *Cs = s == 0 ? C0 : C1;
        fill_sentinel(Cs, cT);
        if (set_forced[s])
            mmsa_sgemm_ex(batch, M, N, K, c->tA, c->tB, A, c->sA, B, c->sB, Cs, c->sC, set_threads[s], 0.0);
        else
            mmsa_sgemm(batch, M, N, K, c->tA, c->tB, A, c->sA, B, c->sB, Cs, c->sC, set_threads[s]);
        /* Every element of every C[b] written, nothing in the gaps between them touched. */
        for (size_t i = 0; i < cT && !fail; i++) {
            const size_t b = i / (size_t)c->sC, off = i % (size_t)c->sC;
            const int inside = b < (size_t)batch && off < cE;
            uint32_t bits;
            memcpy(&bits, &Cs[i], 4);
            if (inside && bits == SENTINEL) {
                printf("FAIL %s: threads=%d%s: C element %zu not written\n", desc, set_threads[s],
                       set_forced[s] ? " (forced)" : "", i);
                fail = 1;
            } else if (!inside && bits != SENTINEL) {
                printf("FAIL %s: threads=%d%s: wrote outside C at %zu\n", desc, set_threads[s],
                       set_forced[s] ? " (forced)" : "", i);
                fail = 1;
            }
        }
        if (s > 0 && !fail && memcmp(C0, C1, cT * sizeof(float)) != 0) {
            size_t i = 0;
            while (memcmp(&C0[i], &C1[i], 4) == 0) i++;
            printf("FAIL %s: threads=%d%s differs bitwise from threads=1 at %zu (%.9g vs %.9g)\n", desc,
                   set_threads[s], set_forced[s] ? " (forced)" : "", i, C0[i], C1[i]);
            fail = 1;
        }
    }

    /* References: double precision with an error bound, and the exact float arithmetic promised in sgemm.h. */
    const long lda = c->tA ? M : K, ldb = c->tB ? K : N;
    const int kb = mmsa_sgemm_kblock(K);
    float *arow = alloc_f((size_t)K), *bcol = alloc_f((size_t)K);
    for (int b = 0; b < batch && !fail; b++) {
        const float *Ab = A + (size_t)b * c->sA, *Bb = B + (size_t)b * c->sB;
        const float *Cb = C0 + (size_t)b * c->sC;
        const int rows_to_check = c->sample ? (M < 6 ? M : 6) : M;
        for (int r = 0; r < rows_to_check && !fail; r++) {
            const int i = c->sample ? (r == 0 ? 0 : r == 1 ? M - 1 : rng_int(M)) : r;
            for (int k = 0; k < K; k++) arow[k] = c->tA ? Ab[(size_t)k * lda + i] : Ab[(size_t)i * lda + k];
            for (int j = 0; j < N && !fail; j++) {
                for (int k = 0; k < K; k++) bcol[k] = c->tB ? Bb[(size_t)j * ldb + k] : Bb[(size_t)k * ldb + j];
                double sd = 0.0, sb = 0.0;
                float ex = 0.0f;
                for (int p = 0; p < K; p += kb) {
                    const int pe = p + kb < K ? p + kb : K;
                    float pp = 0.0f;
                    for (int k = p; k < pe; k++) {
                        pp = REF_MADD(arow[k], bcol[k], pp);
                        sd += (double)arow[k] * (double)bcol[k];
                        sb += fabs((double)arow[k] * (double)bcol[k]);
                    }
                    ex = p == 0 ? pp : ex + pp;
                }
                const float got = Cb[(size_t)i * N + j];
                const double err = fabs((double)got - sd), tol = 1e-5 * sb + 1e-30;
                n_elems_checked++;
                if (sb > 0 && err / sb > worst_rel) worst_rel = err / sb;
                if (!(err <= tol)) {
                    printf("FAIL %s: C[%d][%d][%d] = %.9g, reference %.9g, |err| %.3g > tol %.3g\n", desc, b, i, j,
                           got, sd, err, tol);
                    fail = 1;
                }
                if (memcmp(&got, &ex, 4) != 0) {
                    n_exact_mismatch++;
                    if (n_exact_mismatch <= 5)
                        printf("FAIL %s: C[%d][%d][%d] = %.9g differs from the documented float arithmetic %.9g\n",
                               desc, b, i, j, got, ex);
                    fail = 1;
                }
            }
        }
    }
    free(arow);
    free(bcol);
    free(A);
    free(B);
    free(C0);
    free(C1);
    n_cases++;
    if (fail) n_fail++;
    return fail;
}

/* Each caller thread runs its own list of problems and compares with results computed beforehand, alone. */
typedef struct {
    int id, nprob, ok;
    case_t prob[8];
    float *A[8], *B[8], *C[8], *expect[8];
} conc_t;

static void conc_alloc(case_t *c, float **A, float **B, float **C, float **E)
{
    const size_t aE = (size_t)c->M * c->K, bE = (size_t)c->K * c->N, cE = (size_t)c->M * c->N;
    c->sA = (long)aE;
    c->sB = (long)bE;
    c->sC = (long)cE;
    *A = alloc_f(aE * c->batch);
    *B = alloc_f(bE * c->batch);
    *C = alloc_f(cE * c->batch);
    *E = alloc_f(cE * c->batch);
    for (size_t i = 0; i < aE * c->batch; i++) (*A)[i] = 2.0f * rng_unit() - 1.0f;
    for (size_t i = 0; i < bE * c->batch; i++) (*B)[i] = 2.0f * rng_unit() - 1.0f;
}

static void *conc_worker(void *arg)
{
    conc_t *w = arg;
    w->ok = 1;
    for (int rep = 0; rep < 6; rep++)
        for (int p = 0; p < w->nprob; p++) {
            const case_t *c = &w->prob[p];
            const size_t cE = (size_t)c->M * c->N * c->batch;
            memset(w->C[p], 0xFF, cE * sizeof(float));
            mmsa_sgemm_ex(c->batch, c->M, c->N, c->K, c->tA, c->tB, w->A[p], c->sA, w->B[p], c->sB, w->C[p], c->sC,
                          1 + (rep + p + w->id) % 3, (rep & 1) ? 0.0 : 2e7);
            if (memcmp(w->C[p], w->expect[p], cE * sizeof(float)) != 0) w->ok = 0;
        }
    return NULL;
}

static int concurrent_check(int quick)
{
    enum { NW = 4 };
    conc_t w[NW];
    for (int t = 0; t < NW; t++) {
        w[t].id = t;
        w[t].nprob = quick ? 4 : 8;
        for (int p = 0; p < w[t].nprob; p++) {
            case_t c = {1 + rng_int(3), 1 + rng_int(300), 1 + rng_int(300), 1 + rng_int(700), rng_int(2), rng_int(2),
                        0, 0, 0, 0, 0};
            conc_alloc(&c, &w[t].A[p], &w[t].B[p], &w[t].C[p], &w[t].expect[p]);
            w[t].prob[p] = c;
            mmsa_sgemm(c.batch, c.M, c.N, c.K, c.tA, c.tB, w[t].A[p], c.sA, w[t].B[p], c.sB, w[t].expect[p], c.sC, 1);
        }
    }
    pthread_t tid[NW];
    int started[NW];
    for (int t = 0; t < NW; t++) started[t] = pthread_create(&tid[t], NULL, conc_worker, &w[t]) == 0;
    int ok = 1;
    for (int t = 0; t < NW; t++) {
        if (started[t])
            pthread_join(tid[t], NULL);
        else
            conc_worker(&w[t]);
        ok &= w[t].ok;
        for (int p = 0; p < w[t].nprob; p++) {
            free(w[t].A[p]);
            free(w[t].B[p]);
            free(w[t].C[p]);
            free(w[t].expect[p]);
        }
    }
    printf("concurrent callers (%d OS threads x %d problems x 6 calls): %s\n", NW, w[0].nprob,
           ok ? "ok, bit-identical" : "FAILED: results differ");
    return !ok;
}

static long pad_or(long base, int pad) { return pad ? base + 1 + rng_int(37) : base; }

static case_t make_case(int batch, int M, int N, int K, int tA, int tB, int broadcastA, int broadcastB, int padC)
{
    case_t c = {batch, M, N, K, tA, tB, 0, 0, 0, 0, 0};
    c.sA = broadcastA ? 0 : pad_or((long)M * K, rng_int(3) == 0);
    c.sB = broadcastB ? 0 : pad_or((long)K * N, rng_int(3) == 0);
    c.sC = pad_or((long)M * N, padC);
    return c;
}

static int do_check(int quick)
{
    static const int edge[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 14, 15, 16, 17, 28, 31, 32, 33, 47, 48, 49, 63, 64, 65, 127, 128, 129};
    static const int kedge[] = {0, 1, 2, 3, 7, 15, 16, 17, 63, 64, 65, 129, 255, 256, 257, 383, 384, 385, 767, 769, 1000};
    const int ne = (int)(sizeof edge / sizeof edge[0]), nk = (int)(sizeof kedge / sizeof kedge[0]);
    const double t0 = now_sec();
    printf("isa=%s madd=%s kblock(768)=%d kblock(3200)=%d kblock(140481)=%d\n", mmsa_sgemm_isa(), REF_MADD_NAME,
           mmsa_sgemm_kblock(768), mmsa_sgemm_kblock(3200), mmsa_sgemm_kblock(140481));

    /* 1. Every transpose x a grid of edge sizes. */
    for (int t = 0; t < 4; t++) {
        static const int g[] = {1, 3, 17, 63, 65, 127, 129};
        for (int a = 0; a < 7; a++)
            for (int b = 0; b < 7; b++) {
                const int K = g[(a * 3 + b * 5 + t) % 7];
                case_t c = make_case(1, g[a], g[b], K, t & 1, t >> 1, 0, 0, 0);
                run_case(&c);
            }
    }
    /* 2. Random shapes, transposes, batches, broadcast and padded strides. */
    const int nrand = quick ? 150 : 500;
    for (int r = 0; r < nrand; r++) {
        const int batch = rng_int(3) == 0 ? 2 + rng_int(5) : 1;
        int M = edge[rng_int(ne)], N = edge[rng_int(ne)], K = kedge[rng_int(nk)];
        if (rng_int(8) == 0) M = 130 + rng_int(600); /* crosses the MC block */
        if (rng_int(10) == 0) N = 1000 + rng_int(300); /* crosses the NC block */
        if ((double)M * N * K * batch > 1.5e8) K = 1 + rng_int(64);
        case_t c = make_case(batch, M, N, K, rng_int(2), rng_int(2), batch > 1 && rng_int(3) == 0,
                             batch > 1 && rng_int(3) == 0, rng_int(3) == 0);
        run_case(&c);
    }
    /* 3. Degenerate shapes and huge K. */
    {
        static const int dims[][3] = {{1, 1, 1},   {1, 1, 140481}, {1, 1000, 17}, {1000, 1, 17}, {1, 777, 1000},
                                      {777, 1, 1000}, {3, 5, 140481}, {17, 33, 140481}, {2, 70, 1}, {70, 2, 1}};
        for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
            for (int t = 0; t < 4; t++) {
                case_t c = make_case(1, dims[d][0], dims[d][1], dims[d][2], t & 1, t >> 1, 0, 0, 0);
                run_case(&c);
            }
        for (int t = 0; t < 4; t++) { /* all-positive inputs, worst case for rounding growth */
            case_t c = make_case(1, 5, 7, 140481, t & 1, t >> 1, 0, 0, 0);
            c.positive = 1;
            run_case(&c);
        }
        case_t c1 = make_case(1, 64, 64, 140481, 0, 0, 0, 0, 0);
        run_case(&c1);
        c1.positive = 1;
        run_case(&c1);
        case_t c2 = make_case(1, 140481, 64, 64, 1, 0, 0, 0, 0);
        c2.sample = 1;
        run_case(&c2);
        case_t c3 = make_case(1, 64, 140481, 64, 0, 1, 0, 0, 0);
        run_case(&c3);
        case_t c4 = make_case(16, 50, 50, 64, 0, 1, 0, 0, 0);
        run_case(&c4);
        case_t c5 = make_case(16, 50, 50, 64, 0, 1, 1, 0, 1); /* broadcast A over the batch */
        run_case(&c5);
        case_t c6 = make_case(5, 33, 47, 129, 1, 1, 0, 1, 1); /* broadcast B */
        run_case(&c6);
    }
    /* strideC == 0 over a batch: the last item's result, whatever the threads. */
    {
        const int M = 37, N = 70, K = 300, batch = 3;
        float *A = alloc_f((size_t)batch * M * K), *B = alloc_f((size_t)batch * K * N);
        float *C1 = alloc_f((size_t)M * N), *C2 = alloc_f((size_t)M * N);
        for (long i = 0; i < (long)batch * M * K; i++) A[i] = 2.0f * rng_unit() - 1.0f;
        for (long i = 0; i < (long)batch * K * N; i++) B[i] = 2.0f * rng_unit() - 1.0f;
        mmsa_sgemm(1, M, N, K, 0, 1, A + (long)2 * M * K, 0, B + (long)2 * K * N, 0, C1, 0, 1);
        int ok = 1;
        for (int t = 1; t <= 3; t++) {
            mmsa_sgemm_ex(batch, M, N, K, 0, 1, A, (long)M * K, B, (long)K * N, C2, 0, t, 0.0);
            ok &= memcmp(C1, C2, sizeof(float) * M * N) == 0;
        }
        printf("strideC == 0 over a batch: %s\n", ok ? "ok (last item)" : "FAILED");
        n_cases++;
        if (!ok) n_fail++;
        free(A);
        free(B);
        free(C1);
        free(C2);
    }
    /* 4. Fallback paths: no packing buffer (allocation fails), no worker threads (pthread_create fails). */
    for (int pass = 0; pass < 2; pass++) {
        const long fails_before = n_fail;
        mmsa_sgemm_release_thread_cache(); /* so that the library has to allocate (and fail) again */
        if (pass == 0) fail_alloc = 1;
        else fail_thread_create = 1;
        for (int r = 0; r < (quick ? 25 : 60); r++) {
            const int batch = rng_int(3) == 0 ? 2 + rng_int(3) : 1;
            int M = edge[rng_int(ne)], N = edge[rng_int(ne)], K = kedge[rng_int(nk)];
            if (r % 10 == 0) { M = 200 + rng_int(200); N = 100 + rng_int(100); K = 300 + rng_int(300); }
            case_t c = make_case(batch, M, N, K, rng_int(2), rng_int(2), batch > 1 && rng_int(3) == 0, 0, rng_int(2));
            run_case(&c);
        }
        fail_alloc = 0;
        fail_thread_create = 0;
        printf("%s fallback: %s\n", pass == 0 ? "no-buffer" : "no-thread", n_fail == fails_before ? "ok" : "FAILED");
    }
    /* 5. Reentrancy: several OS threads calling concurrently (each also using worker threads). */
    if (concurrent_check(quick)) n_fail++;
    /* 6. The benchmark shapes (rows sampled against the references; all elements compared across threads). */
    {
        static const int big[][6] = {{1, 3200, 512, 768, 0, 1}, {1, 512, 768, 3200, 1, 0}, {1, 3200, 768, 512, 0, 0},
                                     {1, 512, 128, 3200, 1, 0}, {1, 64, 512, 128, 0, 0}, {1, 3200, 128, 512, 0, 0}};
        for (size_t d = 0; d < sizeof big / sizeof big[0]; d++) {
            case_t c = make_case(big[d][0], big[d][1], big[d][2], big[d][3], big[d][4], big[d][5], 0, 0, 0);
            c.sample = quick || (double)c.M * c.N * c.K > 1e8;
            run_case(&c);
        }
    }
    printf("check: %ld cases, %ld failed; %ld elements vs references, %ld differ from the documented float "
           "arithmetic; worst |err|/sum|a*b| = %.3g (limit 1e-5); %.1f s\n",
           n_cases, n_fail, n_elems_checked, n_exact_mismatch, worst_rel, now_sec() - t0);
    return n_fail ? 1 : 0;
}

/* ----------------------------------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int batch, M, N, K, tA, tB;
} shape_t;

static void bench_shape(const shape_t *s, int threads, double budget)
{
    const size_t aE = (size_t)s->M * s->K, bE = (size_t)s->K * s->N, cE = (size_t)s->M * s->N;
    float *A = alloc_f(aE * s->batch), *B = alloc_f(bE * s->batch), *C = alloc_f(cE * s->batch);
    for (size_t i = 0; i < aE * s->batch; i++) A[i] = 2.0f * rng_unit() - 1.0f;
    for (size_t i = 0; i < bE * s->batch; i++) B[i] = 2.0f * rng_unit() - 1.0f;
    const double flops = 2.0 * s->M * (double)s->N * s->K * s->batch;
    mmsa_sgemm(s->batch, s->M, s->N, s->K, s->tA, s->tB, A, (long)aE, B, (long)bE, C, (long)cE, threads);
    double best = 1e30, total = 0;
    int reps = 0;
    while ((total < budget || reps < 5) && reps < 20000) {
        const double t0 = now_sec();
        mmsa_sgemm(s->batch, s->M, s->N, s->K, s->tA, s->tB, A, (long)aE, B, (long)bE, C, (long)cE, threads);
        const double dt = now_sec() - t0;
        total += dt;
        reps++;
        if (dt < best) best = dt;
    }
    printf("%-34s threads=%d  %9.3f ms  %7.1f GFLOP/s  (%d reps)\n", s->name, threads, best * 1e3,
           flops / best * 1e-9, reps);
    fflush(stdout);
    free(A);
    free(B);
    free(C);
}

static int do_bench(const char *filter, double budget)
{
    static const shape_t shapes[] = {
        {"NT 3200x768 * (512x768)^T", 1, 3200, 512, 768, 0, 1},
        {"TN (3200x512)^T * 3200x768", 1, 512, 768, 3200, 1, 0},
        {"NN 3200x512 * 512x768", 1, 3200, 768, 512, 0, 0},
        {"TN (3200x512)^T * 3200x128", 1, 512, 128, 3200, 1, 0},
        {"NN 3200x512 * 512x128", 1, 3200, 128, 512, 0, 0},
        {"NN 64x128 * 128x512", 1, 64, 512, 128, 0, 0},
        {"NN 64x140481 * 140481x64", 1, 64, 64, 140481, 0, 0},
        {"TN (64x140481)^T * 64x64", 1, 140481, 64, 64, 1, 0},
        {"NT 64x64 * (140481x64)^T", 1, 64, 140481, 64, 0, 1},
        {"NT batch16 50x64 * (50x64)^T", 16, 50, 50, 64, 0, 1},
    };
    printf("isa=%s\n", mmsa_sgemm_isa());
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (filter && !strstr(shapes[i].name, filter)) continue;
        bench_shape(&shapes[i], 1, budget);
        bench_shape(&shapes[i], 2, budget);
    }
    return 0;
}

/* Where do two threads start to pay off? Square problems, 1 thread vs 2 threads forced. */
static int do_bench_threads(void)
{
    static const int sizes[] = {32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 384, 512};
    printf("isa=%s; n x n x n, best of many calls\n", mmsa_sgemm_isa());
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const int n = sizes[i];
        float *A = alloc_f((size_t)n * n), *B = alloc_f((size_t)n * n), *C = alloc_f((size_t)n * n);
        for (int k = 0; k < n * n; k++) A[k] = B[k] = 0.5f;
        double best[2] = {1e30, 1e30};
        for (int round = 0; round < 5; round++)
            for (int t = 0; t < 2; t++) {
                const double t0 = now_sec();
                int reps = 0;
                while (now_sec() - t0 < 0.05) {
                    const double s0 = now_sec();
                    mmsa_sgemm_ex(1, n, n, n, 0, 0, A, 0, B, 0, C, 0, t + 1, 0.0);
                    const double dt = now_sec() - s0;
                    if (dt < best[t]) best[t] = dt;
                    reps++;
                }
            }
        printf("n=%4d  flops=%9.3g  1 thread %8.1f us  2 threads %8.1f us  speedup %.2f\n", n, 2.0 * n * n * n,
               best[0] * 1e6, best[1] * 1e6, best[0] / best[1]);
        free(A);
        free(B);
        free(C);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "check") == 0) return do_check(argc >= 3 && strcmp(argv[2], "quick") == 0);
    if (argc >= 2 && strcmp(argv[1], "bench") == 0)
        return do_bench(argc >= 3 ? argv[2] : NULL, argc >= 4 ? atof(argv[3]) : 1.0);
    if (argc >= 2 && strcmp(argv[1], "bench-threads") == 0) return do_bench_threads();
    fprintf(stderr, "usage: %s check [quick] | bench [name-filter [seconds-per-shape]] | bench-threads\n", argv[0]);
    return 2;
}
