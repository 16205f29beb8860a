/* Fused elementwise kernels of a BERT encoder layer (the parts around its GEMMs), forward and backward, for mmsa's
   fused layer (src/runtime/nn/bert/layer.ts). Row-major float32; rows are split over threads, and every value
   (column sums included) is computed in an order that does not depend on the thread count. Dropout masks (0 or
   1/(1-p), or NULL for none) live outside the wasm heap; everything else is in it.

   GELU is BERT's exact form 0.5 x (1 + erf(x / sqrt 2)) with a rational erf approximation (max abs error ~1e-7
   over all floats, clamped at |x| = 4 where erf is 1 in float32). */
#ifndef MMSA_BERT_H
#define MMSA_BERT_H

/* pre = x + bias (per column), act = gelu(pre); x N x C, bias C. */
void mmsa_bias_gelu(long N, long C, const float *x, const float *bias, float *pre, float *act, int nthreads);

/* dpre = dact * gelu'(pre), n elements. */
void mmsa_gelu_backward(long n, const float *dact, const float *pre, float *dpre, int nthreads);

/* r = (a + bias) * mask + residual (mask NULL: no dropout; residual NULL: r = a, bias and mask unused), then LayerNorm
   over each row of C:
   xhat = (r - mean) * rstd, rstd = 1 / sqrt(var + eps) (biased variance), y = xhat * gamma + beta. */
void mmsa_layernorm_forward(long N, long C, const float *a, const float *bias, const float *mask, const float *residual,
                            const float *gamma, const float *beta, double eps, float *y, float *xhat, float *rstd,
                            int nthreads);

/* Backward of mmsa_layernorm_forward for dy: dx (towards r, i.e. the residual), dmasked = dx * mask (towards a + bias,
   i.e. the dense layer's output), dgamma / dbeta / dbias the column sums of dy * xhat, dy and dmasked. */
void mmsa_layernorm_backward(long N, long C, const float *dy, const float *xhat, const float *rstd, const float *gamma,
                             const float *mask, float *dx, float *dmasked, float *dgamma, float *dbeta, float *dbias,
                             int nthreads);

/* Attention probabilities: rows of L scores s (B * heads * L rows), p = softmax(s * scale + addmask[b]) where
   addmask is B x L (one row per sample, over the keys); dropped = p * mask. */
void mmsa_softmax_forward(long B, long heads, long L, const float *s, const float *addmask, double scale,
                          const float *mask, float *p, float *dropped, int nthreads);

/* The same over rows of Tk scores whose query index is row % Tq (MulT's [B * heads * Tq, Tk]): addmask is Tq x Tk
   (one row per query: the shifted causal mask) or NULL. */
void mmsa_softmax_forward_rows(long rows, long Tq, long Tk, const float *s, const float *addmask, double scale,
                               const float *mask, float *p, float *dropped, int nthreads);

/* Backward of mmsa_softmax_forward towards s: dp = ddropped * mask, ds = p * (dp - sum(dp * p)) * scale. */
void mmsa_softmax_backward(long rows, long L, const float *p, const float *ddropped, const float *mask, double scale,
                           float *ds, int nthreads);

/* out = x * mask, n elements (the dropped probabilities again, for the backward). */
void mmsa_mul_mask(long n, const float *x, const float *mask, float *out, int nthreads);

/* The dense gradient of an embedding lookup: out (V x H) = 0, then out[ids[r]] += dy[r] for r in order (the sum of
   torch's embedding backward without sparse gradients). ids must lie in [0, V). */
void mmsa_embedding_grad(long n, long H, long V, const int *ids, const float *dy, float *out);

#endif
