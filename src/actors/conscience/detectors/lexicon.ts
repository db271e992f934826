/**
 * Word lists shared by the phrase detectors, and the vocabulary the normaliser uses to pick readings
 * of obfuscated words. Entries are plain lowercase words or phrases (single spaces), matched on
 * normalised text.
 */

/** A comma-separated word or phrase list (written as text so that long lists stay compact). */
export function phrases(list: string): string[] {
  return list
    .split(/[,\n]/)
    .map((w) => w.trim())
    .filter((w) => w !== '');
}

/** People named by their relation to the speaker or by role. */
export const PERSON_NOUNS = phrases(`
  neighbour, neighbor, wife, husband, boss, teacher, mom, mum, mother, dad, father, brother, sister, son,
  daughter, kid, child, children, baby, babies, friend, coworker, co-worker, colleague, roommate, flatmate,
  housemate, ex, ex-wife, ex-husband, ex-girlfriend, ex-boyfriend, girlfriend, boyfriend, partner, family,
  classmate, stepdad, stepmom, stepfather, stepmother, uncle, aunt, cousin, grandma, grandmother, grandpa,
  grandfather, landlord, tenant, employer, manager, crush, fiance, fiancee, spouse, nephew, niece, bully,
  babysitter, nanny, maid, cleaner, housekeeper, au pair, guest, intern, stepson, stepdaughter, stepsister, stepbrother,
  person, people, man, men, woman, women, girl, boy, guy, toddler, teenager, teen, student, cop, officer,
  policeman, president, senator, politician, minister, judge, witness, journalist, reporter, stranger,
  customer, patient, nurse, doctor, worker, employee, victim, human, pedestrian, protester, immigrant,
  refugee, jew, muslim, christian, crowd, wifey, hubby, parents, parent, in-laws
`);

export const ANIMAL_NOUNS = phrases(`
  dog, cat, pet, puppy, kitten, horse, animal, bird, hamster, rabbit
`);

/** Heads that make a preceding person-like word a modifier ("child process", "man page"). */
export const NON_PERSON_HEADS = phrases(`
  process, processes, thread, threads, node, nodes, element, elements, task, tasks, pid, page, pages,
  widget, window, class, container, pod, pods, job, jobs, item, items, key, row, rows, table, object,
  instance, branch, theme, file, files, directory, component, components, feelings, feeling, chances, vibe,
  mood, battery, career, reputation, grades, score, record, plants, plant, buzz, server, app, script,
  session, account, car, phone, lawn, garden, stats, character, avatar, pool, pools, queue, queues, bee,
  bees, ant, ants, mode, agent, agents, sprite
`);

/** Words after which an object pronoun is still an object ("kill him now", not "hurt her feelings"). */
export const FUNCTION_WORDS = phrases(`
  and, or, but, with, in, at, on, for, to, now, tonight, today, tomorrow, because, before, after, if, so,
  then, without, when, while, quickly, slowly, again, already, too, all, both, first, fast, dead, off, up,
  down, out, from, by, right, myself, yourself, once, there, here, slowly, silently, quietly, this, that,
  is, was, will, who, which, until, till, as, over, using, via, where
`);

/** Words the normaliser should recognise when it decodes obfuscated text. */
export const EXTRA_VOCABULARY = phrases(`
  how, to, a, i, an, the, make, made, build, do, can, my, me, you, your, best, way, ways, kill, bomb, hurt,
  harm, murder, poison, shoot, stab, hack, steal, myself, someone, somebody, want, die, suicide, explosive,
  weapon, gun, meth, pipe, nude, nudes, fake, review, scam, phishing, password, account, track, secretly,
  without, her, him, them, his, their, get, away, with, it, is, what, where, teach, tell, show, give, help,
  write, create, steps, step, guide, easiest, quickest, malware, virus, ransomware, keylogger, napalm,
  anthrax, sarin, ricin, molotov, grenade, life, end, going, gonna, wanna, need, know, knowing, caught,
  body, hide, people, person, up, off, out, and, or, of, for, in, on, at, be, so, no
`);

function wordsOf(list: readonly string[]): string[] {
  return list.flatMap((p) => p.split(/[\s-]+/)).filter((w) => /^[a-z]+$/.test(w));
}

/** Escapes a phrase list into a regex alternation, longest first (so "pipe bomb" beats "pipe"). */
export function alt(list: readonly string[]): string {
  const sorted = [...new Set(list)].sort((a, b) => b.length - a.length);
  return `(?:${sorted.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`;
}

const extraSources: string[][] = [];

/** Adds the words of phrase lists to the vocabulary (called by the detector modules at load). */
export function registerVocabulary(...lists: readonly (readonly string[])[]): void {
  for (const l of lists) extraSources.push(wordsOf(l));
}

let vocabulary: Set<string> | undefined;

/** The vocabulary built from every registered list (built once, on first use). */
export function detectorVocabulary(): ReadonlySet<string> {
  if (vocabulary === undefined) {
    vocabulary = new Set([
      ...wordsOf(PERSON_NOUNS),
      ...wordsOf(ANIMAL_NOUNS),
      ...wordsOf(EXTRA_VOCABULARY),
      ...wordsOf(FUNCTION_WORDS),
      ...extraSources.flat(),
    ]);
  }
  return vocabulary;
}
