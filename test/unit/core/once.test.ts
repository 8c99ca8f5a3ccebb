import { describe, expect, it } from 'vitest';
import { once } from '../../../src/core/once.js';

describe('once', () => {
  it('runs fn on the first call only, with that call\'s arguments', () => {
    const seen: Array<Error | undefined> = [];
    const settle = once((err?: Error) => { seen.push(err); });
    const first = new Error('first');
    settle(first);
    settle();
    settle(new Error('second'));
    expect(seen).toEqual([first]);
  });

  it('counts a call that threw as the one call', () => {
    let calls = 0;
    const end = once(() => { calls++; throw new Error('boom'); });
    expect(() => end()).toThrow('boom');
    end();
    expect(calls).toBe(1);
  });

  it('keeps one guard per wrapper', () => {
    let calls = 0;
    const fn = (): void => { calls++; };
    const a = once(fn);
    const b = once(fn);
    a(); a(); b(); b();
    expect(calls).toBe(2);
  });
});
