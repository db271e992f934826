/** The detector registry: every detector id, what it looks for, and one entry point that runs them. */
import { LIGHT, normalise } from '../normalise.js';
import { detectHarm } from './harm.js';
import { detectorVocabulary } from './lexicon.js';
import { detectPii } from './pii.js';
import { detectSecrets } from './secrets.js';
import {
  type DetectorContext,
  type DetectorId,
  HARM_DETECTORS,
  type HarmDetectorId,
  type Hit,
  PRIVACY_DETECTORS,
  type PrivacyDetectorId,
} from './types.js';

export interface DetectorInfo {
  readonly id: DetectorId;
  readonly description: string;
  /** Hits quote personal data or credentials: redact excerpts before storing or logging them. */
  readonly sensitive: boolean;
}

export const DETECTORS: readonly DetectorInfo[] = [
  { id: 'violence', description: 'harm verbs aimed at a person or animal', sensitive: false },
  { id: 'self-harm', description: 'first-person suicidal intent or methods', sensitive: false },
  {
    id: 'weapons',
    description: 'making or illegally obtaining weapons, explosives, chemical or biological agents',
    sensitive: false,
  },
  {
    id: 'hacking',
    description: "intrusion into others' accounts or devices, malware, credential theft",
    sensitive: false,
  },
  {
    id: 'deception',
    description: 'fake reviews and documents, impersonation, phishing, fraud',
    sensitive: false,
  },
  {
    id: 'consent',
    description: 'non-consensual intimate imagery, covert tracking or recording, stalking',
    sensitive: false,
  },
  { id: 'pii-email', description: 'email addresses', sensitive: true },
  {
    id: 'pii-phone',
    description: 'phone numbers (international and common national formats)',
    sensitive: true,
  },
  { id: 'pii-card', description: 'payment card numbers (Luhn valid)', sensitive: true },
  { id: 'pii-national-id', description: 'US SSN, UK National Insurance number', sensitive: true },
  { id: 'pii-iban', description: 'IBAN (mod-97 valid)', sensitive: true },
  {
    id: 'secrets',
    description: 'API keys, tokens, private keys, assigned high-entropy secrets',
    sensitive: true,
  },
];

const SENSITIVE = new Set(DETECTORS.filter((d) => d.sensitive).map((d) => d.id));

export function isSensitiveDetector(id: string): boolean {
  return SENSITIVE.has(id as DetectorId);
}

/**
 * At most this many hits per detector are kept (the first in text order): a message with thousands
 * of addresses needs no more reasons, and merging hits is quadratic in their number.
 */
export const MAX_HITS_PER_DETECTOR = 64;

function capped(hits: readonly Hit[]): Hit[] {
  const seen = new Map<string, number>();
  return hits.filter((h) => {
    const n = (seen.get(h.detector) ?? 0) + 1;
    seen.set(h.detector, n);
    return n <= MAX_HITS_PER_DETECTOR;
  });
}

/** Runs the requested detectors (all when `only` is undefined). */
export function runDetectors(
  text: string,
  context: DetectorContext = {},
  only?: ReadonlySet<DetectorId>,
): Hit[] {
  const harm = new Set<HarmDetectorId>(HARM_DETECTORS.filter((d) => only === undefined || only.has(d)));
  const privacy = new Set<PrivacyDetectorId>(
    PRIVACY_DETECTORS.filter((d) => only === undefined || only.has(d)),
  );
  const hits: Hit[] = [];
  if (harm.size > 0) {
    const folded = normalise(text, { vocabulary: detectorVocabulary() });
    hits.push(...detectHarm({ norm: folded, context, only: harm }));
  }
  if (privacy.size > 0) {
    const light = normalise(text, LIGHT);
    const pii = new Set([...privacy].filter((d) => d !== 'secrets'));
    if (pii.size > 0) hits.push(...detectPii(light, pii));
    if (privacy.has('secrets')) hits.push(...detectSecrets(light));
  }
  return capped(hits);
}

export { detectorVocabulary } from './lexicon.js';
export { cardNetwork, ibanValid, luhnValid, ninoValid, ssnValid } from './pii.js';
export { shannonEntropy } from './secrets.js';
export {
  DETECTOR_IDS,
  type DetectorContext,
  type DetectorId,
  HARM_DETECTORS,
  type HarmDetectorId,
  type Hit,
  isDetectorId,
  PRIVACY_DETECTORS,
  type PrivacyDetectorId,
  type Role,
} from './types.js';
