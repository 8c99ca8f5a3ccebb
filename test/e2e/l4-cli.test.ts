import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTcpEcho, talk } from '../helpers/l4.js';
import { waitFor } from '../helpers/proxy.js';

const MAIN = join(import.meta.dirname, '../../dist/main.js');
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined); });

function run(args: string[], listeners = 1): { proc: ChildProcess; out: () => string; err: () => string; ready: Promise<string[]> } {
  const proc = spawn(process.execPath, [MAIN, 'l4', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.push(async () => { if (proc.exitCode === null) proc.kill('SIGKILL'); });
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const ready = new Promise<string[]>((resolve, reject) => {
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const urls = [...out.matchAll(/^portico l4 listening on ((?:tcp|udp):\/\/\S+)$/gm)].map((m) => m[1] as string);
      if (urls.length >= listeners) resolve(urls);
    });
    proc.once('exit', (code) => reject(new Error(`exited ${String(code)}: ${out}${err}`)));
  });
  return { proc, out: () => out, err: () => err, ready };
}

const portOf = (url: string): number => Number(new URL(url).port);

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

describe('portico l4 (CLI)', () => {
  it('prints one ready line per listener from --config, and refuses a bad config with exit 2 naming the path', async () => {
    const [b1, b2] = await Promise.all([startTcpEcho('a'), startTcpEcho('b')]);
    cleanup.push(() => b1!.close(), () => b2!.close());
    const dir = await mkdtemp(join(tmpdir(), 'portico-l4-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'l4.yaml');
    await writeFile(file, `listeners:\n  - { listen: "127.0.0.1:0", pool: a }\n  - { listen: "127.0.0.1:0", pool: b }\n`
      + `pools:\n  a: { backends: ["${b1!.address}"] }\n  b: { backends: ["${b2!.address}"] }\nlog: { level: warn }\n`);
    const p = run(['--config', file], 2);
    const urls = await p.ready;
    expect(urls).toHaveLength(2);
    expect(await talk(portOf(urls[0]!), 'x')).toBe('a:x');
    expect(await talk(portOf(urls[1]!), 'y')).toBe('b:y');
    // SIGHUP re-reads the file: listener 1 now serves pool a too, listener 0 keeps its port.
    await writeFile(file, `listeners:\n  - { listen: "127.0.0.1:0", pool: a }\npools:\n  a: { backends: ["${b2!.address}"] }\nlog: { level: warn }\n`);
    p.proc.kill('SIGHUP');
    const deadline = Date.now() + 5000;
    let answer = '';
    while (Date.now() < deadline && (answer = await talk(portOf(urls[0]!), 'z')) !== 'b:z') await new Promise((r) => setTimeout(r, 50));
    expect(answer).toBe('b:z');

    const bad = spawn(process.execPath, [MAIN, 'l4', '--backend', '127.0.0.1:1', '--balance', 'hash-cookie:x'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    bad.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    const [code] = await once(bad, 'exit');
    expect(code).toBe(2);
    expect(err).toMatch(/pools\.default\.balance: .*client IP/);
  });

  it('drains on SIGTERM: an established connection keeps working, new ones are refused, exit 0', async () => {
    const b = await startTcpEcho('b');
    cleanup.push(() => b.close());
    // A grace far beyond what the test needs: the process exits as soon as `live` ends, and a loaded machine must not
    // run out of grace (and cut `live`) before the checks below are done.
    const p = run(['--listen', '127.0.0.1:0', '--backend', b.address, '--shutdown-grace', '60000']);
    const [url] = await p.ready;
    const port = portOf(url!);
    const live = net.connect(port, '127.0.0.1');
    let got = '';
    live.setEncoding('latin1');
    live.on('data', (d: string) => { got += d; });
    live.write('one;');
    await waitFor(() => got.includes('one;'));
    p.proc.kill('SIGTERM');
    // The child closes its listener when it gets to the signal, which a busy machine delays past any fixed wait (a
    // single try after 300 ms was the old check): new connections until then are served (or reset, when the kernel
    // had completed one for the listener as it closed), then refused. A listener that stays open while draining never
    // refuses: the deadline fails it.
    let last = '';
    for (const end = Date.now() + 15_000; !/ECONNREFUSED/.test(last) && Date.now() < end;) {
      last = await talk(port, 'new').then((got) => `served: ${got}`, (err: unknown) => String(err));
      if (!/ECONNREFUSED/.test(last)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(last).toMatch(/ECONNREFUSED/);
    live.write('two;');
    await waitFor(() => got.includes('two;'));
    expect(p.proc.exitCode).toBeNull(); // still draining
    live.end();
    const [code] = await once(p.proc, 'exit');
    expect(code).toBe(0);
    expect(got).toBe('b:one;two;');
    expect(p.out()).toMatch(/"mode":"l4".*"close":"client closed"/);
  });

  it('moves 1 GiB through in constant memory (RSS growth bounded)', async () => {
    const TOTAL = 1024 ** 3;
    let received = 0;
    const sink = net.createServer((s) => { s.on('data', (d: Buffer) => { received += d.length; }); s.on('end', () => s.end()); });
    sink.listen(0, '127.0.0.1');
    await once(sink, 'listening');
    cleanup.push(() => new Promise((r) => sink.close(() => r())));
    const p = run(['--listen', '127.0.0.1:0', '--backend', `127.0.0.1:${(sink.address() as net.AddressInfo).port}`, '--log-level', 'warn']);
    const [url] = await p.ready;
    const pid = p.proc.pid!;
    const before = rssKiB(pid);
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, rssKiB(pid)); }, 50);
    const client = net.connect(portOf(url!), '127.0.0.1');
    await once(client, 'connect');
    const chunk = Buffer.alloc(256 * 1024, 7);
    const t0 = Date.now();
    for (let sent = 0; sent < TOTAL; sent += chunk.length) {
      if (!client.write(chunk)) await once(client, 'drain');
    }
    client.end();
    client.resume();
    await once(client, 'close');
    clearInterval(sampler);
    expect(received).toBe(TOTAL);
    const growthMiB = (peak - before) / 1024;
    console.log(`l4 1 GiB: ${((Date.now() - t0) / 1000).toFixed(1)} s, RSS ${Math.round(before / 1024)} MiB → peak ${Math.round(peak / 1024)} MiB`);
    expect(growthMiB).toBeLessThan(64);
  }, 180_000); // ~30 s on the shared 2-core VM under other engineers' load; a few seconds on a quiet one
});
