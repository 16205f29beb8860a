/* sgemm.h: deterministic, reentrant single-precision batched GEMM for the mmsa native addon.
   Plain C11 + pthreads; vector width chosen at compile time (AVX-512, AVX2+FMA, or a generic fallback). */
#ifndef MMSA_SGEMM_H
#define MMSA_SGEMM_H

#ifdef __cplusplus
extern "C" {
#endif

/* C[b] = op(A[b]) * op(B[b]) for b = 0..batch-1, all row-major float32.
   op(A) is M x K: transA ? A stored K x M : A stored M x K.  op(B) is K x N: transB ? B stored N x K : B stored K x N.
   A[b] starts at A + b*strideA (strideA == 0 broadcasts one matrix over the batch), same for B; C[b] at C + b*strideC.
   C is overwritten (beta = 0). K == 0 gives zeros. M, N, batch may be 1.
   Uses up to nthreads threads (nthreads <= 1: the calling thread only).

   Determinism: K is cut into consecutive blocks of mmsa_sgemm_kblock(K) (the last may be shorter; the length
   depends on K only). For each block, p = sequential chain p = madd(op(A)[i][k], op(B)[k][j], p) over the
   block's k in increasing order from p = 0, where madd is a fused multiply-add when the build targets FMA
   hardware (AVX-512, AVX2+FMA, arm64) and a separately rounded multiply then add otherwise; then
   c = p (first block) or c = c + p. Threading and the code path taken never change this arithmetic, so
   results are bit-identical for any nthreads and any call of the same build.
   Reentrant: no shared mutable state (packing memory is per calling thread, see below); worker threads (if any)
   are created and joined inside the call. If memory or threads cannot be had, it falls back to slower paths that
   give the same bits.
   C must not overlap A, B or another C[b]; strideC == 0 with batch > 1 leaves the last item's result (only that
   item is computed). Nonsensical sizes (M, N or batch < 1, K < 0) make the call a no-op. */
void mmsa_sgemm(int batch, int M, int N, int K, int transA, int transB,
                const float *A, long strideA, const float *B, long strideB,
                float *C, long strideC, int nthreads);

/* Same as mmsa_sgemm, but threads are used only when 2*M*N*K*batch >= min_flops_for_threads
   (mmsa_sgemm uses a measured default). Exposed for tests that must exercise threading on small shapes. */
void mmsa_sgemm_ex(int batch, int M, int N, int K, int transA, int transB,
                   const float *A, long strideA, const float *B, long strideB,
                   float *C, long strideC, int nthreads, double min_flops_for_threads);

/* Packing memory is kept per calling OS thread between calls (at most 16 MiB per thread, freed automatically when
   the thread exits). This releases the calling thread's block early; the next call simply allocates again. */
void mmsa_sgemm_release_thread_cache(void);

/* Length of the K blocks described above (0 for K <= 0). */
int mmsa_sgemm_kblock(int K);

/* Instruction set the kernel was compiled for: "avx512", "avx2" or "generic" (plain C, auto-vectorised). */
const char *mmsa_sgemm_isa(void);

#ifdef __cplusplus
}
#endif

#endif
