import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/load.js';
import { forwardConfigSchema } from '../../src/config/schema.js';
import type { ProxyEvent } from '../../src/core/events.js';
import { startObservers, type Observers } from '../../src/observe/observers.js';
import { until } from '../helpers/admin.js';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, startHttpsOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { openTunnel } from '../helpers/tunnel.js';

type TunnelEnd = Extract<ProxyEvent, { type: 'tunnel.end' }>;

/** `localhost` is in the trial list (report-only); `blocked.example` is blocked for real. */
const RULES = `rules:
  - { id: enforced, action: block, host: blocked.example }
  - { id: trial, action: block, category: trial, report-only: true }
`;

let pki: TestPki;
let http: Origin;
let https: Origin;
let dir: string;
let certs: string;
const running: Array<{ proxy: TestProxy; observers: Observers; admin: string }> = [];

/** A forward proxy on the rules folder with an admin endpoint (as `--admin` wires it) and its /metrics URL. */
async function start(extra: Record<string, unknown>): Promise<{ proxy: TestProxy; admin: string }> {
  const proxy = await startTestProxy({
    policy: { rules: dir, watch: false }, connectPorts: [443, http.port, https.port], upstream: { ca: pki.caFile }, ...extra,
  });
  const config = validateConfig(forwardConfigSchema, { admin: { listen: '127.0.0.1:0' }, log: { level: 'warn' } }, 'test'); // no access log
  const observers = await startObservers(proxy.bus, config, { mode: 'forward', version: 'test' });
  const admin = observers.admin?.url ?? '';
  running.push({ proxy, observers, admin });
  return { proxy, admin };
}

const scrape = async (admin: string): Promise<string> => (await fetch(`${admin}/metrics`)).text();

/** A labelled sample in a scrape (0 when absent); `labels` is the exact `{…}` text. */
function sample(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const TRIAL = '{category="trial",rule="trial"}';
const REPORT_ONLY = 'portico_policy_report_only_total';
const TUNNELS = 'portico_tunnels_total';

/** The sum of a family's samples in a scrape. */
function total(text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Scrapes until the metrics have counted every flow and tunnel the proxy has emitted so far. */
function settled(admin: string, proxy: TestProxy): Promise<string> {
  const flows = proxy.events.filter((e) => e.type === 'flow.end').length;
  const tunnels = proxy.events.filter((e) => e.type === 'tunnel.end').length;
  return until(() => scrape(admin), (text) => total(text, 'portico_requests_total') >= flows && total(text, TUNNELS) >= tunnels);
}

beforeAll(async () => {
  pki = await makeTestPki();
  http = await startHttpOrigin();
  https = await startHttpsOrigin(pki);
  dir = await mkdtemp(join(tmpdir(), 'portico-policy-metrics-'));
  certs = await mkdtemp(join(tmpdir(), 'portico-certs-'));
  await mkdir(join(dir, 'lists'));
  await writeFile(join(dir, 'policy.yaml'), RULES);
  await writeFile(join(dir, 'lists', 'trial.txt'), 'localhost\n');
});
afterAll(async () => {
  for (const r of running) {
    await r.proxy.close(100);
    await r.observers.close();
  }
  await http.close();
  await https.close();
  await rm(dir, { recursive: true, force: true });
  await rm(certs, { recursive: true, force: true });
});

describe('report-only blocks are counted in /metrics', () => {
  it('a report-only plain HTTP block passes and counts once', async () => {
    const { proxy, admin } = await start({});
    const r = await curl(['-x', proxy.url, `http://localhost:${http.port}/echo/trial`]);
    expect(r.status).toBe(200);
    await waitFor(() => proxy.events.find((e) => e.type === 'flow.end'));
    const text = await settled(admin, proxy);
    expect(text).toMatch(/^portico_requests_total\{mode="forward",status_class="2xx",cache="[a-z]+",policy="block"\} 1$/m);
    expect(sample(text, REPORT_ONLY, TRIAL)).toBe(1);
    expect(http.seen.map((s) => s.url)).toContain('/echo/trial');
  });

  it('a report-only blind CONNECT passes and counts once; an enforced CONNECT block does not count', async () => {
    const { proxy, admin } = await start({});
    const t = await openTunnel(proxy.port, `localhost:${http.port}`);
    expect(t.status).toBe(200);
    t.socket.destroy();
    const ev = await waitFor(() => proxy.events.find((e): e is TunnelEnd => e.type === 'tunnel.end' && e.target === `localhost:${http.port}`));
    expect(ev.policy).toMatchObject({ action: 'block', rule: 'trial', category: 'trial', reportOnly: true });
    const refused = await openTunnel(proxy.port, 'blocked.example:443');
    expect(refused.status).toBe(403);
    const blocked = await waitFor(() => proxy.events.find((e): e is TunnelEnd => e.type === 'tunnel.end' && e.target === 'blocked.example:443'));
    expect(blocked.policy).toMatchObject({ action: 'block', rule: 'enforced' });
    expect(blocked.policy?.reportOnly).toBeUndefined();
    const text = await settled(admin, proxy);
    expect(total(text, TUNNELS)).toBe(2);
    expect(sample(text, REPORT_ONLY, TRIAL)).toBe(1);
    expect(text).not.toMatch(/^portico_policy_report_only_total\{[^}]*rule="enforced"/m);
  });

  it('an intercepted report-only request counts once: its CONNECT is not counted again', async () => {
    const { proxy, admin } = await start({ certs, mitm: { enabled: true } });
    const r = await curl(['-x', proxy.url, '--cacert', join(certs, 'ca.pem'), `https://localhost:${https.port}/echo/trial`]);
    expect(r.status).toBe(200);
    const tunnel = await waitFor(() => proxy.events.find((e): e is TunnelEnd => e.type === 'tunnel.end' && e.target === `localhost:${https.port}`));
    expect(tunnel.intercepted).toBe(true);
    const text = await settled(admin, proxy);
    expect(total(text, TUNNELS)).toBe(1);
    expect(sample(text, REPORT_ONLY, TRIAL)).toBe(1);
    expect(text).toMatch(/^portico_requests_total\{mode="forward",status_class="2xx",cache="[a-z]+",policy="block"\} 1$/m);
  });
});
