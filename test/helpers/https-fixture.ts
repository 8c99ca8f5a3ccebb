import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeConfig, type PlainObject } from '../../src/config/load.js';
import { startHttpsOrigin, type Origin } from './origin.js';
import { startTestProxy, type TestProxy } from './proxy.js';
import { makeTestPki, type TestPki } from './test-pki.js';

/**
 * What the HTTPS end-to-end files share: a test PKI, an HTTPS origin signed by it, a certs folder for Portico's CA
 * and, when `rules` is given, a rules folder holding it as policy.yaml. `base` is the config every proxy of the file
 * starts from (origin CA trusted, CONNECT to the origin's port allowed, the rules folder); `close` stops the proxies
 * started through `proxy` and removes every folder.
 */
export interface HttpsFixture {
  readonly pki: TestPki;
  readonly origin: Origin;
  /** Portico's certs folder (its CA is `join(certs, 'ca.pem')` once a MITM proxy started). */
  readonly certs: string;
  readonly base: PlainObject;
  /** A proxy with `overrides` merged over `base` (as config files merge), closed by `close`. */
  proxy(overrides?: PlainObject): Promise<TestProxy>;
  close(): Promise<void>;
}

export async function httpsFixture(opts: { rules?: string; connectPorts?: readonly number[] } = {}): Promise<HttpsFixture> {
  const pki = await makeTestPki();
  const origin = await startHttpsOrigin(pki);
  const certs = await mkdtemp(join(tmpdir(), 'portico-certs-'));
  const dirs = [pki.dir, certs];
  const base: PlainObject = { connectPorts: [...(opts.connectPorts ?? []), origin.port], upstream: { ca: pki.caFile } };
  if (opts.rules !== undefined) {
    const rules = await mkdtemp(join(tmpdir(), 'portico-policy-'));
    dirs.push(rules);
    await writeFile(join(rules, 'policy.yaml'), opts.rules);
    base.policy = { rules, watch: false };
  }
  const proxies: TestProxy[] = [];
  return {
    pki, origin, certs, base,
    async proxy(overrides = {}) {
      const p = await startTestProxy(mergeConfig(base, overrides));
      proxies.push(p);
      return p;
    },
    async close() {
      for (const p of proxies.splice(0).reverse()) await p.close(100);
      await origin.close();
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    },
  };
}
