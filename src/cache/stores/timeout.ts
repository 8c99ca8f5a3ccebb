/** Thrown when a store operation did not settle within its budget. */
export class StoreTimeoutError extends Error {
  constructor(ms: number) {
    super(`cache store operation took longer than ${ms} ms`);
    this.name = 'StoreTimeoutError';
  }
}

/**
 * Settles with `op` or rejects after `ms`, whichever comes first; the timer is always cleared. A late rejection of
 * `op` is absorbed, so an abandoned operation never becomes an unhandled rejection.
 */
export function withTimeout<T>(op: Promise<T>, ms: number): Promise<T> {
  op.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeoutError(ms)), ms);
  });
  return Promise.race([op, timeout]).finally(() => clearTimeout(timer));
}
