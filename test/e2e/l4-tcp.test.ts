import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { encodeV1, parseProxyHeader } from '../../src/l4/proxy-protocol.js';
import { l4Fixtures, proxyV2Loopback, sendAndClose, talk, type TcpEcho } from '../helpers/l4.js';

const { backends, l4, onCleanup } = l4Fixtures();

const single = (bs: TcpEcho[], pool: Record<string, unknown> = {}, listener: Record<string, unknown> = {}): Record<string, unknown> => ({
  listeners: [{ listen: '127.0.0.1:0', pool: 'p', ...listener }],
  pools: { p: { backends: bs.map((b) => b.address), ...pool } },
});

describe('portico l4 over TCP', () => {
  it('balances connections round robin, forwards bytes both ways, and emits one l4 flow per connection', async () => {
    const bs = await backends('b1', 'b2');
    const x = await l4(single(bs));
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) answers.push(await talk(x.port(), `hello${i}`));
    expect(answers).toEqual(['b1:hello0', 'b2:hello1', 'b1:hello2', 'b2:hello3']);
    const flows = await x.waitFlows(4);
    expect(flows[0]).toMatchObject({
      mode: 'l4', method: 'TCP', url: `tcp://${bs[0]!.address}`, bytesIn: 6, bytesOut: 9,
      notes: { pool: 'p', backend: bs[0]!.address, attempts: 1 },
    });
    expect(flows[0]!.client).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(['client closed', 'backend closed']).toContain(flows[0]!.notes.close);
    expect(flows[0]!.timings.total).toBeGreaterThan(0);
    expect(x.lb.snapshot()[0]).toMatchObject({ name: 'p', kind: 'l4', backends: [{ id: bs[0]!.address, connections: 2, active: 0 }, { connections: 2 }] });
  });

  it('keeps a client IP on one backend with the stick table', async () => {
    const bs = await backends('b1', 'b2', 'b3');
    const x = await l4(single(bs, { stick: { ttlMs: 60_000 } }));
    const answers = new Set<string>();
    for (let i = 0; i < 5; i++) answers.add((await talk(x.port(), 'x')).split(':')[0]!);
    expect(answers.size).toBe(1);
    const flows = await x.waitFlows(5);
    expect(flows[4]!.notes.pick).toMatch(/^stick table: /);
    expect(x.lb.snapshot()[0]).toMatchObject({ stickEntries: 1 });
  });

  it('retries a failed connect on another backend before the client sees anything, and checks mark the dead one down', async () => {
    const bs = await backends('b1', 'b2');
    const x = await l4(single(bs, { health: { intervalMs: 50, timeoutMs: 200, fall: 2, jitter: 0 } }));
    expect(await talk(x.port(), 'a')).toBe('b1:a');
    await bs[1]!.close(); // b2 dies
    for (let i = 0; i < 4; i++) expect(await talk(x.port(), `r${i}`)).toBe(`b1:r${i}`);
    const flows = await x.waitFlows(5);
    const retried = flows.find((f) => f.notes.attempts === 2);
    expect(retried?.notes.pick).toMatch(new RegExp(`after ${bs[1]!.address.replace(/\./g, '\\.')} ECONNREFUSED`));
    const down = (): boolean => x.events.some((e) => e.type === 'backend.health' && e.state === 'down' && e.backend === bs[1]!.address);
    const deadline = Date.now() + 3000;
    while (!down() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(['down', 'ejected']).toContain((x.lb.snapshot()[0] as { backends: Array<{ state: string }> }).backends[1]?.state);
    expect(x.events.some((e) => e.type === 'backend.health' && e.state === 'down' && e.backend === bs[1]!.address)).toBe(true);
  });

  it('closes the client with a NO_HEALTHY_BACKEND / CONNECT_REFUSED flow when every backend is gone', async () => {
    // Ports 1 and 2 (tcpmux, privileged): nothing listens there, while a just-freed ephemeral port may be reused by
    // another test on this shared machine.
    const x = await l4({ listeners: [{ listen: '127.0.0.1:0', pool: 'p' }], pools: { p: { backends: ['127.0.0.1:1', '127.0.0.1:2'] } } });
    expect(await talk(x.port(), 'x')).toBe('');
    const [f] = await x.waitFlows(1);
    expect(f?.error?.code).toBe('NO_HEALTHY_BACKEND');
    expect(f?.error?.message).toMatch(/tried 127\.0\.0\.1:1 ECONNREFUSED, 127\.0\.0\.1:2 ECONNREFUSED/);
    expect(f?.notes.close).toBe('connect failed');
  });

  it('sends PROXY v1 and v2 headers that a backend reads byte for byte before the client bytes', async () => {
    for (const version of ['v1', 'v2'] as const) {
      const [b] = await backends('pp');
      const x = await l4(single([b!], { proxyProtocol: version }));
      const clientPort = await sendAndClose(x.port(), 'payload');
      await x.waitFlows(1);
      const got = b!.firstBytes[0]!;
      const expected = version === 'v1'
        ? Buffer.from(`PROXY TCP4 127.0.0.1 127.0.0.1 ${clientPort} ${x.port()}\r\n`)
        : proxyV2Loopback(clientPort, x.port());
      expect(got.subarray(0, expected.length).toString('hex')).toBe(expected.toString('hex'));
      const all = Buffer.concat(b!.firstBytes);
      expect(all.subarray(expected.length).toString()).toBe('payload');
    }
  });

  it('takes the client address from a trusted downstream PROXY header and passes it on', async () => {
    const [b] = await backends('pp');
    const x = await l4(single([b!], { proxyProtocol: 'v1', stick: { ttlMs: 60_000 } }, { acceptProxyProtocol: { trusted: ['127.0.0.0/8'] } }));
    const header = encodeV1({ source: { ip: '203.0.113.9', port: 4444 }, destination: { ip: '198.51.100.1', port: 443 }, transport: 'stream' });
    // The echo backend sends back what it got: Portico's own PROXY header (with the real client), then the payload.
    expect(await talk(x.port(), Buffer.concat([header, Buffer.from('hi')]))).toBe('pp:PROXY TCP4 203.0.113.9 198.51.100.1 4444 443\r\nhi');
    const [f] = await x.waitFlows(1);
    expect(f?.client).toBe('203.0.113.9:4444');
    const forwarded = parseProxyHeader(Buffer.concat(b!.firstBytes));
    expect(forwarded).toMatchObject({ kind: 'ok', addresses: { source: { ip: '203.0.113.9', port: 4444 }, destination: { ip: '198.51.100.1', port: 443 } } });
    // A trusted peer that sends no valid header is refused, not forwarded.
    expect(await talk(x.port(), 'GET / HTTP/1.1\r\n\r\n')).toBe('');
    const flows = await x.waitFlows(2);
    expect(flows[1]).toMatchObject({ error: { code: 'BAD_REQUEST' }, notes: { close: 'bad preface' } });
  });

  it('enforces the listener cap and the idle timeout', async () => {
    const bs = await backends('b1');
    const x = await l4(single(bs, {}, { maxConnections: 1, idleTimeoutMs: 200 }));
    const first = net.connect(x.port(), '127.0.0.1');
    first.on('data', () => undefined);
    await once(first, 'connect');
    await new Promise((r) => setTimeout(r, 50));
    expect(await talk(x.port(), 'second')).toBe(''); // refused at accept: the cap is 1
    await once(first, 'close'); // closed by the idle timeout
    const flows = await x.waitFlows(1);
    expect(flows[0]?.notes.close).toBe('idle timeout');
  });

  it('reload: new connections use the new pool, an established one keeps its backend', async () => {
    const [old, fresh] = await backends('old', 'new');
    const cfg = (addr: string): Record<string, unknown> => ({ listeners: [{ listen: '127.0.0.1:0', pool: 'p' }], pools: { p: { backends: [addr] } } });
    const x = await l4(cfg(old!.address));
    const port = x.port();
    const live = net.connect(port, '127.0.0.1');
    let got = '';
    live.setEncoding('latin1');
    live.on('data', (d: string) => { got += d; });
    live.write('before;');
    while (!got.includes('before;')) await new Promise((r) => setTimeout(r, 10));
    const { validateConfig } = await import('../../src/config/load.js');
    const { l4ConfigSchema } = await import('../../src/l4/config.js');
    const next = validateConfig(l4ConfigSchema, { listeners: [{ listen: `127.0.0.1:0`, pool: 'p' }], pools: { p: { backends: [fresh!.address] } } }, 'reload');
    await x.lb.reload(next);
    expect(x.port()).toBe(port);
    expect(await talk(port, 'x')).toBe('new:x');
    live.end('after');
    await once(live, 'close');
    expect(got).toBe('old:before;after');
  });

  it('delivers a backend stream byte for byte to a client that reads in fits and starts (reused read buffers, backpressure)', async () => {
    const data = randomBytes(16 * 1024 * 1024);
    const sent = createHash('sha256').update(data).digest('hex');
    const server = net.createServer((s) => {
      s.on('error', () => undefined);
      void (async () => {
        // Pieces of 1 byte to 12 KiB: Portico's reads are small too, and a small write to the stalled client queues
        // while write() still says "more" (below its high-water mark): its read buffer must not be reused then.
        for (let off = 0; off < data.length;) {
          const n = 1 + Math.floor(Math.random() * 12_000);
          const more = s.write(data.subarray(off, off + n));
          off += n;
          if (!more) await once(s, 'drain');
          else await new Promise((r) => setImmediate(r)); // one piece per turn: Portico reads them one by one
        }
        s.end();
      })().catch(() => s.destroy()); // a pre-connected socket that Portico closes unread resets its stream here
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onCleanup(() => new Promise((r) => server.close(() => r())));
    const x = await l4({ listeners: [{ listen: '127.0.0.1:0', pool: 'p' }], pools: { p: { backends: [`127.0.0.1:${(server.address() as net.AddressInfo).port}`] } } });
    const client = net.connect(x.port(), '127.0.0.1');
    const hash = createHash('sha256');
    let got = 0;
    let nextStall = 512 * 1024;
    client.on('data', (d: Buffer) => {
      hash.update(d);
      got += d.length;
      if (got >= nextStall) { // stall now and then: Portico's writes to the client queue up and its backend reads stop
        nextStall += 1024 * 1024 + Math.floor(Math.random() * 1024 * 1024);
        client.pause();
        setTimeout(() => client.resume(), 100 + Math.floor(Math.random() * 50)); // long enough to fill the kernel buffers
      }
    });
    await once(client, 'close');
    expect(got).toBe(data.length);
    expect(hash.digest('hex')).toBe(sent);
    const [f] = await x.waitFlows(1);
    expect(f).toMatchObject({ bytesOut: data.length, notes: { close: 'backend closed' } });
  }, 60_000);
});
