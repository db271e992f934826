/**
 * Credentials: provider API keys by their documented prefixes, PEM private key headers, and
 * high-entropy values assigned to names like `api_key` or `secret`. Runs on the light normalisation
 * (case matters for keys).
 */
import type { Normalised } from '../normalise.js';
import { toOriginalSpan } from '../normalise.js';
import type { Hit } from './types.js';

interface KeyPattern {
  readonly re: RegExp;
  readonly why: string;
  readonly score: number;
  /** Minimum Shannon entropy (bits per character) of the match, to skip placeholders like sk-xxxx. */
  readonly minEntropy: number;
}

const KEYS: readonly KeyPattern[] = [
  {
    re: /\bsk-(?:proj-|svcacct-|admin-|ant-(?:api[0-9]{2}-)?)?[A-Za-z0-9_-]{20,}/g,
    why: 'OpenAI-style secret key (sk-)',
    score: 0.95,
    minEntropy: 3.5,
  },
  {
    re: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b/g,
    why: 'AWS access key id',
    score: 0.95,
    minEntropy: 3,
  },
  {
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g,
    why: 'GitHub token',
    score: 0.95,
    minEntropy: 3.5,
  },
  { re: /\bxox[baprse]-[A-Za-z0-9-]{10,}/g, why: 'Slack token', score: 0.95, minEntropy: 3 },
  {
    re: /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----/g,
    why: 'PEM private key',
    score: 0.98,
    minEntropy: 0,
  },
  { re: /\b(?:sk|rk)_live_[A-Za-z0-9]{16,}\b/g, why: 'Stripe live secret key', score: 0.95, minEntropy: 3.5 },
  { re: /\bAIza[0-9A-Za-z_-]{35}\b/g, why: 'Google API key', score: 0.9, minEntropy: 3.5 },
];

/** user:password@ in a URL (RFC 3986 userinfo); the password is group 1. */
const URL_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:([^\s:/@]{4,})@/gi;

/** `api_key = "..."`, `"client_secret": "..."`, `DB_PASSWORD: ...` (any prefix); the value is group 2. */
const ASSIGNED =
  /\b([A-Za-z0-9_-]*?(?:api[_-]?key|apikey|secret(?:[_-]?access)?(?:[_-]?key)?|access[_-]?token|auth[_-]?token|bearer|token|client[_-]?secret|private[_-]?key|password|passwd|pwd))\b["']?\s*(?:[:=]|=>)\s*["']?([A-Za-z0-9_\-+/=.~!@#$%^&*]{8,})/gi;

/** Shannon entropy of the characters of `s`, in bits per character. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export function detectSecrets(norm: Normalised): Hit[] {
  const text = norm.text;
  const hits: Hit[] = [];
  const taken: [number, number][] = [];
  for (const k of KEYS) {
    for (const m of text.matchAll(k.re)) {
      if (shannonEntropy(m[0]) < k.minEntropy) continue;
      const s = m.index;
      const e = s + m[0].length;
      taken.push([s, e]);
      hits.push({ detector: 'secrets', span: toOriginalSpan(norm, s, e), score: k.score, why: k.why });
    }
  }
  for (const m of text.matchAll(URL_PASSWORD)) {
    const value = m[1] ?? '';
    if (/^(?:password|pass|passwd|secret|\*+|x+|\$\{.*\}|<.*>|\{.*\})$/i.test(value) || value.startsWith('$'))
      continue;
    const e = m.index + m[0].length - 1;
    const s = e - value.length;
    taken.push([s, e]);
    hits.push({
      detector: 'secrets',
      span: toOriginalSpan(norm, s, e),
      score: 0.9,
      why: 'password in a URL',
    });
  }
  for (const m of text.matchAll(ASSIGNED)) {
    const name = (m[1] ?? '').toLowerCase();
    const value = m[2] ?? '';
    const s = m.index + m[0].length - value.length;
    const e = m.index + m[0].length;
    if (taken.some(([a, b]) => s < b && a < e)) continue;
    const isPassword = /(?:password|passwd|pwd)$/.test(name);
    // Passwords are short and human; keys are long and random.
    const minLength = isPassword ? 8 : 16;
    const minEntropy = isPassword ? 2.5 : 3.5;
    if (value.length < minLength || shannonEntropy(value) < minEntropy) continue;
    if (/^(?:x+|\*+|\.+|your[_-]?\w*|changeme|placeholder|redacted|example\w*)$/i.test(value)) continue;
    // Code that names a secret is not the secret: process.env.API_KEY, settings.apiKey.
    if (/^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value) || /^\$/.test(value)) continue;
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((c) => c.test(value)).length;
    // Random keys mix letters and digits; human passwords mix at least two kinds of character.
    if (isPassword ? classes < 2 : !(/[0-9]/.test(value) && /[A-Za-z]/.test(value))) continue;
    hits.push({
      detector: 'secrets',
      span: toOriginalSpan(norm, s, e),
      score: isPassword ? 0.75 : 0.8,
      why: `high-entropy value assigned to ${name}`,
    });
  }
  return hits;
}
