/**
 * When the workspace cycles, as an XState statechart: `idle` while nothing waits (no candidate, no
 * broadcast queued for a subscriber), so an empty workspace sets no timers and looks idle to the
 * live Φ observer; `armed` while something waits, with one timer for the next cycle. Timers are
 * the injected actions `arm`/`disarm` (machine.provide), so the machine itself has no I/O.
 *
 * Events arrive only on changes of that condition (the first post into an empty workspace, the end
 * of a cycle), never per message.
 */
import { type ActorRefFrom, createActor, setup } from 'xstate';

type CycleEvent = { type: 'WORK' } | { type: 'CYCLED'; pending: boolean } | { type: 'STOP' };

export const cycleMachine = setup({
  types: { events: {} as CycleEvent },
  actions: {
    arm: () => undefined,
    disarm: () => undefined,
  },
  guards: {
    pending: ({ event }) => event.type === 'CYCLED' && event.pending,
  },
}).createMachine({
  id: 'workspace-cycle',
  initial: 'idle',
  states: {
    idle: {
      on: { WORK: { target: 'armed', actions: 'arm' }, STOP: 'stopped' },
    },
    armed: {
      on: {
        CYCLED: [
          { guard: 'pending', target: 'armed', reenter: true, actions: ['disarm', 'arm'] },
          { target: 'idle', actions: 'disarm' },
        ],
        STOP: { target: 'stopped', actions: 'disarm' },
      },
    },
    stopped: { type: 'final' },
  },
});

/** The cycle timer of one incarnation of the workspace. */
export class CycleTimer {
  readonly #actor: ActorRefFrom<typeof cycleMachine>;

  constructor(arm: () => void, disarm: () => void) {
    this.#actor = createActor(cycleMachine.provide({ actions: { arm, disarm } }));
    this.#actor.start();
  }

  get state(): 'idle' | 'armed' | 'stopped' {
    return this.#actor.getSnapshot().value;
  }

  /** Something waits: arms the timer if the workspace was idle. */
  work(): void {
    if (this.state === 'idle') this.#actor.send({ type: 'WORK' });
  }

  /** A cycle ran; re-arms while something still waits, else goes idle. */
  cycled(pending: boolean): void {
    if (this.state === 'armed') this.#actor.send({ type: 'CYCLED', pending });
    else if (pending) this.work();
  }

  stop(): void {
    this.#actor.send({ type: 'STOP' });
    this.#actor.stop();
  }
}
