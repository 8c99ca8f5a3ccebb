import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { LineBatch } from '../../../src/observe/access-log/batch.js';

describe('LineBatch: the lines of one event-loop turn go out as one write', () => {
  it('joins a turn\'s lines with newlines and writes them once, a turn later', async () => {
    const writes: string[] = [];
    const batch = new LineBatch((d) => writes.push(d));
    batch.add('a');
    batch.add('b');
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual(['a\nb\n']);
    batch.add('c');
    await turn();
    expect(writes).toEqual(['a\nb\n', 'c\n']);
  });

  it('writes at once when maxChars are held, and flush() writes the rest (nothing twice, nothing lost)', async () => {
    const writes: string[] = [];
    const batch = new LineBatch((d) => writes.push(d), 10);
    for (const l of ['1234', '5678', '9']) batch.add(l);
    expect(writes).toEqual(['1234\n5678\n']);
    batch.flush();
    expect(writes).toEqual(['1234\n5678\n', '9\n']);
    batch.flush();
    await turn();
    expect(writes).toHaveLength(2);
  });
});
