/**
 * Exponential backoff with "equal jitter" (half the delay fixed, half random), after the AWS
 * Architecture Blog's "Exponential Backoff and Jitter": spreads retries from many senders without
 * ever retrying sooner than half the nominal delay.
 */
import type { RetryOptions } from './options.js';

export type RandomSource = () => number;

/** Nominal delay before retry number `attempt` (0-based): initial × factor^attempt, capped at max. */
export function nominalDelay(
  options: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor'>,
  attempt: number,
): number {
  return Math.min(options.maxDelayMs, options.initialDelayMs * options.factor ** attempt);
}

/** The jittered delay: uniformly in [nominal/2, nominal]. */
export function backoffDelay(
  options: Pick<RetryOptions, 'initialDelayMs' | 'maxDelayMs' | 'factor'>,
  attempt: number,
  random: RandomSource = Math.random,
): number {
  const nominal = nominalDelay(options, attempt);
  return nominal / 2 + random() * (nominal / 2);
}
