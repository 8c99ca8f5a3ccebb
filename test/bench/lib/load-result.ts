/** What every load client prints as `RESULT {...}`. */
export interface LoadResult {
  /** Completed 2xx responses per second over the measured duration. */
  reqPerSec: number;
  ok: number;
  /** Connection errors, timeouts, failed requests. */
  errors: number;
  non2xx: number;
  p50Ms: number;
  p99Ms: number;
  durationSec: number;
  /** Every response the client received, its own warm-up included (to compare with the origin's counter). */
  responses: number;
}

export function printResult(result: LoadResult): void {
  console.log(`RESULT ${JSON.stringify(result)}`);
}
