import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { degradeOnError } from '../../../src/observe/degrade.js';

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => { for (const c of cleanup.splice(0).reverse()) await c(); });

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-flush-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('the bounded flushSync of a degrading destination (pino calls it at exit)', () => {
  for (const contentMode of ['utf8', 'buffer'] as const) {
    it(`writes the buffered lines once (${contentMode} mode)`, async () => {
      const file = join(await tempDir(), 'out.log');
      const dest = pino.destination({ dest: file, sync: false, minLength: 4096, contentMode });
      await once(dest, 'ready');
      degradeOnError(dest, () => undefined);
      dest.write(contentMode === 'buffer' ? Buffer.from('first\n') as unknown as string : 'first\n');
      dest.write(contentMode === 'buffer' ? Buffer.from('second\n') as unknown as string : 'second\n');
      expect(await readFile(file, 'utf8')).toBe(''); // below minLength: still buffered
      dest.flushSync();
      dest.flushSync(); // nothing is written twice
      expect(await readFile(file, 'utf8')).toBe('first\nsecond\n');
    });
  }
  // Giving up on a reader that has gone (EPIPE) is tested end to end in forward-lifecycle.test.ts, in a child
  // process: sonic-boom's own loop is synchronous, so a regression would hang a test worker past any timeout.
});
