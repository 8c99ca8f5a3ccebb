import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../src/core/events.js';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';

type FlowEnd = Extract<ProxyEvent, { type: 'flow.end' }>;

const RULES = `rules:
  - id: open-path
    action: allow
    host: localhost
    path: /echo/open/**
  - id: lists
    action: block
    category: [ads, local]
  - id: trial
    action: block
    host: 127.0.0.1
    path: /echo/trial/**
    report-only: true
  - id: track
    action: anonymize strict
    query: utm_*
`;

let dir: string;
let origin: Origin;
let proxy: TestProxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-policy-'));
  await mkdir(join(dir, 'lists'));
  await writeFile(join(dir, 'policy.yaml'), RULES);
  await writeFile(join(dir, 'lists', 'ads.txt'), 'ads.example\n');
  await writeFile(join(dir, 'lists', 'local.txt'), 'localhost\n');
  origin = await startHttpOrigin();
  proxy = await startTestProxy({ policy: { rules: dir, watch: false } });
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

const flowFor = (url: string): Promise<FlowEnd> =>
  waitFor(() => proxy.events.find((e): e is FlowEnd => e.type === 'flow.end' && e.flow.url === url));

describe('policy over plain HTTP', () => {
  it('blocks a listed host with an HTML page naming rule, list, category and request id', async () => {
    const r = await curl(['-x', proxy.url, '-H', 'Accept: text/html', 'http://www.ads.example/banner']);
    expect(r.status).toBe(403);
    expect(r.headers).toMatch(/content-type: text\/html/i);
    expect(r.headers).toMatch(/x-portico-rule: lists/i);
    const flow = await flowFor('http://www.ads.example/banner');
    expect(r.body).toContain('Blocked by policy');
    expect(r.body).toContain(`${join(dir, 'lists', 'ads.txt')}:1`);
    expect(r.body).toContain(`<code>${flow.flow.id}</code>`);
    expect(flow.flow.status).toBe(403);
    expect(flow.flow.notes.policy).toMatchObject({ action: 'block', rule: 'lists', category: 'ads', source: `${join(dir, 'policy.yaml')}:6` });
    expect(origin.seen.length).toBe(0);
  });

  it('answers plain text to non-HTML clients', async () => {
    const r = await curl(['-x', proxy.url, 'http://ads.example/']);
    expect(r.status).toBe(403);
    expect(r.headers).toMatch(/content-type: text\/plain/i);
    expect(r.body).toMatch(/^403 Blocked by policy\n/);
    expect(r.body).toContain('category: ads');
  });

  it('an allow rule placed before a list wins over it', async () => {
    const open = await curl(['-x', proxy.url, `http://localhost:${origin.port}/echo/open/page`]);
    expect(open.status).toBe(200);
    const other = await curl(['-x', proxy.url, `http://localhost:${origin.port}/echo/closed`]);
    expect(other.status).toBe(403);
    expect(origin.seen.map((s) => s.url)).toEqual(['/echo/open/page']);
  });

  it('report-only logs the decision and lets the request pass', async () => {
    const url = `http://127.0.0.1:${origin.port}/echo/trial/x`;
    const r = await curl(['-x', proxy.url, url]);
    expect(r.status).toBe(200);
    expect((await flowFor(url)).flow.notes.policy).toMatchObject({ action: 'block', rule: 'trial', reportOnly: true });
  });

  it('anonymizes what the origin receives: strict by rule, standard by default', async () => {
    const headers = ['-H', 'X-Forwarded-For: 10.9.9.9', '-H', 'User-Agent: secret-agent/1', '-H', 'Referer: https://elsewhere.example/p', '-H', 'From: me@corp.example'];
    const strictUrl = `http://127.0.0.1:${origin.port}/echo/s?utm_source=mail&id=7`;
    const strict = JSON.parse((await curl(['-x', proxy.url, ...headers, strictUrl])).body) as { url: string; rawHeaders: string[] };
    expect(strict.url).toBe('/echo/s?id=7');
    const h = strict.rawHeaders.map((x) => x.toLowerCase());
    expect(h).not.toContain('x-forwarded-for');
    expect(h).not.toContain('from');
    expect(h).not.toContain('referer');
    expect(h).not.toContain('secret-agent/1');
    expect(strict.rawHeaders).toEqual(expect.arrayContaining(['DNT', '1', 'Sec-GPC', '1']));
    const flow = await flowFor(`http://127.0.0.1:${origin.port}/echo/s?id=7`);
    expect(flow.flow.notes.anonymized).toEqual(expect.arrayContaining(['removed X-Forwarded-For', 'replaced User-Agent', 'removed query parameter utm_source']));

    const standard = JSON.parse((await curl(['-x', proxy.url, ...headers, `http://127.0.0.1:${origin.port}/echo/std`])).body) as { rawHeaders: string[] };
    expect(standard.rawHeaders.map((x) => x.toLowerCase())).not.toContain('x-forwarded-for');
    expect(standard.rawHeaders).toContain('secret-agent/1');
    expect(standard.rawHeaders).toContain('https://elsewhere.example/p');
  });
});
