import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reverseConfigSchema } from '../../../src/reverse/config.js';
import { explainRouteStages } from '../../../src/reverse/route-explain.js';
import { makeFlow } from '../../helpers/make-flow.js';

const clock = { now: () => Date.parse('2026-11-27T12:00:00Z'), monotonic: () => 0 };

/** A rules folder with one list whose lines detection reads as a hosts file. */
async function rulesDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-route-formats-'));
  await mkdir(join(dir, 'lists'));
  await writeFile(join(dir, 'lists', 'bad.txt'), '0.0.0.0 evil.example\n');
  await writeFile(join(dir, 'policy.yaml'), 'rules:\n  - id: no-bad\n    action: block\n    category: bad\n');
  return dir;
}

function route(policy: Record<string, unknown>): ReturnType<typeof reverseConfigSchema.parse>['routes'][number] {
  const config = reverseConfigSchema.parse({
    pools: { default: { backends: ['127.0.0.1:9'] } },
    routes: [{ id: 'r', pool: 'default', policy }],
  });
  return config.routes[0] as ReturnType<typeof reverseConfigSchema.parse>['routes'][number];
}

describe('a reverse route\'s policy honours policy.listFormats, as the forward mode does', () => {
  it('detects the list when no format is named, and parses it as named otherwise', async () => {
    const dir = await rulesDir();
    const flow = makeFlow({ url: 'http://evil.example/' });
    const detected = (await explainRouteStages(route({ rules: dir }), flow, clock)).map((l) => l.join(' ')).join('\n');
    expect(detected).toMatch(/block by rule no-bad .* host evil\.example is in category bad/);
    const named = (await explainRouteStages(route({ rules: dir, listFormats: { 'bad.txt': 'domains' } }), flow, clock))
      .map((l) => l.join(' ')).join('\n');
    // Read as a plain domain list, "0.0.0.0 evil.example" is not a domain: the load fails naming the file and line.
    expect(named).toMatch(/cannot be loaded: .*bad\.txt:1: not a domain name/);
  });
});
