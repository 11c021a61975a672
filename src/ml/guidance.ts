import type { CleanEstimateHook } from './prediction.js';
import { sigmoid, type UserFactors, type Verifier } from './verifier.js';

/**
 * Verifier guidance: at every step the clean estimate moves up the verifier's log P(like | user, e).
 * The verifier is logistic in the raw embedding e = x * std + mean, so in standardised space its logit is
 * `z = w . x + c` with `w = std * (Ma theta + mb)` and `c = (Ma theta + mb) . mean + b`, and the gradient of
 * log sigmoid(z) is `(1 - sigmoid(z)) w`. The move is `scale * (1 - sigmoid(z)) * w / rms(w)`: `scale` is
 * the largest move per step in standardised units (RMS over dimensions); it fades as the verifier becomes
 * sure, and the clamp into the data's range bounds it. Same as training/rebeca/sampling.py.
 */
export function verifierGuidanceHook(
  verifier: Verifier,
  user: UserFactors,
  standardization: { mean: Float32Array; std: Float32Array },
  scale: number,
): CleanEstimateHook {
  const { embeddingDim: D, rank: d } = verifier;
  const { itemProjection: ma, itemBias: mb } = verifier.params;
  const w = new Float64Array(D);
  let c = user.bias;
  let squares = 0;
  for (let i = 0; i < D; i += 1) {
    let g = mb[i] as number;
    for (let j = 0; j < d; j += 1) g += (ma[i * d + j] as number) * (user.vector[j] as number);
    c += g * (standardization.mean[i] as number);
    w[i] = g * (standardization.std[i] as number);
    squares += (w[i] as number) ** 2;
  }
  const rms = Math.max(Math.sqrt(squares / D), 1e-12);
  return (x0) => {
    if (scale === 0) return;
    for (let row = 0; row * D < x0.length; row += 1) {
      const base = row * D;
      let z = c;
      for (let i = 0; i < D; i += 1) z += (w[i] as number) * (x0[base + i] as number);
      const step = (scale * (1 - sigmoid(z))) / rms;
      for (let i = 0; i < D; i += 1) x0[base + i] = (x0[base + i] as number) + step * (w[i] as number);
    }
  };
}
