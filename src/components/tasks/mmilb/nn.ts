// MMIM's entropy estimate (models/singleTask/MMIM.py, MMILB.forward): log-determinant with its gradient, the biased
// covariance of a batch of rows and H = 0.25 (logdet cov(pos) + logdet cov(neg)). Phase 7 runs it.

import * as tf from '@tensorflow/tfjs';

/** LU factorisation with partial pivoting of a row-major n x n matrix in float64; returns log|det|, det's sign, inverse. */
function luInverse(a: Float64Array, n: number): { logAbsDet: number; sign: number; inv: Float64Array | null } {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  let logAbsDet = 0;
  let sign = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[p * n + c]!)) p = r;
    const piv = m[p * n + c]!;
    if (piv === 0) return { logAbsDet: -Infinity, sign: 0, inv: null };
    if (p !== c) {
      sign = -sign;
      for (let k = 0; k < n; k++) {
        [m[c * n + k], m[p * n + k]] = [m[p * n + k]!, m[c * n + k]!];
        [inv[c * n + k], inv[p * n + k]] = [inv[p * n + k]!, inv[c * n + k]!];
      }
    }
    if (piv < 0) sign = -sign;
    logAbsDet += Math.log(Math.abs(piv));
    // Gauss-Jordan: the inverse falls out of the same elimination.
    for (let k = 0; k < n; k++) {
      m[c * n + k] = m[c * n + k]! / piv;
      inv[c * n + k] = inv[c * n + k]! / piv;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c]!;
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k] = m[r * n + k]! - f * m[c * n + k]!;
        inv[r * n + k] = inv[r * n + k]! - f * inv[c * n + k]!;
      }
    }
  }
  return { logAbsDet, sign, inv };
}

/**
 * torch.logdet of a square matrix: log det, NaN when det < 0, -Infinity when singular; gradient dy * inv(S)^T.
 * The matrices MMIM feeds it are tiny (y_size / 4 square), so the factorisation runs in float64 on the host.
 */
export const logdet = tf.customGrad(((s: tf.Tensor, save: tf.GradSaveFunc) => {
  const x = s as tf.Tensor2D;
  const n = x.shape[0];
  const { logAbsDet, sign, inv } = luInverse(Float64Array.from(x.dataSync()), n);
  const value = sign > 0 ? logAbsDet : sign === 0 ? -Infinity : NaN;
  const invT = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) invT[i * n + j] = inv ? inv[j * n + i]! : NaN;
  save([tf.tensor2d(invT, [n, n])]);
  return {
    value: tf.scalar(value),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]!),
  };
}) as unknown as Parameters<typeof tf.customGrad<tf.Scalar>>[0]) as (s: tf.Tensor2D) => tf.Scalar;

/** Biased covariance of rows (N x d): mean over rows of (x_i - mu)(x_i - mu)^T, as MMSA's bmm of centred rows. */
export function covariance(rows: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const c = tf.sub(rows, tf.mean(rows, 0, true)) as tf.Tensor2D;
    return tf.div(tf.matMul(c, c, true, false), rows.shape[0]) as tf.Tensor2D;
  });
}

/** H = 0.25 (logdet cov(pos) + logdet cov(neg)) over this batch's rows stacked under the remembered ones. */
export function entropyH(pos: tf.Tensor2D, neg: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mul(0.25, tf.add(logdet(covariance(pos)), logdet(covariance(neg)))) as tf.Scalar);
}

/** Rows of x whose label is > 0 (pos) and < 0 (neg); zero labels fall in neither, as in MMSA. */
export function splitBySign(x: tf.Tensor2D, labels: Float32Array): { pos: tf.Tensor2D; neg: tf.Tensor2D } {
  const p: number[] = [];
  const q: number[] = [];
  labels.forEach((v, i) => {
    if (v > 0) p.push(i);
    else if (v < 0) q.push(i);
  });
  const take = (ix: number[]) => (ix.length ? tf.gather(x, tf.tensor1d(ix, 'int32')) : tf.zeros([0, x.shape[1]])) as tf.Tensor2D;
  return { pos: take(p), neg: take(q) };
}
