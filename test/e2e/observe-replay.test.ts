import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../src/core/events.js';
import type { FlowRecord } from '../../src/core/flow.js';
import { toHar } from '../../src/observe/har.js';
import { writeCurlFile } from '../../src/tui/curl.js';
import { flowEntry } from '../../src/tui/entry.js';
import { replay } from '../../src/tui/replay.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';

const run = promisify(execFile);
const LIMIT = 64;

/** An origin that keeps every request body it receives, per path (the replay must deliver the same bytes). */
let origin: Server;
let originUrl: string;
const received = new Map<string, Buffer[]>();
let proxy: TestProxy;
let dir: string;
let seq = 0;

beforeAll(async () => {
  origin = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const list = received.get(req.url ?? '') ?? [];
      list.push(Buffer.concat(chunks));
      received.set(req.url ?? '', list);
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  origin.listen(0, '127.0.0.1');
  await once(origin, 'listening');
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  proxy = await startTestProxy({ cache: { store: 'off' }, log: { headers: true, bodies: LIMIT } });
  dir = await mkdtemp(join(tmpdir(), 'portico-replay-'));
});
afterAll(async () => {
  await proxy.close(100);
  await new Promise<void>((r) => origin.close(() => r()));
});

/** POSTs a body through the proxy and returns the flow record the TUI would get. */
async function postThrough(body: Buffer, contentType: string): Promise<{ path: string; record: FlowRecord }> {
  const path = `/replay-${++seq}`;
  await new Promise<void>((resolve, reject) => {
    const p = new URL(proxy.url);
    const req = request({ host: p.hostname, port: p.port, method: 'POST', path: originUrl + path, agent: false,
      headers: { 'Content-Type': contentType, 'Content-Length': String(body.length), Connection: 'close' } }, (res) => { res.resume(); res.on('end', resolve); });
    req.on('error', reject);
    req.end(body);
  });
  const record = await waitFor(() => proxy.events.find((e): e is Extract<ProxyEvent, { type: 'flow.end' }> => e.type === 'flow.end' && e.flow.url === originUrl + path)?.flow);
  return { path, record };
}

describe('TUI replay, curl export and HAR keep request bodies (log.bodies) through a real proxy and origin', () => {
  const text = Buffer.from('{"q":"it\'s \\\\ $(touch /tmp/pwned) `x` é ✓"}\n', 'utf8');

  it('a body captured whole is replayed byte for byte', async () => {
    const { path, record } = await postThrough(text, 'application/json');
    expect(record.requestBody).toBe(text.toString('utf8'));
    const result = await replay(flowEntry(1, record), proxy.url);
    expect(result.ok).toBe(true);
    expect(result.text).toBe(`replayed POST ${originUrl}${path} with its ${text.length}-byte body: 200 (2 bytes)`);
    expect(received.get(path)?.map((b) => b.toString('utf8'))).toEqual([text.toString('utf8'), text.toString('utf8')]);
  });

  it('the curl script sends the same bytes when run by bash (through the proxy)', async () => {
    const { path, record } = await postThrough(text, 'application/json');
    const script = await writeCurlFile(dir, flowEntry(1, record), proxy.url);
    expect(await readFile(script, 'utf8')).toContain(`request body included, ${text.length} bytes`);
    await run('bash', [script], { timeout: 10_000 });
    expect(received.get(path)).toHaveLength(2);
    expect(Buffer.compare(received.get(path)![1]!, text)).toBe(0);
  });

  it('a truncated body is not resent, and replay, curl and HAR all say so', async () => {
    const big = Buffer.from(JSON.stringify({ data: 'x'.repeat(200) }));
    const { path, record } = await postThrough(big, 'application/json');
    expect(Buffer.byteLength(record.requestBody ?? '')).toBe(LIMIT);
    const note = `request body truncated: only the first ${LIMIT} of ${big.length} bytes were captured (raise log.bodies / --log-bodies)`;
    const result = await replay(flowEntry(1, record), proxy.url);
    expect(result.text).toBe(`replayed POST ${originUrl}${path}: 200 (2 bytes); sent WITHOUT a body: ${note}`);
    const script = await writeCurlFile(dir, flowEntry(1, record), proxy.url);
    expect(await readFile(script, 'utf8')).toContain(`# NOTE: ${note}`);
    await run('bash', [script], { timeout: 10_000 });
    expect(received.get(path)?.map((b) => b.length)).toEqual([big.length, 0, 0]);
    expect(toHar([record], 't').log.entries[0]?.request.postData?.comment).toBe(note);
  });

  it('a binary body is never captured; the replay says so', async () => {
    const { record } = await postThrough(Buffer.from([0, 1, 2, 255]), 'application/octet-stream');
    expect(record.requestBody).toBeUndefined();
    const result = await replay(flowEntry(1, record), proxy.url);
    expect(result.text).toContain('sent WITHOUT a body: request body of 4 bytes was not captured');
    expect(toHar([record], 't').log.entries[0]?.request.postData).toEqual({
      mimeType: 'application/octet-stream', text: '',
      comment: 'request body of 4 bytes was not captured (log.bodies / --log-bodies is off, or the body is binary or compressed)',
    });
  });
});
