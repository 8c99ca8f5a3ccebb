import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RejectReason } from '../../src/core/rejections.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy } from '../helpers/proxy.js';
import { openRaw, within } from '../helpers/raw-http.js';
import { startBackend, startTestReverse, type TestBackend } from '../helpers/reverse.js';

/** Slow clients (slowloris, slow bodies, idle keep-alive) at both front doors: answered 408 or closed, counted. */

interface Door { readonly port: number; rejections(): ReadonlyMap<RejectReason, number>; close(graceMs?: number): Promise<void> }

const server = { headersTimeoutMs: 400, requestTimeoutMs: 1200, keepAliveTimeoutMs: 300 };
let origin: Origin;
let backend: TestBackend;
beforeAll(async () => {
  origin = await startHttpOrigin();
  // Answers only once the whole body arrived, like the origin's /echo.
  backend = await startBackend('b1', (req, res) => { req.resume(); req.on('end', () => res.end('done')); });
});
afterAll(async () => {
  await origin.close();
  await backend.close();
});

const doors: Array<[string, () => Promise<Door>, () => string]> = [
  ['forward', () => startTestProxy({ server }), () => `${origin.url}/echo`],
  ['reverse', () => startTestReverse({ server, pools: { default: { backends: [backend.address] } } }), () => '/x'],
];

describe.each(doors)('%s front door', (_mode, start, target) => {
  let door: Door;
  beforeAll(async () => { door = await start(); });
  afterAll(async () => door.close(100));

  it('slowloris: a head trickled byte by byte gets 408 after headersTimeoutMs and is closed', async () => {
    const before = door.rejections().get('request-timeout') ?? 0;
    const c = await openRaw(door.port);
    const head = `GET ${target()} HTTP/1.1\r\nHost: a\r\nX-Slow: `;
    c.socket.write(head);
    const drip = setInterval(() => { if (!c.closed()) c.socket.write('a'); }, 50);
    try {
      expect(await within(c.whenClosed, 5000)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(door.rejections().get('request-timeout') ?? 0).toBe(before + 1);
  });

  it('a connection that never sends a byte is closed after headersTimeoutMs', async () => {
    const c = await openRaw(door.port);
    expect(await within(c.whenClosed, 5000)).toBe(true);
  });

  it('a slow body: the head arrives, the body trickles past requestTimeoutMs → 408 (or cut) and closed', async () => {
    const c = await openRaw(door.port);
    c.socket.write(`POST ${target()} HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n`);
    const drip = setInterval(() => { if (!c.closed()) c.socket.write('b'); }, 50);
    try {
      expect(await within(c.whenClosed, 6000)).toBe(true);
    } finally {
      clearInterval(drip);
    }
    expect(c.received()).not.toMatch(/^HTTP\/1\.1 200 /);
  });

  it('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
    const c = await openRaw(door.port);
    c.socket.write(`GET ${target()} HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(await within(c.whenClosed, 4000)).toBe(true);
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
  });
});
