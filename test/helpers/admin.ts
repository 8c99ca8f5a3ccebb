/** Readings of a running Portico's admin endpoint, for end-to-end tests of --admin. */

/** An unlabelled sample of a Prometheus metric on GET /metrics, or undefined when it is absent. */
export async function metric(admin: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Polls an async reading until it satisfies `ok` or timeoutMs passes, and returns the last reading (the caller's
 * expect() then fails with the value it saw). For state that reaches --workers processes asynchronously.
 */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() - start > timeoutMs) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
