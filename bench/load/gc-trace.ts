/**
 * The live heap of a process from V8's `--trace-gc` lines on its stdout: the size after each
 * mark-compact (a full collection) is what the heap really holds, where a reading at an arbitrary
 * moment lands anywhere on the garbage sawtooth. Reading the collections the process runs anyway
 * costs it nothing; forcing them (through the inspector) pauses its event loop for 100 ms or more at
 * a 80 MB heap, long enough to trip the service's load shedder.
 *
 * A line looks like
 *   [1234:0x5d8a3c0]    52731 ms: Mark-Compact 173.8 (207.4) -> 79.6 (204.5) MB, 13.96 / 0.03 ms  …
 * (pid, isolate, ms since start, used (committed) before -> after, in MiB). Worker threads print
 * their own isolates' collections; the main isolate is the first one heard from, since it starts
 * (and collects young garbage) before any worker exists.
 */

const GC_LINE =
  /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: (Scavenge|Mark-Compact|Mark-sweep)\b.*? -> ([\d.]+) \([\d.]+\) MB/;

export interface MajorCollection {
  /** When the line was read, on the caller's clock (`performance.now()`). */
  at: number;
  /** Heap in use after the collection, MiB. */
  afterMB: number;
}

export class GcTrace {
  #main: string | undefined;
  /** Full collections of the main isolate, in order. */
  readonly major: MajorCollection[] = [];

  /**
   * Takes one line of output read at `at` (lines of other kinds are ignored); returns the
   * collection when it was a full one of the main isolate.
   */
  line(text: string, at: number): MajorCollection | undefined {
    const m = GC_LINE.exec(text);
    if (m === null) return undefined;
    const isolate = m[1] as string;
    this.#main ??= isolate;
    if (isolate !== this.#main || m[2] === 'Scavenge') return undefined;
    const c = { at, afterMB: Number(m[3]) };
    this.major.push(c);
    return c;
  }

  /** The heap after the latest full collection of the main isolate, if there was one. */
  get liveMB(): number | undefined {
    return this.major.at(-1)?.afterMB;
  }
}
