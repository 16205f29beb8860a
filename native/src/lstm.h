/* One direction of an LSTM recurrence over a precomputed input projection (mmsa's fused LSTM, native path).
   Layouts (row-major float32, gate order i, f, g, o as PyTorch, G = 4H):
     xs     B x T x G   x_t W_ih^T + b_ih + b_hh
     W      G x H       W_hh (PyTorch layout)
     lens   B           row b updates its state only at steps t < lens[b] (lens[b] <= T)
     order  K           the time index of the k-th processed step (reverse direction: descending)
     y      B x (T+1) x H  outputs, caller zero-fills; slot T receives h_n
   Saved activations (all NULL for inference, else all non-NULL, caller zero-fills):
     acts B x T x G (after nonlinearity), tanhC / cPrev / hPrev B x T x H. */
#ifndef MMSA_LSTM_H
#define MMSA_LSTM_H

int mmsa_lstm_forward(int B, int T, int H, int K, const int *order, const int *lens, const float *xs, const float *W,
                      float *y, float *acts, float *tanhC, float *cPrev, float *hPrev, int nthreads);

/* dys: B x (T+1) x H gradient of y. Writes dxp (B x T x G, caller zero-fills): the gradient of xs, which is also the
   gate gradient whose product with hPrev gives dW_hh. Returns 0, or -1 when out of memory. */
int mmsa_lstm_backward(int B, int T, int H, int K, const int *order, const int *lens, const float *dys, const float *acts,
                       const float *tanhC, const float *cPrev, const float *W, float *dxp, int nthreads);

#endif
