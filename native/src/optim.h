/* Fused torch.optim.Adam / AdamW step for one parameter tensor (float32, n elements), written to fresh outputs so the
   inputs stay untouched (tfjs tensors may share memory). Same order of operations as src/runtime/train/optim/adam.ts:
     g' = g + wd p (adam) | base = p (1 - lr wd) (adamw)
     m' = m + (g' - m)(1 - b1);  v' = b2 v + (1 - b2) g'^2
     p' = base - stepSize m' / (sqrt(v') / bc2sqrt + eps)
   The scalars arrive as doubles and are rounded to float32 once, as tfjs does with scalar operands; every operation
   rounds to float32 (no FMA contraction), so the result has the bits of the tensor-op path on wasm. mOut/vOut may be
   m/v themselves (in-place update of moments held outside the wasm heap).                                        */
#ifndef MMSA_OPTIM_H
#define MMSA_OPTIM_H

void mmsa_adam(long n, const float *p, const float *g, const float *m, const float *v, float *pOut, float *mOut, float *vOut,
               double lr, double b1, double b2, double eps, double weightDecay, double stepSize, double bc2Sqrt, int decoupled);


/* out[c] = sum over r of x[r * C + c] (r ascending): a sum over the leading axes without the transpose tfjs makes. */
void mmsa_sum_rows(long R, long C, const float *x, float *out);

/* dst = src (first) or dst += src: gradient accumulation into buffers outside the wasm heap. */
void mmsa_accumulate(long n, const float *src, float *dst, int first);

#endif
