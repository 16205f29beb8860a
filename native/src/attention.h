/* Fused attention-weight kernels: the row softmax of attention scores with an additive mask and a dropout mask, and
   its gradient, each one pass over the [rows, C] scores instead of the half-dozen tensor ops of the op-by-op path.
   Phase 7 (execute). */
#ifndef MMSA_ATTENTION_H
#define MMSA_ATTENTION_H

/* p[r, :] = softmax(x[r, :] + mask[r mod maskRows, :]) (mask may be NULL); y = p * drop when drop is given (y may
   then not be NULL). The max is subtracted first; a row whose entries are all -inf gives NaN, as torch. */
void mmsa_softmax_rows(long R, long C, const float *x, const float *mask, long maskRows, const float *drop, float *p, float *y);

/* Gradient of y = softmax(x) * drop with respect to x, given p = softmax(x) and dy: with g = dy * drop (or dy),
   dx[r, c] = p[r, c] * (g[r, c] - sum_k g[r, k] p[r, k]). */
void mmsa_softmax_rows_backward(long R, long C, const float *p, const float *dy, const float *drop, float *dx);

#endif
