/**
 * Framing around a phrase hit: whether the sentence asks for or announces the act (intent), tries to
 * escape consequences (evasion), or is negated, defensive, fictional or reporting. The phrase
 * detectors turn these into a score (see harm.ts). All patterns run on normalised text.
 */

/** Requests and announcements: "how do I", "best way to", "I'm going to", "help me", "can you". */
export const INTENT =
  /\b(?:how (?:do|can|could|would|should|might|does|did) (?:i|1|we|you|one|someone|somebody|he|she|they|u)\b|how to\b|how i (?:can|could|should)\b|(?:best|easiest|quickest|fastest|simplest|surest|safest|cheapest|cleanest|most effective) (?:[a-z]+ ){0,2}(?:way|ways|method|methods|poison|weapon|tool|place|time|means|to|for)\b|ways? (?:to|i can|of)\b|steps? (?:to|for)\b|tips (?:for|on|to)\b|teach me\b|show me\b|tell me (?:how|the best|what|where)\b|help me\b|explain how\b|walk me through\b|give me\b|write (?:me )?(?:a |an )?(?:guide|plan|tutorial|script|program)\b|(?:can|could|would|will) you\b|(?:i|1)(?: am|'m|m) (?:going|gonna|about|planning|trying|ready|determined)(?: to)?\b|(?:i|1)(?:'ll| will| shall| gonna) |(?:i|1)(?:'d| would) (?:like|love) to\b|(?:i|1) (?:really |just |seriously |finally )?(?:want|wanna|need|plan|intend|mean|have|got|decided|hope|wish i could)(?: to)?\b|we (?:want|need|plan|are going|'re going|will|'ll|should)(?: to)?\b|let'?s\b|where (?:can|do|could) (?:i|we|you) (?:buy|get|find|order)\b|what (?:is|'s|are) the (?:best|easiest|quickest|fastest|safest|surest)\b|what (?:should|would|can) i use\b|is there (?:a|any) way\b|any (?:tips|ideas|advice)\b|guide to\b|tutorial\b|instructions (?:for|to|on)\b|recipe for\b|should i\b)/;

/** Getting away with it; implies intent whatever the other framing. */
export const EVASION =
  /\b(?:without (?:getting caught|being (?:caught|detected|seen|noticed|traced|found)|anyone (?:knowing|noticing|finding out|seeing)|a trace|leaving (?:a |any )?(?:trace|traces|evidence|marks|fingerprints))|undetect(?:ed|able)|untraceable|(?:get|got|getting) away with|cover (?:it |this |that )?up|(?:avoid|avoiding|avoids|evade|evading|evades|bypass|bypassing|bypasses) (?:detection|getting caught|the police|the cops|antivirus|anti-virus|av|edr|defender|forensics)|no one (?:will|would|can|could) (?:ever )?(?:know|find out|notice|tell|trace)|(?:look|looks|seem|seems) like (?:an accident|natural causes|a suicide|an overdose|(?:she|he|they) (?:fell|slipped|tripped|did it|killed (?:herself|himself|themselves)|overdosed))|(?:show|shows|showing) up (?:in|on) (?:an |a )?(?:autopsy|tox screen|toxicology|drug test)|fud)\b/;

/** Secrecy or absent consent about what is done to another person. */
export const SECRECY =
  /\b(?:secret(?:ly)?|in secret|covert(?:ly)?|hidden|spy|without (?:(?:her|him|them|his|their|my [a-z-]+(?:'s)?|the [a-z-]+(?:'s)?|[a-z]+'s) )?(?:knowing|knowledge|noticing|consent|permission|agreement|approval|finding out|realising|realizing|seeing)|behind (?:her|his|their|my [a-z-]+'s) back|so (?:she|he|they) (?:doesn't|don't|dont|won't|wont|never|can't) (?:know|find out|notice|see)|(?:she|he|they) (?:doesn't|don't|dont|won't|wont|can't) (?:know|find out|notice)|without telling|revenge|blocked me|restraining order|won't talk to me|doesn't want (?:me|to see me)|dumped me|left me|broke up with me)\b/;

/** Instructions and specifics: fiction or history framing does not make these safe. */
export const OPERATIONAL =
  /\b(?:step[- ]by[- ]step|detailed|in detail|exact|exactly|precise|specific|recipe|ingredients|quantities|amounts|measurements|materials list|list of materials|shopping list|schematics|blueprint|formula|grams|ratio)\b/;

const NEGATION =
  /\b(?:not|never|no|don't|dont|doesn't|won't|wont|wouldn't|shouldn't|can't|cannot|didn't|refuse to|stop (?:myself|me|him|her|them|people|someone|kids) from|against|instead of|rather than|prevent|preventing)\b/;

/** A story, a game or a performance. */
export const FICTION =
  /\b(?:novel|novels|story|stories|short story|screenplay|script for (?:a|my) (?:play|film|movie)|fiction|fictional|character|characters|villain|protagonist|antagonist|plot|chapter|fanfic|fan fiction|episode|movie|film|book|play|poem|thriller|mystery|whodunit|detective|dnd|d&d|dungeons|campaign|game|video game|level|quest|npc|boss fight|minecraft|skyrim|elden ring|fortnite|roleplay|role-play|comedy|sketch|parody|satire|hamlet|macbeth|shakespeare|opera|tv show|series|season|anime|manga|comic|lyrics|song)\b/;

/**
 * Hypotheticals are a common way to ask for the real thing, so they weaken a hit less than fiction:
 * a confident request becomes a flag for review rather than an allow.
 */
export const HYPOTHETICAL =
  /\b(?:hypothetical|hypothetically|in theory|theoretically|what if|imagine|suppose|purely academic|thought experiment|just curious|out of curiosity|asking for a friend)\b/;

/** Laughter and retractions mark hyperbole ("I'm going to kill him haha"). */
export const JEST = /(?:\b(?:haha+|hehe+|lol|lmao|rofl|jk|just kidding|kidding|joking)\b|😂|🤣|😆|😅)/u;

/** Reporting, history, scholarship. */
export const REPORTING =
  /\b(?:reported|reports|reporting|according to|police said|police say|authorities|was (?:arrested|convicted|sentenced|charged|jailed|found guilty)|were (?:arrested|convicted|sentenced|charged|killed)|was killed|trial|court|jury|news|article|headline|history|historical|historian|historians|(?:in|during|since) (?:the )?(?:1[0-9]|20)[0-9]{2}s?|century|world war|the war|documentary|museum|biography|investigators|prosecutors|lawsuit|study|researchers|statistics|rates|scientists|physicists|manhattan project|cold war|wwii|ww2|hiroshima|nagasaki|each year|per year)\b/;

/** Protecting, detecting, reporting, supporting. */
export const DEFENSIVE =
  /\b(?:protect|protecting|protection|prevent|prevention|detect|detecting|spot|spotting|recogni[sz]e|identify|avoid being|avoid getting|report|defend|defen[cs]e|awareness|train|training|educate|teach (?:my |our )?(?:staff|employees|students|kids|team|users)|warning signs|signs of|red flags|what to do if|am i being|is someone|help (?:a |my )?(?:friend|sister|brother|partner|child|kid|son|daughter)|support (?:her|him|them|a friend|my friend|someone|victims|survivors)|support group|support line|hotline|safe|safely|safety|secure|security team|security awareness|victim of|been hacked|got hacked|was hacked|hacked me|recover|remove|removal|get rid of (?:it|spyware|stalkerware|malware)|check (?:if|whether|for)|how do (?:scammers|hackers|attackers|criminals|they)|why do people)\b/;

/** Permission or ownership that makes access legitimate. */
export const LEGITIMATE =
  /\b(?:with (?:her|his|their|my [a-z-]+'s|the owner's) (?:permission|consent|agreement)|(?:they|she|he) (?:agreed|consented|knows)|passed away|died|deceased|my late|executor|estate|authori[sz]ed|authori[sz]ation|my own|pentest|pen test|penetration test|bug bounty|ctf|capture the flag|homelab|home lab|simulation|simulated|drill|test our|our own|in a lab|sandbox)\b/;

export const ASSISTANT_INSTRUCTIONS =
  /\b(?:step (?:1|one)|first,? (?:you|get|take|mix|buy|obtain|gather)|you(?:'ll| will) need|here's how|here is how|to do this,|follow these steps)\b/;

const POLITE =
  /^(?:(?:please|pls|plz|ok|okay|now|also|and|then|so|hey|hi|jamey|quickly|just|ai|bot|assistant)[ ,:]*)*$/;

/** The start of the sentence containing `at` (sentences end at . ! ? ; and newlines). */
export function sentenceBounds(text: string, from: number, to: number): [number, number] {
  let s = from;
  while (s > 0 && !/[.!?;\n]/.test(text[s - 1]!)) s--;
  let e = to;
  while (e < text.length && !/[.!?;\n]/.test(text[e]!)) e++;
  return [s, e];
}

export interface Framing {
  intent: boolean;
  evasion: boolean;
  negated: boolean;
  operational: boolean;
  secrecy: boolean;
  /** The smallest mitigation multiplier that applies (1 when none). */
  mitigation: number;
  mitigatedBy?: string;
}

export interface FramingInput {
  text: string;
  start: number;
  end: number;
  /** The matched phrase starts with a verb in its base form (an imperative if first in the sentence). */
  baseVerb: boolean;
  assistant: boolean;
  /** Permission and ownership matter for access and consent, not for weapons or violence. */
  permissionMatters: boolean;
  fiction: boolean;
  reporting: boolean;
}

export function frame(x: FramingInput): Framing {
  const [s, e] = sentenceBounds(x.text, x.start, x.end);
  const before = x.text.slice(s, x.start);
  const sentence = x.text.slice(s, e);
  // A window of the neighbouring sentences, for defensive or permission statements made separately.
  const [ws] = s > 0 ? sentenceBounds(x.text, s - 1, s - 1) : [s];
  const [, we] = e < x.text.length ? sentenceBounds(x.text, e + 1, e + 1) : [e, e];
  const window = x.text.slice(ws, we);
  const imperative = x.baseVerb && POLITE.test(before.trim());
  const intent = INTENT.test(before) || imperative || (x.assistant && ASSISTANT_INSTRUCTIONS.test(x.text));
  const evasion = EVASION.test(sentence);
  // Negation binds within its clause: "I don't see the point, how many pills..." is not negated.
  const clause = before.slice(before.lastIndexOf(',') + 1);
  const negated = NEGATION.test(clause.slice(-40));
  const operational = OPERATIONAL.test(sentence);
  const secrecy = SECRECY.test(sentence);
  let mitigation = 1;
  let mitigatedBy: string | undefined;
  const consider = (m: number, why: string): void => {
    if (m < mitigation) {
      mitigation = m;
      mitigatedBy = why;
    }
  };
  if (negated) consider(0.3, 'negated');
  if (!evasion) {
    if (x.permissionMatters && LEGITIMATE.test(window)) consider(0.3, 'permission or own property');
    if (DEFENSIVE.test(window) && !/\b(?:help me|i want|i need)\b/.test(before.slice(-25))) {
      consider(0.4, 'defensive or educational framing');
    }
    if (!operational) {
      if (x.fiction) consider(0.5, 'fiction framing');
      if (HYPOTHETICAL.test(window)) consider(0.7, 'hypothetical framing');
      if (JEST.test(sentence)) consider(0.5, 'joking');
      // Reporting describes what happened; a request or a plan is not reporting.
      if (x.reporting && !intent) consider(0.5, 'reporting framing');
    }
  }
  const out: Framing = { intent, evasion, negated, operational, secrecy, mitigation };
  if (mitigatedBy !== undefined) out.mitigatedBy = mitigatedBy;
  return out;
}
