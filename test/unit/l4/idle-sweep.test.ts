import { describe, expect, it } from 'vitest';
import { IdleSweep, type Idler } from '../../../src/l4/idle-sweep.js';

class Conn implements Idler {
  seen: number;
  ended = false;
  constructor(private readonly sweep: IdleSweep<Conn>, readonly idleMs: number) { this.seen = sweep.now; }
  touch(): void { this.seen = this.sweep.now; }
  idleOut(): void { this.ended = true; this.sweep.live.delete(this); }
}

describe('IdleSweep', () => {
  it('ends a connection idle for idleMs plus one interval, not one stamped since', () => {
    let now = 0;
    const sweep = new IdleSweep<Conn>(() => now);
    sweep.arm(400); // every 100 ms
    try {
      const quiet = new Conn(sweep, 400);
      const busy = new Conn(sweep, 400);
      sweep.live.add(quiet).add(busy);
      for (let t = 100; t <= 400; t += 100) { now = t; sweep.sweep(); busy.touch(); }
      expect(quiet.ended).toBe(false); // 400 ms on the coarse clock: the stamp may be up to 100 ms old
      now = 500;
      sweep.sweep();
      expect(quiet.ended).toBe(true);
      expect(busy.ended).toBe(false);
      expect([...sweep.live]).toEqual([busy]);
    } finally {
      sweep.close();
    }
  });
});
