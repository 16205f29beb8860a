// Fused LSTM recurrence: one tf.customGrad op whose forward and backward are plain Float32Array loops, with the
// packed-length masking. Phase 7 (execute): replaces ~20 tiny tfjs kernels per time step with one (deps.md 1.9).

import * as tf from '@tensorflow/tfjs';

/**
 * Recurrence of one LSTM direction given the precomputed input projection.
 * @param xproj T x B x 4H: x_t W_ih^T + b_ih + b_hh (gate order i, f, g, o)
 * @param whh 4H x H (PyTorch layout)
 * @param lengths per-row true lengths; row b updates its state only at steps t < lengths[b]
 * @param reverse process t = T-1 .. 0 (the backward direction of a bidirectional LSTM)
 * @returns (T+1) x B x H: slots 0..T-1 are the outputs (0 where t >= len), slot T is h_n.
 */
export function lstmRecurrenceFused(xproj: tf.Tensor3D, whh: tf.Tensor2D, lengths: Int32Array, reverse: boolean): tf.Tensor3D {
  const [T, B, G] = xproj.shape;
  const H = whh.shape[1]!;
  if (G !== 4 * H || whh.shape[0] !== G) throw new Error(`lstmRecurrenceFused: xproj has ${G} gates for hidden size ${H}`);
  if (lengths.length !== B) throw new Error(`lstmRecurrenceFused: ${lengths.length} lengths for batch ${B}`);
  let maxLen = 0;
  for (let b = 0; b < B; b++) maxLen = Math.max(maxLen, Math.min(T, lengths[b]!));
  const order = new Int32Array(maxLen);
  for (let k = 0; k < maxLen; k++) order[k] = reverse ? maxLen - 1 - k : k;
  const op = tf.customGrad(((xp: tf.Tensor, w: tf.Tensor) => {
    const xs = xp.dataSync() as Float32Array;
    const W = w.dataSync() as Float32Array;
    const K = maxLen;
    const BH = B * H;
    const BG = B * G;
    const hBefore = new Float32Array(K * BH);
    const cBefore = new Float32Array(K * BH);
    const acts = new Float32Array(K * BG);
    const tanhC = new Float32Array(K * BH);
    const y = new Float32Array((T + 1) * BH);
    const h = new Float32Array(BH);
    const c = new Float32Array(BH);
    const gates = new Float32Array(G);
    for (let k = 0; k < K; k++) {
      const t = order[k]!;
      hBefore.set(h, k * BH);
      cBefore.set(c, k * BH);
      for (let b = 0; b < B; b++) {
        if (t >= lengths[b]!) continue;
        const xOff = (t * B + b) * G;
        const hOff = b * H;
        for (let j = 0; j < G; j++) {
          let s = xs[xOff + j]!;
          const wOff = j * H;
          for (let q = 0; q < H; q++) s += h[hOff + q]! * W[wOff + q]!;
          gates[j] = s;
        }
        const aOff = k * BG + b * G;
        for (let q = 0; q < H; q++) {
          const ig = sigm(gates[q]!);
          const fg = sigm(gates[H + q]!);
          const gg = Math.tanh(gates[2 * H + q]!);
          const og = sigm(gates[3 * H + q]!);
          acts[aOff + q] = ig;
          acts[aOff + H + q] = fg;
          acts[aOff + 2 * H + q] = gg;
          acts[aOff + 3 * H + q] = og;
          const cn = fg * c[hOff + q]! + ig * gg;
          const tc = Math.tanh(cn);
          c[hOff + q] = cn;
          tanhC[k * BH + hOff + q] = tc;
          const hn = og * tc;
          h[hOff + q] = hn;
          y[t * BH + hOff + q] = hn;
        }
      }
    }
    y.set(h, T * BH);
    const value = tf.tensor3d(y, [T + 1, B, H]);
    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      const dys = dy.dataSync() as Float32Array;
      const dh = dys.slice(T * BH, (T + 1) * BH);
      const dc = new Float32Array(BH);
      const dxp = new Float32Array(T * BG);
      const dW = new Float32Array(G * H);
      const da = new Float32Array(G);
      for (let k = K - 1; k >= 0; k--) {
        const t = order[k]!;
        for (let b = 0; b < B; b++) {
          if (t >= lengths[b]!) continue;
          const hOff = b * H;
          const aOff = k * BG + b * G;
          const sOff = k * BH + hOff;
          for (let q = 0; q < H; q++) {
            const dht = dh[hOff + q]! + dys[t * BH + hOff + q]!;
            const ig = acts[aOff + q]!;
            const fg = acts[aOff + H + q]!;
            const gg = acts[aOff + 2 * H + q]!;
            const og = acts[aOff + 3 * H + q]!;
            const tc = tanhC[sOff + q]!;
            const dcn = dc[hOff + q]! + dht * og * (1 - tc * tc);
            da[q] = dcn * gg * ig * (1 - ig);
            da[H + q] = dcn * cBefore[sOff + q]! * fg * (1 - fg);
            da[2 * H + q] = dcn * ig * (1 - gg * gg);
            da[3 * H + q] = dht * tc * og * (1 - og);
            dc[hOff + q] = dcn * fg;
          }
          dxp.set(da, (t * B + b) * G);
          for (let q = 0; q < H; q++) dh[hOff + q] = 0;
          for (let j = 0; j < G; j++) {
            const d = da[j]!;
            if (d === 0) continue;
            const wOff = j * H;
            for (let q = 0; q < H; q++) {
              dh[hOff + q] = dh[hOff + q]! + d * W[wOff + q]!;
              dW[wOff + q] = dW[wOff + q]! + d * hBefore[sOff + q]!;
            }
          }
        }
      }
      return [tf.tensor3d(dxp, [T, B, G]), tf.tensor2d(dW, [G, H])];
    };
    return { value, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad<tf.Tensor3D>>[0]);
  return op(xproj, whh) as tf.Tensor3D;
}

function sigm(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
