/**
 * Personal data detectors: email addresses, phone numbers, payment cards, national identifiers and
 * IBANs. They run on the light normalisation (invisible characters dropped, fullwidth digits folded;
 * no case folding or leetspeak, which would corrupt the values), and every candidate must pass the
 * format's own check where it has one, so a 16-digit number that fails Luhn is not a card.
 */
import type { Normalised } from '../normalise.js';
import { toOriginalSpan } from '../normalise.js';
import type { Hit, PrivacyDetectorId } from './types.js';

/** Luhn (mod 10) check digit test, as used for payment card numbers (ISO/IEC 7812-1 Annex B). */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits) || digits.length < 2) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Issuer prefixes of the major card networks (ISO/IEC 7812 IIN ranges as published by the networks). */
export function cardNetwork(digits: string): string | undefined {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  const p6 = Number(digits.slice(0, 6));
  if (digits.startsWith('4') && (n === 13 || n === 16 || n === 19)) return 'visa';
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n === 16) return 'mastercard';
  if ((p2 === 34 || p2 === 37) && n === 15) return 'amex';
  if ((p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) && n >= 16) {
    return 'discover';
  }
  if (p4 >= 3528 && p4 <= 3589 && n >= 16) return 'jcb';
  if ((p2 === 36 || p2 === 38 || p2 === 39 || (p3 >= 300 && p3 <= 305)) && n >= 14) return 'diners';
  if (p2 === 62 && n >= 16) return 'unionpay';
  if ((p4 === 5018 || p4 === 5020 || p4 === 5038 || p4 === 6304 || p4 === 6759 || p4 === 6761) && n >= 12) {
    return 'maestro';
  }
  return undefined;
}

/**
 * US Social Security number structure rules (SSA, "Social Security Number Randomization", 2011, and
 * the SSA Program Operations Manual RM 10201.060): area 000, 666 and 900–999 are never issued, group 00
 * and serial 0000 are never issued; 078-05-1120 and 219-09-9999 were published in advertising and are
 * void.
 */
export function ssnValid(ssn: string): boolean {
  const m = /^([0-9]{3})-?([0-9]{2})-?([0-9]{4})$/.exec(ssn.replace(/ /g, '-'));
  if (m === null) return false;
  const [, area, group, serial] = m as unknown as [string, string, string, string];
  if (area === '000' || area === '666' || area[0] === '9') return false;
  if (group === '00' || serial === '0000') return false;
  const flat = `${area}${group}${serial}`;
  return flat !== '078051120' && flat !== '219099999';
}

/**
 * UK National Insurance number (HMRC National Insurance Manual NIM39110): two prefix letters, six
 * digits, a suffix A–D. The first letter is not D, F, I, Q, U or V; the second not D, F, I, O, Q, U or
 * V; the prefixes BG, GB, KN, NK, NT, TN and ZZ are not allocated.
 */
export function ninoValid(nino: string): boolean {
  const m = /^([A-CEGHJ-PR-TW-Z])([A-CEGHJ-NPR-TW-Z]) ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]$/.exec(nino);
  if (m === null) return false;
  return !['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(`${m[1]}${m[2]}`);
}

/** IBAN lengths by country (ISO 13616 registry, SWIFT), for the countries most often seen. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  TN: 24,
  TR: 26,
  UA: 29,
  VG: 24,
  XK: 20,
};

/** ISO 13616 / ISO 7064 MOD 97-10: move the first four characters to the end, letters as 10–35, mod 97 = 1. */
export function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const expected = IBAN_LENGTHS[s.slice(0, 2)];
  if (expected !== undefined && s.length !== expected) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
  }
  return rem === 1;
}

const EMAIL =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b/g;
/** RFC 2606 / RFC 6761 names reserved for documentation and tests. */
const RESERVED_DOMAIN =
  /@(?:[A-Za-z0-9-]+\.)*(?:example\.(?:com|org|net)|[A-Za-z0-9-]+\.(?:test|example|invalid|localhost))$/i;

const PHONE =
  /(?<![\w+-])(?:\+[1-9][0-9]{0,2}[ .-]?(?:\(0?[0-9]{1,4}\)[ .-]?)?[0-9]{1,4}(?:[ .-]?[0-9]{2,4}){1,4}|\(?[2-9][0-9]{2}\)?[ .-][0-9]{3}[ .-][0-9]{4}|\([2-9][0-9]{2}\)[0-9]{3}-[0-9]{4}|0[1-9][0-9]{1,3} ?[0-9]{3,4} ?[0-9]{3,4}|07[0-9]{3} ?[0-9]{6}|0[1-9](?:[ .][0-9]{2}){4})(?![\w-])/g;
const PHONE_CUE =
  /\b(?:call|phone|tel|telephone|mobile|cell|whatsapp|text me|sms|number|reach me|ring|contact|fax)\b/i;

const CARD = /(?<![0-9])[0-9](?:[ -]?[0-9]){11,18}(?![0-9])/g;
const SSN = /(?<![0-9-])[0-9]{3}([- ])[0-9]{2}\1[0-9]{4}(?![0-9-])|(?<![0-9])[0-9]{9}(?![0-9])/g;
const SSN_CUE = /\b(?:ssn|social security|social-security|soc sec)\b/i;
const NINO = /\b[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b/g;
const NINO_CUE = /\b(?:national insurance|ni number|nino|nin)\b/i;
const IBAN = /\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g;

const MAX_VALUES = 256;

function cueBefore(text: string, at: number, cue: RegExp): boolean {
  return cue.test(text.slice(Math.max(0, at - 40), at));
}

function hit(
  norm: Normalised,
  detector: PrivacyDetectorId,
  start: number,
  end: number,
  score: number,
  why: string,
): Hit {
  return { detector, span: toOriginalSpan(norm, start, end), score, why };
}

/** Runs the PII detectors over the light normalisation of a message. */
export function detectPii(norm: Normalised, only?: ReadonlySet<PrivacyDetectorId>): Hit[] {
  const text = norm.text;
  const want = (d: PrivacyDetectorId): boolean => only === undefined || only.has(d);
  const hits: Hit[] = [];
  const taken: [number, number][] = [];
  const claim = (s: number, e: number): void => {
    taken.push([s, e]);
  };
  const overlaps = (s: number, e: number): boolean => taken.some(([a, b]) => s < b && a < e);
  // Enough to report; the overlap checks below are quadratic in the number of values found.
  const full = (): boolean => hits.length >= MAX_VALUES;

  if (want('pii-email')) {
    for (const m of text.matchAll(EMAIL)) {
      if (full()) break;
      const s = m.index;
      const e = s + m[0].length;
      // user@host:path is an SCP-style remote (git@github.com:org/repo.git), not a mailbox.
      if (text[e] === ':' && /^[\w~./-]/.test(text[e + 1] ?? '')) continue;
      const reserved = RESERVED_DOMAIN.test(m[0]);
      hits.push(
        hit(
          norm,
          'pii-email',
          s,
          e,
          reserved ? 0.3 : 0.7,
          reserved ? 'email address (reserved documentation domain)' : 'email address',
        ),
      );
      claim(s, e);
    }
  }
  // Validated numbers first, so a card or IBAN is not also reported as a phone number.
  for (const m of text.matchAll(IBAN)) {
    if (full()) break;
    const s = m.index;
    const e = s + m[0].length;
    if (!ibanValid(m[0])) continue;
    claim(s, e);
    if (want('pii-iban')) hits.push(hit(norm, 'pii-iban', s, e, 0.9, 'IBAN (ISO 13616 check digits valid)'));
  }
  for (const m of text.matchAll(CARD)) {
    if (full()) break;
    const s = m.index;
    const e = s + m[0].length;
    if (overlaps(s, e)) continue;
    const digits = m[0].replace(/[ -]/g, '');
    if (digits.length < 13 || digits.length > 19 || !luhnValid(digits) || /^(.)\1+$/.test(digits)) continue;
    const network = cardNetwork(digits);
    claim(s, e);
    if (want('pii-card')) {
      hits.push(
        hit(
          norm,
          'pii-card',
          s,
          e,
          network ? 0.95 : 0.6,
          `payment card number (${network ?? 'unknown issuer'}, Luhn valid)`,
        ),
      );
    }
  }
  for (const m of text.matchAll(SSN)) {
    if (full()) break;
    const s = m.index;
    const e = s + m[0].length;
    if (overlaps(s, e)) continue;
    const cue = cueBefore(text, s, SSN_CUE);
    // Nine bare digits are an SSN only when introduced as one.
    if (!m[0].includes('-') && !m[0].includes(' ') && !cue) continue;
    if (!ssnValid(m[0])) continue;
    claim(s, e);
    if (want('pii-national-id')) {
      hits.push(
        hit(norm, 'pii-national-id', s, e, cue ? 0.95 : 0.75, 'US Social Security number (SSA rules)'),
      );
    }
  }
  for (const m of text.matchAll(NINO)) {
    if (full()) break;
    const s = m.index;
    const e = s + m[0].length;
    if (overlaps(s, e) || !ninoValid(m[0])) continue;
    claim(s, e);
    if (want('pii-national-id')) {
      const cue = cueBefore(text, s, NINO_CUE);
      hits.push(hit(norm, 'pii-national-id', s, e, cue ? 0.95 : 0.8, 'UK National Insurance number'));
    }
  }
  if (want('pii-phone')) {
    for (const m of text.matchAll(PHONE)) {
      if (full()) break;
      const s = m.index;
      const e = s + m[0].length;
      if (overlaps(s, e)) continue;
      const digits = m[0].replace(/[^0-9]/g, '');
      if (digits.length < 9 || digits.length > 15) continue;
      // A date or a version number is not a phone number.
      if (/^[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}$/.test(m[0]) || /^[0-9]+(?:\.[0-9]+){2,}$/.test(m[0]))
        continue;
      // NANP 555-0100..0199 is reserved for fiction.
      const fictional = /(?:^|[^0-9])555[ .-]?01[0-9]{2}$/.test(m[0]);
      const cue = cueBefore(text, s, PHONE_CUE);
      const score = fictional ? 0.3 : cue || m[0].startsWith('+') ? 0.8 : 0.5;
      hits.push(
        hit(
          norm,
          'pii-phone',
          s,
          e,
          score,
          fictional ? 'phone number (reserved fictional range)' : 'phone number',
        ),
      );
      claim(s, e);
    }
  }
  return hits;
}
