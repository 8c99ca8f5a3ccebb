import pino from 'pino';
import { validateConfig, mergeConfig, type PlainObject } from '../../src/config/load.js';
import { forwardConfigSchema } from '../../src/config/schema.js';
import { startForward, type ForwardProxy } from '../../src/forward/server.js';
import type { ProxyEvent } from '../../src/core/events.js';

export interface TestProxy extends ForwardProxy {
  /** Every event seen so far (flows and tunnels), for assertions. */
  readonly events: ProxyEvent[];
}

/** An in-process forward proxy on an ephemeral port that may reach loopback origins; logs silenced. */
export async function startTestProxy(overrides: PlainObject = {}): Promise<TestProxy> {
  const base: PlainObject = { listen: '127.0.0.1:0', targets: { allow: ['127.0.0.0/8', '::1/128'] } };
  const config = validateConfig(forwardConfigSchema, mergeConfig(base, overrides), 'test');
  const proxy = await startForward(config, { log: pino({ level: process.env.PORTICO_TEST_LOG ?? 'silent' }) });
  const events: ProxyEvent[] = [];
  proxy.bus.subscribe((e) => events.push(e));
  return Object.assign(proxy, { events });
}

/** Waits until a predicate over the collected events holds (events arrive asynchronously). */
export async function waitFor<T>(fn: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    // An async predicate would "succeed" at once with its pending promise: refuse it loudly (use `eventually`).
    if (v instanceof Promise) throw new Error('waitFor takes a synchronous predicate; use eventually() from raw-http.ts');
    if (v !== undefined && v !== false) return v;
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}
