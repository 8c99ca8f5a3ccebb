import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyEvent } from '../../src/core/events.js';
import { curl } from '../helpers/curl.js';
import { startHttpOrigin, type Origin } from '../helpers/origin.js';
import { startTestProxy, waitFor, type TestProxy } from '../helpers/proxy.js';

type Reload = Extract<ProxyEvent, { type: 'config.reload' }>;

let dir: string;
let origin: Origin;
let proxy: TestProxy;

const rule = (path: string): string => `rules:\n  - id: r\n    action: block\n    host: 127.0.0.1\n    path: ${path}\n`;
const reloads = (): Reload[] => proxy.events.filter((e): e is Reload => e.type === 'config.reload');
const status = async (path: string): Promise<number> => (await curl(['-x', proxy.url, `http://127.0.0.1:${origin.port}${path}`])).status;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portico-policy-'));
  await writeFile(join(dir, 'policy.yaml'), rule('/echo/a'));
  origin = await startHttpOrigin();
  proxy = await startTestProxy({ policy: { rules: dir, reloadDebounceMs: 50 } });
});
afterAll(async () => {
  await proxy.close(100);
  await origin.close();
  await rm(dir, { recursive: true, force: true });
});

describe('policy reload', () => {
  it('picks up an edited file without a restart', async () => {
    expect(await status('/echo/a')).toBe(403);
    await writeFile(join(dir, 'policy.yaml'), rule('/echo/b'));
    await waitFor(() => reloads().some((e) => e.ok));
    expect(await status('/echo/a')).toBe(200);
    expect(await status('/echo/b')).toBe(403);
  });

  it('keeps the previous rules when a file breaks, and reports file:line', async () => {
    const before = reloads().length;
    await writeFile(join(dir, 'policy.yaml'), 'rules:\n  - id: r\n    action: block\n    hots: x\n');
    const failed = await waitFor(() => reloads().slice(before).find((e) => !e.ok));
    expect(failed.error).toContain(`${join(dir, 'policy.yaml')}:2: rules.0: Unrecognized key: "hots"`);
    expect(await status('/echo/b')).toBe(403);
    expect(await status('/echo/a')).toBe(200);
  });

  it('reloads on demand (SIGHUP) and reports the result', async () => {
    await writeFile(join(dir, 'policy.yaml'), rule('/echo/c'));
    expect(await proxy.reloadPolicy()).toBe(true);
    expect(await status('/echo/c')).toBe(403);
    expect(await status('/echo/b')).toBe(200);
  });
});

describe('policy at startup', () => {
  it('a broken file is a configuration error: the proxy does not start with half a policy', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'portico-policy-'));
    await writeFile(join(bad, 'policy.yaml'), 'rules:\n  - id: r\n    action: block\n    category: nope\n');
    await expect(startTestProxy({ policy: { rules: bad } })).rejects.toMatchObject({
      name: 'ConfigError', message: expect.stringContaining(`${join(bad, 'policy.yaml')}:4: rule r: unknown category "nope"`),
    });
    await rm(bad, { recursive: true, force: true });
  });
});
