/** The shapes shared by all detectors. */

export const HARM_DETECTORS = [
  'violence',
  'self-harm',
  'weapons',
  'hacking',
  'deception',
  'consent',
] as const;
export const PRIVACY_DETECTORS = [
  'pii-email',
  'pii-phone',
  'pii-card',
  'pii-national-id',
  'pii-iban',
  'secrets',
] as const;
export const DETECTOR_IDS = [...HARM_DETECTORS, ...PRIVACY_DETECTORS] as const;

export type HarmDetectorId = (typeof HARM_DETECTORS)[number];
export type PrivacyDetectorId = (typeof PRIVACY_DETECTORS)[number];
export type DetectorId = (typeof DETECTOR_IDS)[number];

export function isDetectorId(value: unknown): value is DetectorId {
  return typeof value === 'string' && (DETECTOR_IDS as readonly string[]).includes(value);
}

/** One finding. `span` is a half-open range of UTF-16 offsets into the original text. */
export interface Hit {
  readonly detector: DetectorId;
  readonly span: [number, number];
  /** Confidence that the span is what the detector looks for, 0–1. */
  readonly score: number;
  readonly why: string;
}

export type Role = 'user' | 'assistant' | 'system';

/** What a detector may know about the message besides its text. */
export interface DetectorContext {
  readonly role?: Role;
}
