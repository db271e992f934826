/**
 * Fixed-point logistic functions shared by the text model and its mixer, after Mahoney's lpaq1
 * (2007) and "Adaptive weighing of context models for lossless data compression" (2005):
 * probabilities are 12-bit integers (0..4095 for P(bit = 1)), log-odds ("stretch" domain) are
 * integers in -2047..2047 scaled by 256. Everything is integer arithmetic from a fixed 33-point
 * table, so that an encoder and a decoder on different machines compute identical predictions
 * (a `Math.exp` table could differ in its last bit between platforms and desynchronise them).
 */

const SQUASH_KNOTS = [
  1, 2, 3, 6, 10, 16, 27, 45, 73, 120, 194, 310, 488, 747, 1101, 1546, 2047, 2549, 2994, 3348, 3607, 3785,
  3901, 3975, 4022, 4050, 4068, 4079, 4085, 4089, 4092, 4093, 4094,
];

function squashSlow(d: number): number {
  if (d > 2047) return 4095;
  if (d < -2047) return 1;
  const w = d & 127;
  const i = (d >> 7) + 16;
  return (SQUASH_KNOTS[i]! * (128 - w) + SQUASH_KNOTS[i + 1]! * w + 64) >> 7;
}

/** squash(d) for d in -2047..2047 at index d + 2047: 1 / (1 + e^(-d/256)) scaled to 12 bits. */
export const SQUASH = new Int32Array(4095);
/** The inverse of squash for p in 0..4095: ln(p / (1 - p)) scaled by 256, clamped to ±2047. */
export const STRETCH = new Int32Array(4096);
/** Cost in bits of coding an event of probability p / 4096, for p in 0..4096 (0 is never used). */
export const COST_BITS = new Float64Array(4097);

for (let d = -2047; d <= 2047; d++) SQUASH[d + 2047] = squashSlow(d);
{
  let pi = 0;
  for (let x = -2047; x <= 2047; x++) {
    const v = squashSlow(x);
    for (let i = pi; i <= v; i++) STRETCH[i] = x;
    pi = v + 1;
  }
  for (let i = pi; i < 4096; i++) STRETCH[i] = 2047;
  COST_BITS[0] = 12;
  for (let p = 1; p <= 4096; p++) COST_BITS[p] = -Math.log2(p / 4096);
}

export function squash(d: number): number {
  if (d > 2047) return 4095;
  if (d < -2047) return 1;
  return SQUASH[d + 2047]!;
}
