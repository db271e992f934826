/**
 * Phrase detectors for harmful requests: violence, self-harm, weapons, hacking, deception and consent.
 *
 * Each rule is a verb-plus-object pattern over normalised text (lowercase, single spaces, obfuscation
 * folded). Alarming verbs alone never match: a harm verb needs a person or animal as its object ("kill
 * my neighbour", not "kill the process"), a making verb needs a weapon ("make a pipe bomb", not "bomb
 * the exam"), an intrusion verb needs someone else's account, and so on. A match is then scored by its
 * framing (framing.ts):
 *
 * - `base` when the sentence only mentions the act; `intent` when it asks how, announces a plan, or is
 *   an imperative request; at least 0.95 when it is also about escaping detection.
 * - rules with a `cue` (secrecy, absent consent) score `cueScore` when the cue is in the sentence.
 * - then the smallest applicable mitigation multiplies the score: negation ×0.3, permission or own
 *   property ×0.3, defensive or educational framing ×0.4, fiction or reporting ×0.5, hypothetical
 *   ×0.7 (so a confident request still flags). Evasion cancels every mitigation but negation;
 *   operational detail ("step by step", "exact amounts") cancels fiction, reporting and hypotheticals;
 *   reporting applies only to sentences without intent.
 */

import type { Normalised } from '../normalise.js';
import { toOriginalSpan } from '../normalise.js';
import { FICTION, frame, REPORTING, SECRECY, sentenceBounds } from './framing.js';
import {
  ANIMAL_NOUNS,
  alt,
  FUNCTION_WORDS,
  NON_PERSON_HEADS,
  PERSON_NOUNS,
  phrases,
  registerVocabulary,
} from './lexicon.js';
import type { DetectorContext, HarmDetectorId, Hit } from './types.js';

interface PhraseRule {
  readonly detector: HarmDetectorId;
  readonly re: RegExp;
  readonly base: number;
  readonly intent: number;
  readonly why: string;
  readonly cue?: RegExp;
  readonly cueScore?: number;
  /** Rejects a match on closer reading (possessives, non-person heads, photography...). */
  readonly accept?: (m: RegExpExecArray, text: string) => boolean;
}

const nonPersonHeads = new Set(NON_PERSON_HEADS);
const functionWords = new Set(FUNCTION_WORDS);

const DET = '(?:my|his|her|their|our|your|the|a|an|that|this|these|those|some|all|every|two|three|[0-9]+)';
const PERSON = alt(PERSON_NOUNS);
const ANIMAL = alt(ANIMAL_NOUNS);
/** Another person's: "someone's", "her", "my sister's", "the neighbour's". */
const OTHERS = `(?:someone's|somebody's|someone else's|other people's|people's|a stranger's|his|her|their|${DET} (?:[a-z-]+ )?${PERSON}s?'s?)`;
/** A person as the object of a verb. Captured as `t` so the match can be checked. */
const PERSON_TARGET = `(?<t>${DET} (?:[a-z-]+ )?${PERSON}(?:s|es)?|someone|somebody|anyone|anybody|everyone|everybody|people|him|her|them|you)`;
const ANIMAL_TARGET = `(?:${OTHERS}|${DET}) (?:[a-z-]+ )?${ANIMAL}s?`;

function rx(source: string): RegExp {
  return new RegExp(`\\b${source}\\b`, 'g');
}

function nextWord(text: string, at: number): string {
  const m = /^ ?([a-z'-]+)/.exec(text.slice(at, at + 40));
  return m?.[1] ?? '';
}

const PHOTO =
  /\b(?:photo|photos|photograph|photography|portrait|portraits|headshots?|camera|lens|video|footage|wedding|session|photoshoot|lighting|scene|episode|commercial|aperture|iso|film|filming|hoops|baskets|free throws?|three-pointers?|pool|a text|a message|an email|a dm|a line)\b/;
const CODE =
  /\b(?:script|command|query|function|code|program|order|plan|task|job|trade|contract|binary|file|sql)\b/;
const GAME_OBJECTS =
  /\b(?:process|processes|task|tasks|job|jobs|thread|threads|server|container|containers|pod|pods|weeds?|bugs?|pests?|ants|cockroach(?:es)?|mosquito(?:es)?|zombies?|monsters?|enemies|enemy|mobs?|bosses|dragons?|orcs?|goblins?|creepers|lights|engine|tabs?|apps?|services?|daemons?|germs|bacteria|virus(?:es)?|plants?|fish|lice|fleas|mice|rats|flies|wasps)\b/;

/** Idioms whose literal reading is violent. */
const IDIOMS = /^(?:kill|killing|kills) two birds\b/;

/** The object is really a person: not a modifier ("child process"), not a possessive ("her feelings"). */
function personObject(m: RegExpExecArray, text: string): boolean {
  if (IDIOMS.test(m[0])) return false;
  const t = m.groups?.['t'];
  if (t === undefined) return true;
  const after = m.index + m[0].length;
  const rest = text.slice(after, after + 3);
  if (rest.startsWith("'s") || rest.startsWith("s'") || rest.startsWith("'")) return false;
  const next = nextWord(text, after);
  if (nonPersonHeads.has(next)) return false;
  if ((t === 'her' || t === 'his' || t === 'their') && next !== '' && !functionWords.has(next)) return false;
  if (t === 'them' || t === 'him' || t === 'her' || t === 'you' || t === 'it') {
    // "find the zombie processes and kill them": the pronoun stands for the thing named before.
    const [s] = sentenceBounds(text, m.index, m.index);
    if (GAME_OBJECTS.test(text.slice(s, m.index))) return false;
  }
  return true;
}

const VIOLENT_VERB =
  '(?:kill|kills|killing|murder|murders|murdering|stab|stabs|stabbing|shoot|shoots|shooting|poison|poisons|poisoning|strangle|strangling|choke|choking|suffocate|suffocating|smother|smothering|drown|drowning|hurt|hurts|hurting|harm|harming|injure|injuring|maim|maiming|torture|torturing|kidnap|kidnapping|abduct|abducting|assault|assaulting|attack|attacking|rape|raping|molest|molesting|behead|beheading|execute|executing|lynch|lynching|beat up|beating up|beat the (?:shit|crap|hell) out of|run over|set fire to|burn alive|push (?:[a-z]+ ){0,2}off)';

const BASE_FORMS = new Set(
  phrases(`
  kill, murder, stab, shoot, poison, strangle, choke, suffocate, smother, drown, hurt, harm, injure, maim,
  torture, kidnap, abduct, assault, attack, rape, molest, behead, execute, lynch, beat, run, set, burn,
  push, make, build, write, create, hack, steal, share, post, send, leak, upload, install, track,
  impersonate, forge, fake, generate, draft, code, develop, give, synthesize, synthesise, produce, mix,
  cook, buy, get, find, scam, trick, stalk, spy, read, crack, break, put, hide, plant, ddos, take, design,
  craft, spread, sell, forward, convert, weaponize, weaponise, defraud, con, manipulate, deceive, falsify,
  counterfeit, dox, doxx, monitor, record, film, follow, access, log, bypass, evade, avoid, launder,
  commit, file, cheat, pretend, pose, pass, masquerade, spoof, compose, leave, dos
`),
);

function verbAccept(m: RegExpExecArray, text: string): boolean {
  const verb = m[0].split(' ')[0] ?? '';
  const [s, e] = sentenceBounds(text, m.index, m.index + m[0].length);
  const sentence = text.slice(s, e);
  if (/^shoot|^shot/.test(verb) && PHOTO.test(sentence)) return false;
  if (/^execut/.test(verb) && CODE.test(sentence)) return false;
  if (
    /^attack/.test(verb) &&
    /\b(?:chess|queen|king|pawn|rook|bishop|knight|base|tower|castle|army|raid|match)\b/.test(sentence)
  ) {
    return false;
  }
  return personObject(m, text);
}

const MAKE =
  '(?:make|making|build|building|construct|constructing|assemble|assembling|create|creating|cook|cooking|mix|mixing|brew|brewing|synthesi[sz]e|synthesi[sz]ing|produce|producing|manufacture|manufacturing|prepare|preparing|rig|rigging|weaponi[sz]e|weaponi[sz]ing|3d print|3d-print|print|printing|set off|detonate|detonating|plant|planting|get|obtain|improvise)';
const WEAPON_ADJ =
  '(?:(?:a|an|the|some|my|own|homemade|home-made|diy|working|functional|small|big|large|powerful|simple|real|crude|improvised|deadly|lethal|effective|strong|basic|cheap|untraceable|more|few|couple|of|at|home|own|your) )';
const WEAPONS = phrases(`
  bomb, bombs, pipe bomb, pipe bombs, nail bomb, car bomb, dirty bomb, letter bomb, suicide vest,
  explosive, explosives, explosive device, ied, ieds, detonator, blasting cap, molotov, molotov cocktail,
  molotov cocktails, grenade, grenades, napalm, thermite, c4, c-4, semtex, tatp, anfo, nitroglycerin,
  nitroglycerine, nerve agent, nerve gas, sarin, vx, ricin, anthrax, mustard gas, chlorine gas, phosgene,
  poison gas, toxic gas, chemical weapon, chemical weapons, bioweapon, bioweapons, biological weapon,
  nuclear bomb, nuke, atomic bomb, ghost gun, zip gun, untraceable gun, untraceable firearm,
  3d printed gun, auto sear, glock switch, silencer, suppressor, landmine, land mine, booby trap,
  incendiary device, firebomb, fire bomb, botulinum toxin, novichok, tabun, soman, pressure cooker bomb,
  fertilizer bomb, fertiliser bomb, truck bomb, suitcase bomb, backpack bomb, tnt, dynamite, chloroform
`);
const AGENTS = phrases(`
  sarin, vx, tabun, soman, novichok, ricin, abrin, anthrax, botulinum, botulinum toxin, nerve agent,
  nerve agents, nerve gas, mustard gas, phosgene, chlorine gas, hydrogen cyanide, smallpox,
  weapons-grade uranium, weapons-grade plutonium, bioweapon, pathogen
`);
const ACCOUNT_OBJECTS = phrases(`
  account, accounts, email, emails, e-mail, gmail, outlook, inbox, instagram, insta, facebook, fb,
  snapchat, snap, tiktok, twitter, whatsapp, telegram, icloud, apple id, phone, iphone, android, laptop,
  computer, pc, wifi, wi-fi, network, router, bank account, password, passwords, webcam, camera, discord,
  steam account, messages, dms, texts, social media, online banking, cloud, photos, google account,
  microsoft account
`);
const MALWARE = phrases(`
  ransomware, keylogger, key logger, trojan, computer virus, virus, worm, botnet, rootkit, malware,
  spyware, infostealer, info stealer, password stealer, credential stealer, cookie stealer, token grabber,
  token logger, remote access trojan, cryptojacker, backdoor, exploit kit, ddos tool, ddos script, booter,
  stresser, phishing kit, zero-day exploit, zero day exploit, logic bomb, wiper, credential harvester,
  reverse shell
`);
const FAKE_ADJ = phrases(`
  fake, false, fraudulent, forged, bogus, phony, phoney, made-up, fabricated, counterfeit, sham
`);
const ARTEFACTS = phrases(`
  review, reviews, testimonial, testimonials, ratings, rating, doctor's note, doctors note, sick note,
  medical certificate, medical records, invoice, invoices, receipt, receipts, id, ids, id card, passport,
  passports, driver's license, drivers license, diploma, degree, certificate, transcript, references,
  reference letter, news, news article, news story, quote, quotes, screenshot, screenshots, alibi,
  evidence, document, documents, signature, contract, prescription, insurance claim, claim, bank statement,
  pay stub, payslip, charity, donation page, fundraiser, gofundme, profile, profiles, dating profile,
  accounts, followers, identity, website, email, emails, job offer, check, cheque, warranty claim,
  refund request, complaint, letter, lottery win, emergency, kidnapping, giveaway, customer reviews,
  press release, study, data, results, doctor note, excuse
`);
const IMPERSONATED = phrases(`
  bank, banker, bank employee, irs, hmrc, police, police officer, officer, cop, detective, doctor, nurse,
  lawyer, attorney, ceo, cfo, boss, manager, employee, representative, agent, official,
  government official, government, microsoft, apple, amazon, paypal, google, support, customer service,
  tech support, it support, it department, helpdesk, help desk, someone, somebody, another person, him,
  her, them, real person, celebrity, friend, relative, grandson, granddaughter, landlord, delivery driver,
  fedex, ups, dhl, courier, utility company, recruiter, ex, coworker, teacher, professor, parent, mother,
  father, mom, dad, sister, brother, son, daughter, wife, husband, social security, medicare,
  insurance company, executive, director, supervisor, vendor, supplier
`);
const FORGED = phrases(`
  signature, signatures, document, documents, check, cheque, checks, prescription, prescriptions, passport,
  id, id card, certificate, diploma, degree, receipt, receipts, records, medical records, bank statement,
  bank statements, money, banknotes, currency, timesheet, timesheets, test results, lab results, data,
  research data, evidence, invoice, invoices, doctor's note, sick note, contract, contracts, tax return,
  expenses, expense report, mileage, hours, transcript, grades, references, will, attendance, letter,
  note, permission slip, reference, statement, email, approval
`);
const INTIMATE =
  '(?:nudes?|naked (?:photos?|pictures?|pics|images?|videos?|selfies?)|nude (?:photos?|pictures?|pics|images?|videos?|selfies?)|intimate (?:photos?|pictures?|pics|images?|videos?|content|footage)|sex (?:tape|video|videos)|explicit (?:photos?|pictures?|pics|images?|videos?|content)|private (?:photos?|pictures?|pics|videos?)|sexts?|lewd (?:photos?|pics|images?)|topless (?:photos?|pics|pictures?)|onlyfans content|porn)';
const TRACKABLE =
  '(?:phone|location|locations|texts|messages|calls|whereabouts|car|movements|every move|browsing history|browsing|chats|emails|email|dms|conversations|gps|search history|snapchat|whatsapp|instagram|facebook|internet history|laptop|computer|journal|diary)';

registerVocabulary(
  WEAPONS,
  AGENTS,
  ACCOUNT_OBJECTS,
  MALWARE,
  FAKE_ADJ,
  ARTEFACTS,
  IMPERSONATED,
  FORGED,
  phrases(`
  secretly, spy, stalk, track, tracker, spyware, stalkerware, hidden, camera, share, post, leak, naked,
  nude, nudes, intimate, without, consent, permission, knowing, forge, impersonate, phishing, scam, trick,
  steal, credentials, passwords, ddos, suicide, die, dead, life, pills, overdose, painless, hang, cut,
  knife, gun, murder, strangle, stab, shoot, poison, hurt, harm, kill, torture, kidnap, neighbour,
  location, phone, messages, texts, account, instagram, email, hack, into, crack
`),
);

const RULES: readonly PhraseRule[] = [
  // Violence: a harm verb whose object is a person or animal.
  {
    detector: 'violence',
    re: rx(`${VIOLENT_VERB} (?:[a-z]+ )?${PERSON_TARGET}`),
    base: 0.45,
    intent: 0.9,
    why: 'violence against a person',
    accept: verbAccept,
  },
  {
    detector: 'violence',
    re: rx(`${VIOLENT_VERB} ${ANIMAL_TARGET}`),
    base: 0.4,
    intent: 0.8,
    why: 'violence against an animal',
    accept: verbAccept,
  },
  {
    detector: 'violence',
    re: rx(
      '(?:shoot|shooting) up (?:a|the|my|our|his|her|their) (?:[a-z]+ )?(?:school|church|mosque|synagogue|mall|concert|office|workplace|class|classroom|campus|club|party|crowd|temple|parade|festival)|(?:plan|planning|carry out|carrying out|commit|committing|organi[sz]e) (?:a |an )?(?:mass shooting|school shooting|massacre|terror attack|terrorist attack|stabbing spree|killing spree|bombing)',
    ),
    base: 0.6,
    intent: 0.95,
    why: 'mass violence',
  },
  {
    detector: 'violence',
    re: rx(
      "(?:untraceable|undetectable|tasteless|odou?rless|slow-acting) poisons?|poisons? (?:that )?(?:can't|cannot|won't|wont) be (?:traced|detected)",
    ),
    base: 0.55,
    intent: 0.9,
    why: 'covert poisoning',
  },
  {
    detector: 'violence',
    re: rx(
      "(?:hide|hiding|dispose of|disposing of|get rid of|dissolve|dissolving|bury|burying) (?:a|the|his|her|my [a-z-]+'s) (?:dead )?(?:body|corpse)",
    ),
    base: 0.5,
    intent: 0.9,
    why: 'concealing a killing',
  },
  {
    detector: 'violence',
    re: rx(
      `(?:run|running|ran|beat|beating|push|pushing|shove|shoving|throw|throwing|knock|knocking) ${PERSON_TARGET} (?:over|up|down|off|out of|in front of|into|from|out|unconscious)`,
    ),
    base: 0.45,
    intent: 0.9,
    why: 'violence against a person',
    accept: (m, text) => {
      // "run my kids over to school", "push him up the rankings", "throw her a party": not violence.
      const pairs =
        /^(?:run|running|ran) .* over$|^(?:beat|beating) .* up$|^(?:push|pushing|shove|shoving|throw|throwing) .* (?:down|off|out of|in front of|into|from)$|^(?:knock|knocking) .* (?:out|unconscious)$/;
      if (!pairs.test(m[0])) return false;
      const next = nextWord(text, m.index + m[0].length);
      if (m[0].endsWith(' into') && next.endsWith('ing')) return false;
      return (
        !['to', 'the', 'for', 'at', 'on'].includes(next) ||
        /(?:down|off|out of|in front of|into|from)$/.test(m[0])
      );
    },
  },
  {
    detector: 'violence',
    re: rx(
      `(?:dose|amount|how much|how many|quantity) (?:[a-z0-9']+ ){0,5}(?:would|will|could|to|it takes to|does it take to|needed to|is needed to) (?:kill|knock out|incapacitate|paralyse|paralyze|sedate) ${PERSON_TARGET}`,
    ),
    base: 0.5,
    intent: 0.9,
    why: 'lethal dose for another person',
  },
  {
    detector: 'violence',
    re: rx(
      `(?:drug|drugging|spike|spiking|roofie|roofying|lace|lacing|poison|poisoning) (?:${OTHERS}|a|the) (?:[a-z-]+ )?(?:drink|drinks|food|coffee|tea|wine|beer|cocktail|meal|water)|(?:slip|slipping|put|putting) (?:something|a pill|pills|drugs|a roofie|ghb|rohypnol|sleeping pills|poison) (?:in|into) (?:${OTHERS}|a|the) (?:[a-z-]+ )?(?:drink|drinks|food|coffee|tea|wine|beer|cocktail|meal|water)|(?:drug|drugging|roofie) ${PERSON_TARGET}`,
    ),
    base: 0.5,
    intent: 0.92,
    why: 'drugging someone',
  },
  // Self-harm: first person only; third-person concern is not a hit.
  {
    detector: 'self-harm',
    re: rx(
      '(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|burn|burning|starve|starving|hang|hanging|shoot|shooting|poison|poisoning|drown|drowning|suffocate|stab|off|offing|unalive) myself',
    ),
    base: 0.6,
    intent: 0.92,
    why: 'self-harm',
  },
  {
    detector: 'self-harm',
    re: rx(
      "i (?:really |just |honestly |sometimes |still )?(?:want to die|wanna die|wish i (?:was|were) dead|wish i could die|don't want to (?:live|be alive|exist|wake up)|dont want to (?:live|be alive|exist|wake up)|feel suicidal|am suicidal|'m suicidal|m suicidal|have been thinking about (?:suicide|ending it|killing myself|ending my life)|'ve been thinking about (?:suicide|ending it|killing myself|ending my life)|am better off dead|'d be better off dead|see no reason to live|have no reason to live)",
    ),
    base: 0.85,
    intent: 0.92,
    why: 'suicidal intent',
  },
  {
    detector: 'self-harm',
    re: rx('(?:end|take|ending|taking) my (?:own )?life|end it all|commit suicide|kill me now'),
    base: 0.5,
    intent: 0.92,
    why: 'suicidal intent',
  },
  {
    detector: 'self-harm',
    re: rx(
      "(?:painless|painlessly|easiest|quickest|fastest|surest|best|quietest|peaceful) (?:way|ways|method|methods) (?:to|of) (?:die(?![-a-z])|dying|suicide|end (?:my|your|one's|a) life|kill (?:myself|yourself|oneself))|how (?:many|much) (?:[a-z0-9]+ ){0,2}(?:pills?|tablets?|capsules?|mg|milligrams|grams|paracetamol|tylenol|acetaminophen|ibuprofen|aspirin|insulin|xanax|painkillers|sleeping pills|antidepressants|meds|medication|medicine|opioids|oxy|oxycodone|morphine|fentanyl|benzos|tramadol|codeine|of (?:[a-z]+ ){0,2}?)(?:[a-z0-9']+ ){0,5}?(?:to|and|would|will|could|it takes to|does it take to) (?:die|overdose|od|kill (?:me|myself))|(?:jump|jumping) off (?:a|the) (?:bridge|building|roof|cliff) (?:to|and) die",
    ),
    base: 0.85,
    intent: 0.92,
    why: 'suicide method',
  },
  // Weapons: making or obtaining one, not mentioning one.
  {
    detector: 'weapons',
    re: rx(
      `(?:recipe|recipes|formula|ingredients|instructions|blueprints?|schematics?|plans|guide|tutorial|materials) (?:for|to make|to build|of|needed for) (?:a |an |some |the )?(?:homemade |diy |working )?${alt([...WEAPONS, ...AGENTS])}`,
    ),
    base: 0.7,
    intent: 0.95,
    why: 'weapon instructions',
  },
  {
    detector: 'weapons',
    re: rx(
      `${MAKE} ${WEAPON_ADJ}{0,3}(?<!bath |photo |seed |smoke |stink |glitter |water |cherry |calorie |fizz |chocolate |truth |love |shower )${alt(WEAPONS)}(?!-[a-z])`,
    ),
    base: 0.55,
    intent: 0.95,
    why: 'making a weapon',
  },
  {
    detector: 'weapons',
    re: rx(
      `(?:synthesi[sz]e|synthesi[sz]ing|weaponi[sz]e|weaponi[sz]ing|culture|culturing|aerosoli[sz]e|aerosoli[sz]ing|produce|producing|extract|extracting|make|making|cook|brew|refine|purify|purifying|enrich|enriching|grow|growing|spread|release|releasing|disperse) (?:[a-z]+ ){0,2}${alt(AGENTS)}`,
    ),
    base: 0.8,
    intent: 0.95,
    why: 'chemical or biological weapon',
  },
  {
    detector: 'weapons',
    re: rx(
      '(?:buy|get|obtain|purchase|order|buying|getting) (?:a |an |some )?(?:[a-z0-9-]+ )?(?:gun|guns|firearm|firearms|pistol|rifle|handgun|ar-15|ak-47|explosives?|grenades?|weapons?|ammo|ammunition) (?:[a-z]+ ){0,3}(?:without (?:a )?(?:background check|license|licence|id|paperwork|serial number|being traced|a permit)|on the dark ?web|illegally|off the books|with no (?:background check|paperwork|serial))',
    ),
    base: 0.75,
    intent: 0.95,
    why: 'acquiring a weapon illegally',
  },
  {
    detector: 'weapons',
    re: rx(
      '(?:convert|converting|make|turn|modify) (?:my |an? |the )?(?:[a-z0-9-]+ )?(?:rifle|gun|pistol|ar-15|glock|semi-auto|semi-automatic) (?:[a-z]+ )?(?:to|into) (?:a )?(?:full auto|full-auto|fully automatic|automatic|machine gun)|(?:mix|mixing|combine|combining) (?:[a-z0-9]+ ){1,5}to (?:make|create|produce|get|release) (?:a |an )?(?:explosion|explosive|toxic gas|poison gas|poisonous gas|deadly gas)',
    ),
    base: 0.6,
    intent: 0.95,
    why: 'weapon modification or improvised explosive',
  },
  // Hacking: someone else's account or device, or malicious software.
  {
    detector: 'hacking',
    re: rx(
      `(?:hack|hacking|hack into|hacking into|break into|breaking into|get into|getting into|access|accessing|log into|login to|log in to|crack|cracking|take over|hijack|hijacking|brute force|brute-force|brute forces|brute-forces|brute forcing|brute-forcing|hacks|hacks into|breaks into|cracks|bypass (?:the )?(?:2fa|two-factor|password|passcode|lock screen|pin) (?:on|of)|unlock|get (?:the )?password (?:to|of|for)|find out (?:the )?password (?:to|of|for)|guess|steal) ${OTHERS} (?:[a-z-]+ )?${alt(ACCOUNT_OBJECTS)}`,
    ),
    base: 0.45,
    intent: 0.9,
    why: "intrusion into someone else's account or device",
  },
  {
    detector: 'hacking',
    re: rx(
      `(?:hack|hacking|hack into|hacking into|break into|breaking into|get into|getting into|access|accessing|log into|crack|cracking|take over|hijack|hijacking|brute force|brute-force) (?:a |an |the )?(?:[a-z-]+ )?${alt(ACCOUNT_OBJECTS)} (?:of|belonging to|owned by|that belongs to) (?:someone|somebody|a stranger|other people|${DET} (?:[a-z-]+ )?${PERSON})`,
    ),
    base: 0.45,
    intent: 0.9,
    why: "intrusion into someone else's account or device",
  },
  {
    detector: 'hacking',
    re: rx(
      `(?:write|create|make|build|code|develop|program|generate|give me|design|making|writing|creating|building|coding|deploy|deploying|spread|spreading|distribute|install|plant|hide) (?:me )?(?:a |an |some |the |my own |working |new )?(?:[a-z0-9-]+ ){0,2}${alt(MALWARE)}(?! (?:scanner|scan|protection|removal|remover|detection|detector|definitions?|checker|test file|signature|analysis|cleaner|simulation))`,
    ),
    base: 0.55,
    intent: 0.9,
    why: 'malicious software',
  },
  {
    detector: 'hacking',
    re: rx(
      "(?:ddos|ddosing|dos|dosing|flood|flooding) (?:[a-z'-]+ ){0,2}(?:website|site|server|servers|network|stream|game server|discord server|wifi|ip|router)",
    ),
    base: 0.45,
    intent: 0.88,
    why: 'denial of service',
  },
  {
    detector: 'hacking',
    re: rx(
      `(?:take down|taking down|knock (?:[a-z]+ )?offline|crash|crashing) ${OTHERS} (?:[a-z-]+ )?(?:website|site|server|servers|network|stream|game server|discord server|wifi)`,
    ),
    base: 0.35,
    intent: 0.85,
    why: 'denial of service against others',
  },
  {
    detector: 'hacking',
    re: rx(
      "(?:steal|stealing|harvest|harvesting|grab|grabbing|skim|skimming|dump|dumping|phish|phishing for|sniff|sniffing) (?:[a-z']+ ){0,2}(?:passwords|password|credentials|login details|logins|credit card numbers|credit cards|card numbers|card details|cookies|session tokens|session cookies|identities|identity|bank details|ssns|social security numbers)",
    ),
    base: 0.4,
    intent: 0.9,
    why: 'credential or identity theft',
  },
  // Deception and fraud.
  {
    detector: 'deception',
    re: rx(
      `(?:write|create|make|generate|draft|produce|forge|give me|compose|post|print|design|writing|creating|making|generating|posting|buy|buying) (?:me |us )?(?:(?:a|an|some|several|many|multiple|a few|a bunch of|dozens of|hundreds of|[0-9]+|ten|five|twenty|fifty|hundred) )?(?:[a-z0-9-]+ ){0,2}${alt(FAKE_ADJ)} (?:[a-z0-9'-]+ ){0,2}${alt(ARTEFACTS)}`,
    ),
    base: 0.5,
    intent: 0.85,
    why: 'fabricated document or review',
  },
  {
    detector: 'deception',
    re: rx(
      `(?:write|post|generate|create|leave|writing|posting|leaving) (?:me |us )?(?:(?:a|an|some|several|many|multiple|a few|a bunch of|dozens of|[0-9]+|ten|five|twenty|fifty) )?(?:[a-z0-9-]+ ){0,2}(?:reviews?|testimonials?|ratings?) (?:[a-z]+ ){0,4}(?:pretending|posing|as if|as a (?:real |happy |satisfied )?customer|as customers|from (?:different|multiple|fake) accounts|under (?:different|fake) names|with (?:different|fake) names)`,
    ),
    base: 0.55,
    intent: 0.85,
    why: 'astroturfed reviews',
  },
  {
    detector: 'deception',
    re: rx(
      `(?:write|draft|create|make|send|generate|compose|writing|drafting|creating|sending) (?:me )?(?:a |an )?(?:[a-z]+ ){0,2}(?:email|e-mail|emails|text|texts|sms|message|messages|letter|call script|voicemail) (?:[a-z]+ ){0,2}(?:from|pretending to be|posing as|as if (?:it's |it is |it were |it was )?from|that looks like it(?:'s| is) from|impersonating|appearing to come from|in the name of) (?:the |a |an |my |your |our )?(?:[a-z-]+ )?${alt(IMPERSONATED)}`,
    ),
    base: 0.4,
    intent: 0.5,
    cue: /\b(?:click (?:the|this|a) link|verify (?:your|their|his|her) (?:account|identity|password|details)|tax refund|refund|owe|owes|overdue|gift cards?|wire|urgent|urgently|suspended|locked|login details|bank details|card details|password|pin|security code|one-time code|redelivery fee|fee|fine|arrest warrant|prize|won)\b/,
    cueScore: 0.85,
    why: 'message impersonating an organisation to extract money or credentials',
  },
  {
    detector: 'deception',
    re: rx(
      `(?:impersonat(?:e|ing)|pose as|posing as|pass (?:myself |yourself |himself |herself )?off as|passing (?:myself |yourself )?off as|masquerad(?:e|ing) as|spoof(?:ing)?) (?:a |an |the |my |his |her |their |someone's |a real )?(?:[a-z-]+ )?${alt(IMPERSONATED)}`,
    ),
    base: 0.5,
    intent: 0.85,
    why: 'impersonation',
  },
  {
    detector: 'deception',
    re: rx(
      `pretend(?:ing)? to be (?:a |an |the |my |his |her |their |someone's )?(?:[a-z-]+ )?${alt(IMPERSONATED)} (?:[a-z']+ ){0,6}(?:to get|to obtain|to access|so (?:that )?(?:they|she|he|the)|and ask (?:for|them|her|him)|to trick|to convince|to make (?:them|her|him)|on the phone|in an email|to collect)`,
    ),
    base: 0.55,
    intent: 0.85,
    why: 'impersonation to obtain something',
  },
  {
    detector: 'deception',
    re: rx(
      '(?:write|create|make|draft|design|build|send|craft|generate|set up|code|host|writing|creating|making|drafting|building|sending|crafting|run|running) (?:me )?(?:a |an |some |the )?(?:[a-z0-9-]+ ){0,2}(?:phishing|scam|spoofed|spoof|fraudulent|smishing|vishing) (?:email|emails|e-mail|page|pages|site|website|text|texts|sms|message|messages|campaign|link|links|login page|kit|script|call|calls|letter)',
    ),
    base: 0.5,
    intent: 0.88,
    why: 'phishing or scam material',
  },
  {
    detector: 'deception',
    re: rx(
      `(?:scam|scamming|defraud|defrauding|swindle|swindling|con|conning|rip off|ripping off|fleece|fleecing) (?:${PERSON_TARGET}|(?:old|elderly|vulnerable|lonely) (?:people|person|folks|ladies|men|women)|(?:the|my|an|a) (?:[a-z-]+ )?(?:insurance company|insurer|bank|irs|hmrc|government|tax office|customers?|investors?|clients?|seniors|retirees|tourists|employer|charity|company))`,
    ),
    base: 0.5,
    intent: 0.88,
    why: 'fraud against people',
    accept: personObject,
  },
  {
    detector: 'deception',
    re: rx(
      `(?:trick|tricking|fool|fooling|manipulate|manipulating|deceive|deceiving|mislead|misleading|pressure|pressuring|guilt-trip|guilt trip) ${PERSON_TARGET} (?:[a-z]+ ){0,2}(?:into|to) (?:giving|sending|paying|transferring|signing|revealing|handing|wiring|buying|investing|sharing|telling|lending|donating|loaning|leaving|believing|give|send|pay|transfer|sign|reveal|hand|wire|buy|invest|share|lend|donate)`,
    ),
    base: 0.5,
    intent: 0.88,
    why: 'manipulating someone out of money or information',
  },
  {
    detector: 'deception',
    re: rx(
      `(?:forge|forging|counterfeit|counterfeiting|falsify|falsifying|fake|faking|fabricate|fabricating|backdate|backdating|doctor|doctoring) (?:a |an |the |my |his |her |their |someone's |some |these |our )?(?:[a-z'-]+ ){0,2}${alt(FORGED)}`,
    ),
    base: 0.5,
    intent: 0.85,
    why: 'forgery or falsification',
    accept: (m) =>
      !/^doctor/.test(m[0]) || /^doctor(?:ing)? (?:the|a|my|his|her|their|these|some)/.test(m[0]),
  },
  {
    detector: 'deception',
    re: rx(
      "(?:avoid|bypass|evade|beat|fool|(?:get|sneak|slip) (?:[a-z'-]+ ){0,3}past|pass|trick|get around|circumvent|avoiding|bypassing|evading|beating|fooling) (?:the )?(?:[a-z]+ )?(?:(?:plagiarism|ai|turnitin|gptzero|copyleaks|ai-detection|ai detection|ai content) (?:detection|detector|detectors|checker|checkers|check|checks|checking|scanner|scanners)|turnitin|gptzero|copyleaks)",
    ),
    base: 0.5,
    intent: 0.85,
    why: 'evading plagiarism or authorship checks',
  },
  {
    detector: 'deception',
    re: rx(
      '(?:commit|committing) (?:insurance|tax|wire|bank|mail|benefits|welfare|credit card|identity|mortgage) fraud|(?:evade|evading|dodge|dodging|cheat on|cheating on|hide (?:my )?income from) (?:my |the )?(?:taxes|tax|irs|hmrc|tax office)|launder(?:ing)? (?:money|cash|the money|funds|proceeds|crypto)|(?:file|make|submit|filing|making|submitting) (?:a )?(?:false|fraudulent|fake) (?:insurance |tax |injury |warranty )?(?:claim|return|report)',
    ),
    base: 0.45,
    intent: 0.88,
    why: 'financial fraud',
  },
  // Consent.
  {
    detector: 'consent',
    re: rx(
      '(?:convince|convincing|persuade|persuading|get|getting|groom|grooming|trick|tricking|pressure|pressuring|manipulate|manipulating|talk|talking) (?:a |an |this |that |some |random |young )(?:[0-9]{1,2}[- ](?:year|yr)[- ]old|minor|underage (?:girl|boy|kid|teen)|child|kid|little girl|little boy|young girl|young boy|girl|boy|teen|teenager)s? (?:[a-z]+ ){0,3}(?:to|into) (?:send|sending|share|sharing|take|taking|show|showing) (?:me )?(?:[a-z]+ ){0,2}(?:pictures|photos|pics|selfies|videos?|nudes|images)|(?:convince|persuade|get|groom|trick|pressure|manipulate) (?:a |an |this |that |some |random |young )(?:[0-9]{1,2}[- ](?:year|yr)[- ]old|minor|child|kid|girl|boy|teen|teenager) (?:[a-z]+ ){0,3}(?:to|into) (?:meet|meeting) (?:me|up)',
    ),
    base: 0.85,
    intent: 0.95,
    why: 'sexual exploitation of a minor',
    accept: (m) => {
      const age = /([0-9]{1,2})[- ](?:year|yr)[- ]old/.exec(m[0]);
      return age === null || Number(age[1]) < 18;
    },
  },
  {
    detector: 'consent',
    re: rx(
      `(?:share|sharing|post|posting|upload|uploading|leak|leaking|send|sending|spread|spreading|publish|publishing|distribute|distributing|sell|selling|forward|forwarding|show|showing|put|putting|release|releasing|expose|exposing|airdrop|airdropping) (?:[a-z'-]+ ){0,4}${INTIMATE}`,
    ),
    base: 0.3,
    intent: 0.6,
    cue: SECRECY,
    cueScore: 0.92,
    why: 'sharing intimate images of someone',
    accept: (m, text) => {
      // Someone else's images: a possessive or "of her" in or right after the phrase.
      const around = text.slice(m.index, m.index + m[0].length + 30);
      return /\b(?:her|his|their|someone's|somebody's|[a-z-]+'s|of (?:her|him|them|my [a-z-]+|someone|a girl|a classmate|my ex|an ex))\b/.test(
        around,
      );
    },
  },
  {
    detector: 'consent',
    re: rx('revenge porn'),
    base: 0.3,
    intent: 0.9,
    why: 'non-consensual intimate imagery',
  },
  {
    detector: 'consent',
    re: rx(
      '(?:make|create|generate|making|creating|generating|produce) (?:a |an |some )?(?:[a-z-]+ )?(?:deepfake|deep fake|fake|ai|ai-generated|undressed|nude) (?:nudes?|porn|sex tape|sex video|naked (?:photos?|pictures?|pics|images?|video)|explicit (?:photos?|pictures?|images?|video)|nude (?:photos?|pictures?|images?)|nude) (?:of|with|using|from)|(?:undress|undressing|nudify|nudifying) (?:a |an |the |my |her |his |their |someone|photos? of)',
    ),
    base: 0.85,
    intent: 0.92,
    why: 'fabricated intimate imagery of a real person',
  },
  {
    detector: 'consent',
    re: rx(
      "(?:hide|hiding|install|installing|put|putting|place|placing|set up|setting up|plant|planting|mount|mounting) (?:a |an |some |the )?(?:hidden |secret |spy |tiny |small |pinhole |covert )?(?:camera|cameras|cam|webcam|recorder|recording device|microphone|mic|bug) (?:[a-z]+ ){0,2}(?:in|inside|into|under|behind) (?:the |my |her |his |their |our |a )?(?:[a-z'-]+ ){0,2}(?:bathroom|bedroom|shower|changing room|locker room|toilet|restroom|guest room|dorm|dorm room|room|apartment|house|car|office|airbnb)",
    ),
    base: 0.3,
    intent: 0.45,
    cue: SECRECY,
    cueScore: 0.9,
    why: 'covert recording',
  },
  {
    detector: 'consent',
    re: rx(
      `(?:secretly |covertly )?(?:track|tracking|monitor|monitoring|spy on|spying on|follow|following|watch|watching|read|reading|record|recording|film|filming|photograph|photographing|locate|locating|trace|tracing|check|checking|see|go through|going through|look through|looking through|listen to|listening to|intercept|intercepting|access|accessing|log|logging|clone|cloning|mirror|mirroring) (?:[a-z'-]+ )?(?:${OTHERS} (?:[a-z-]+ )?${TRACKABLE}|${PERSON_TARGET})`,
    ),
    base: 0.2,
    intent: 0.35,
    cue: SECRECY,
    cueScore: 0.9,
    why: 'secret surveillance of a person',
    accept: personObject,
  },
  {
    detector: 'consent',
    re: rx(`(?:stalk|stalking|dox|doxx|doxing|doxxing) ${PERSON_TARGET}`),
    base: 0.5,
    intent: 0.9,
    why: 'stalking or doxxing',
    accept: personObject,
  },
  {
    detector: 'consent',
    re: rx(
      `(?:install|installing|put|putting|hide|hiding|slip|slipping|plant|planting|attach|attaching|place|placing|sneak|sneaking|use|using|stick|sticking) (?:a |an |some |the )?(?:[a-z-]+ )?(?:spyware|stalkerware|spy app|keylogger|mspy|flexispy|tracking app|tracker app|gps tracker|tracker|tracking device|airtag|air tag|tile tracker|monitoring app|location tracker) (?:[a-z]+ ){0,2}(?:on|in|into|under|to|inside) ${OTHERS}(?: [a-z-]+)?`,
    ),
    base: 0.45,
    intent: 0.6,
    cue: SECRECY,
    cueScore: 0.92,
    why: 'covert tracking device or spyware',
  },
  {
    detector: 'consent',
    re: rx(
      `(?:find|finding|get|look up|dig up|track down|figure out|work out) (?:out )?(?:where (?:she|he|they|my ex|${DET} (?:[a-z-]+ )?${PERSON}) (?:lives|works|live|work|is staying|is living|moved|goes to school)|(?:her|his|their|someone's|(?:(?:my|the|a|his|her|their) )?[a-z-]+'s) (?:home |real |current |new |exact )?(?:address|home address|real name|location|workplace|phone number))`,
    ),
    // Looking up an address is usually innocent (a gift, a visit); it is the pursuit of someone who
    // has cut contact that matters, so without such a cue even a request stays below the flag line.
    base: 0.35,
    intent: 0.45,
    cue: SECRECY,
    cueScore: 0.9,
    why: 'locating a person',
  },
];

export interface HarmInput {
  readonly norm: Normalised;
  readonly context: DetectorContext;
  /** Only these detectors run; all when undefined. */
  readonly only?: ReadonlySet<HarmDetectorId>;
}

/** Runs the phrase rules; one hit per matched phrase, spans in the original text. */
export function detectHarm(input: HarmInput): Hit[] {
  const { norm, context, only } = input;
  const text = norm.text;
  const hits: Hit[] = [];
  const fiction = FICTION.test(text);
  const reporting = REPORTING.test(text);
  const assistant = context.role === 'assistant';
  for (const rule of RULES) {
    if (only !== undefined && !only.has(rule.detector)) continue;
    rule.re.lastIndex = 0;
    for (let m = rule.re.exec(text); m !== null; m = rule.re.exec(text)) {
      if (m[0].length === 0) {
        rule.re.lastIndex++;
        continue;
      }
      if (rule.accept !== undefined && !rule.accept(m, text)) continue;
      const start = m.index;
      const end = start + m[0].length;
      const first = m[0].split(' ')[0] ?? '';
      const f = frame({
        text,
        start,
        end,
        baseVerb: BASE_FORMS.has(first) || first === 'secretly' || first === 'covertly',
        assistant,
        permissionMatters:
          rule.detector === 'hacking' || rule.detector === 'consent' || rule.detector === 'deception',
        fiction,
        reporting,
      });
      let score = f.intent ? rule.intent : rule.base;
      const notes: string[] = [];
      if (f.intent) notes.push('asked for or intended');
      if (
        rule.cue !== undefined &&
        rule.cueScore !== undefined &&
        rule.cue.test(text.slice(...sentenceBounds(text, start, end)))
      ) {
        score = Math.max(score, rule.cueScore);
        notes.push('without consent or in secret');
      }
      if (f.evasion) {
        score = Math.max(score, f.intent ? 0.95 : rule.intent - 0.05);
        notes.push('evading detection');
      }
      if (f.mitigation < 1) {
        score *= f.mitigation;
        notes.push(f.mitigatedBy ?? 'mitigated');
      }
      const span = toOriginalSpan(norm, start, end);
      hits.push({
        detector: rule.detector,
        span,
        score: Math.round(score * 1000) / 1000,
        why: notes.length > 0 ? `${rule.why} (${notes.join('; ')})` : rule.why,
      });
    }
  }
  return hits;
}
