/** The restart knobs of clusterSchema. */
export interface RestartOptions {
  readonly restartBaseMs: number;
  readonly restartMaxMs: number;
  readonly maxRestarts: number;
  readonly restartWindowMs: number;
}

export type RestartDecision = { restart: true; delayMs: number } | { restart: false; reason: string };

/**
 * Pure: whether to restart a worker that just died, given the times (ms) of earlier restarts. Restarts within the
 * window double the delay (base, 2×base, 4×base … capped at max); beyond maxRestarts in the window, give up.
 */
export function decideRestart(history: readonly number[], now: number, o: RestartOptions): RestartDecision {
  const recent = history.filter((t) => now - t < o.restartWindowMs).length;
  if (recent >= o.maxRestarts) {
    return { restart: false, reason: `${recent} restarts within ${o.restartWindowMs} ms (cluster.maxRestarts ${o.maxRestarts})` };
  }
  return { restart: true, delayMs: Math.min(o.restartMaxMs, o.restartBaseMs * 2 ** recent) };
}
