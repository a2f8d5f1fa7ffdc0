// SIGTERM and SIGINT stop a running node (or replica) cleanly; a second signal while it stops exits at once. Signals
// and process.exit live here, in the CLI: src/server starts and stops nodes when told.
import type { LineLogger } from './log-line.js';

export interface Stopping {
  /** Resolves once a signal has stopped the node. */
  done: Promise<void>;
  /** Stops now (idempotent). */
  stop(reason: string): Promise<void>;
}

export function onStopSignal(log: LineLogger, stopNode: () => Promise<void>): Stopping {
  // Timers and store polling do not hold the process open; this does, for as long as the node runs.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopped: Promise<void> | undefined;
  let markDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (markDone = resolve));
  const stop = (reason: string): Promise<void> => {
    stopped ??= (async () => {
      if (reason !== 'exit') log('info', 'node stopping', { signal: reason });
      try {
        await stopNode();
      } finally {
        clearInterval(keepAlive);
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        if (reason !== 'exit') log('info', 'node stopped', {});
        markDone();
      }
    })();
    return stopped;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopped) {
      log('error', 'second signal while stopping: exiting now', { signal });
      process.exit(130);
    }
    stop(signal).catch((err: unknown) => {
      log('error', 'stopping failed', { error: err instanceof Error ? err.message : String(err) });
      process.exitCode = 1;
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { done, stop };
}
