import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { waitFor } from '../helpers/proxy.js';
import { makeTestPki } from '../helpers/test-pki.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'dist/main.js');
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots land here (gitignored); CI keeps them as artifacts. */
const ARTIFACTS = join(ROOT, 'test/browser/artifacts');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

const available = existsSync(CHROMIUM) && existsSync('/usr/bin/certutil');
if (!available && process.env.CI) throw new Error(`${CHROMIUM} and certutil are required under CI (.ci/run installs chromium and libnss3-tools)`);
if (!available) console.warn(`\n!!! ${CHROMIUM} or certutil missing: the browser test is SKIPPED (apt-get install chromium libnss3-tools) !!!\n`);

let dir: string;
let origin: Server;
let chain: ChildProcess;
let browser: Browser;
let page: Page;
let caPem: string;

async function startChain(config: Record<string, unknown>): Promise<{ proc: ChildProcess; proxy: string }> {
  const file = join(dir, 'chain.yaml');
  await writeFile(file, stringify(config));
  const proc = spawn(process.execPath, [MAIN, 'chain', '--config', file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { out += d.toString(); });
  await waitFor(() => /Try this:/.test(out) || (proc.exitCode !== null ? (() => { throw new Error(out); })() : undefined), 30_000);
  return { proc, proxy: /^portico forward listening on (\S+)$/m.exec(out)?.[1] ?? '' };
}

describe.runIf(available)('a real browser (headless Chromium) through the chain, Portico intercepting TLS', () => {
  let originPort = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-browser-'));
    await mkdir(ARTIFACTS, { recursive: true });
    const pki = await makeTestPki();
    origin = createServer({ key: pki.key, cert: pki.cert }, (_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end('<!doctype html><title>Local origin</title><h1 id="hello">hello over TLS</h1>');
    });
    origin.listen(0, '127.0.0.1');
    await once(origin, 'listening');
    originPort = (origin.address() as AddressInfo).port;
    const certs = join(dir, 'certs');
    await run(process.execPath, [MAIN, 'ca', 'init', '--certs', certs]);
    caPem = await readFile(join(certs, 'ca.pem'), 'utf8');
    const started = await startChain({
      forward: {
        listen: '127.0.0.1:0', certs, mitm: true, connectPorts: [443, originPort], targets: { allow: ['127.0.0.0/8'] },
        upstream: { ca: pki.caFile }, routes: [{ host: 'app.portico.test', to: 'reverse' }],
      },
      reverse: { listen: '127.0.0.1:0', pools: { app: { backends: ['demo:b1', 'demo:b2'] } }, routes: [{ host: 'app.portico.test', pool: 'app' }] },
      demoBackends: [{ id: 'b1' }, { id: 'b2' }],
      rules: { rules: [{ id: 'browser-block', action: 'block', host: 'blocked.portico.test' }] },
      log: { level: 'warn' },
    });
    chain = started.proc;
    // Chromium trusts Portico's CA through an NSS database in its (temporary) home, as a user's browser would.
    const home = join(dir, 'home');
    const nss = join(home, '.pki/nssdb');
    await mkdir(nss, { recursive: true });
    await run('certutil', ['-d', `sql:${nss}`, '-N', '--empty-password']);
    await run('certutil', ['-d', `sql:${nss}`, '-A', '-t', 'C,,', '-n', 'portico', '-i', join(certs, 'ca.pem')]);
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true, env: { ...process.env, HOME: home },
      // <-loopback> stops Chromium from bypassing the proxy for 127.0.0.1, where the test origin listens.
      args: [...FLAGS, `--proxy-server=${started.proxy}`, '--proxy-bypass-list=<-loopback>'],
    });
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    if (chain && chain.exitCode === null) {
      const exited = once(chain, 'exit');
      chain.kill('SIGTERM');
      await exited;
    }
    origin?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads a page from a local HTTPS origin, its certificate issued by Portico and trusted through NSS', async () => {
    const res = await page.goto(`https://127.0.0.1:${originPort}/`);
    expect(res?.status()).toBe(200);
    expect(await page.textContent('#hello')).toBe('hello over TLS');
    const issuer = (await res?.securityDetails())?.issuer;
    expect(issuer).toMatch(/Portico/);
  });

  it('reaches a demo backend through forward → reverse for app.portico.test', async () => {
    const res = await page.goto('http://app.portico.test/from-the-browser');
    expect(res?.status()).toBe(200);
    expect(JSON.parse(await res!.text())).toMatchObject({ url: '/from-the-browser' });
  });

  it('gets the block page for a blocked host (screenshot saved)', async () => {
    const res = await page.goto('http://blocked.portico.test/');
    expect(res?.status()).toBe(403);
    expect(await page.content()).toContain('browser-block');
    await page.screenshot({ path: join(ARTIFACTS, 'block-page.png'), fullPage: true });
  });

  it('shows the CA page at http://portico.ca/ and downloads the CA from it (screenshot saved)', async () => {
    const res = await page.goto('http://portico.ca/');
    expect(res?.status()).toBe(200);
    await page.screenshot({ path: join(ARTIFACTS, 'ca-page.png'), fullPage: true });
    const pem = await page.evaluate(async () => (await fetch('/portico-ca.pem')).text());
    const lines = (text: string): string => text.replace(/\r\n/g, '\n').trim(); // forge writes CRLF, the page LF
    expect(lines(pem)).toBe(lines(caPem));
  });
});
