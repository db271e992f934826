/**
 * Worker threads yield the CPU to the event loop.
 *
 * On a machine with few cores the pool's threads (Φ, prediction and recall scans), the store's writer
 * thread and the embedder all compete with the main thread, and the scheduler may run one of them for
 * a whole time slice (some milliseconds) while the event loop waits: to a client that is added
 * latency, to the runtime it looks like event-loop lag. So each worker thread lowers its own
 * scheduling priority once, as it starts: pool threads by nice +10 (JAMEY_WORKER_NICE), the store's
 * writer thread by +5 (JAMEY_WRITER_NICE: its commits acknowledge writes, so it keeps a larger
 * share); each 0 to 19, 0 leaves the thread alone.
 * Under Linux's CFS a nice 10 thread gets about a tenth of the CPU share of a nice 0 thread when both
 * want it, and all of it when the event loop is idle, so throughput is unchanged when there is no
 * contention.
 *
 * Linux only: `setpriority(PRIO_PROCESS, tid)` (what `os.setPriority` calls) changes a single thread
 * there (man 2 setpriority, "BUGS"), and /proc/thread-self names the calling thread. Elsewhere, and
 * when the call is refused, nothing changes.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { isMainThread } from 'node:worker_threads';

export const THREAD_NICE = {
  pool: { variable: 'JAMEY_WORKER_NICE', nice: 10 },
  writer: { variable: 'JAMEY_WRITER_NICE', nice: 5 },
} as const;

let done = false;

/** Lowers the calling worker thread's priority once; returns the nice value it now has, if changed. */
export function yieldToEventLoop(
  role: keyof typeof THREAD_NICE,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  if (done || isMainThread || process.platform !== 'linux') return undefined;
  done = true;
  const raw = env[THREAD_NICE[role].variable];
  const nice = raw === undefined || raw === '' ? THREAD_NICE[role].nice : Number(raw);
  if (!Number.isInteger(nice) || nice <= 0 || nice > 19) return undefined;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return undefined;
    const target = Math.min(19, getPriority(tid) + nice);
    setPriority(tid, target);
    return target;
  } catch {
    return undefined;
  }
}
