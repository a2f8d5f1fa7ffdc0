// Leader election, backend-neutral: replicas sharing one store campaign; the one elected runs the controllers until
// its term ends, and every write of its term goes through a fenced State that the store refuses once the term is over,
// so a deposed leader that has not noticed yet (paused, partitioned) cannot write twice what its successor writes.
import { UnavailableError } from './errors.js';
import type { State } from './state.js';

export interface LeaderTerm {
  /** Who holds it and which term, e.g. `replica-a (term 42)`. */
  readonly holder: string;
  /** The store as this term may write it: writes fail with FencedWriteError once the term has ended. */
  readonly state: State;
  /** Resolves (with the reason) when the term ends: lease lost, key deleted, or resigned. */
  readonly ended: Promise<string>;
  /** Gives the term up now (on shutdown), so another replica takes over at once instead of after the lease TTL. */
  resign(): Promise<void>;
}

export interface LeaderElector {
  /** Resolves once this replica is elected; rejects with the signal's reason when aborted. Retries store failures. */
  campaign(signal: AbortSignal): Promise<LeaderTerm>;
}

/** A write refused because the leadership term it was made under has ended. */
export class FencedWriteError extends UnavailableError {
  constructor(readonly holder: string) {
    super(`${holder} is no longer the leader: its write was refused so that only the current leader writes; the new leader redoes the work`);
  }
}

export interface LeaderLoopOptions {
  elector: LeaderElector;
  /** Starts the work of one term (e.g. a Runtime over term.state) and returns how to stop it. */
  lead(term: LeaderTerm): Promise<() => Promise<void>>;
  /** Told about each change of leadership, for logs. */
  onChange?(event: 'elected' | 'deposed', holder: string, reason?: string): void;
}

/**
 * Campaigns, leads while elected, and campaigns again when the term ends, until `stop` is called. At most one
 * term's work runs in this process at a time, and it is stopped before the next campaign starts. `done` settles when
 * the loop ends: after stop(), or rejected by an error the elector does not retry.
 */
export function runWhileLeader(options: LeaderLoopOptions): { stop(): Promise<void>; done: Promise<void> } {
  const abort = new AbortController();
  const aborted = new Promise<string>((resolve) => abort.signal.addEventListener('abort', () => resolve('stopping'), { once: true }));
  const done = (async () => {
    while (!abort.signal.aborted) {
      let term: LeaderTerm;
      try {
        term = await options.elector.campaign(abort.signal);
      } catch (err) {
        if (abort.signal.aborted) return;
        throw err;
      }
      options.onChange?.('elected', term.holder);
      let reason: string;
      try {
        const stopWork = await options.lead(term);
        reason = await Promise.race([term.ended, aborted]);
        await stopWork();
      } catch (err) {
        // The work could not start (the store went away meanwhile): give the term up so another replica may lead.
        reason = `could not lead: ${err instanceof Error ? err.message : String(err)}`;
      }
      await term.resign().catch(() => undefined);
      options.onChange?.('deposed', term.holder, reason);
    }
  })();
  // Whoever awaits `done` sees a failure; nobody awaiting it must not crash the process with an unhandled rejection.
  done.catch(() => undefined);
  return {
    done,
    async stop() {
      abort.abort(new Error('leader loop stopped'));
      await done;
    },
  };
}
