// A node's stop() may be called by a signal and by the end of a run alike; the second call waits for the first.

/** Runs `stop` once, however often it is called (a signal and the end of a run may both stop a node). */
export function once(stop: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => (stopping ??= stop());
}
