import { describe, expect, it } from 'vitest';
import { inWindow, parseTimeWindow, zonedClock } from '../../../src/policy/time-window.js';

const t = (weekday: number, hhmm: string): { weekday: number; minutes: number } => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return { weekday, minutes: h * 60 + m };
};

describe('time windows', () => {
  it.each([
    ['weekdays 09:00-17:00', t(3, '09:00'), true],
    ['weekdays 09:00-17:00', t(3, '17:00'), false],
    ['weekdays 09:00-17:00', t(6, '10:00'), false],
    ['weekends', t(0, '23:59'), true],
    ['mon-wed 12:00-13:00', t(2, '12:30'), true],
    ['fri-mon', t(0, '08:00'), true],
    ['fri-mon', t(3, '08:00'), false],
    ['sat,sun 10:00-12:00', t(6, '11:00'), true],
    ['daily 22:00-06:00', t(4, '23:00'), true],
    ['daily 22:00-06:00', t(4, '05:59'), true],
    ['daily 22:00-06:00', t(4, '06:00'), false],
    ['fri 22:00-02:00', t(6, '01:00'), true],
    ['fri 22:00-02:00', t(5, '01:00'), false],
    ['12:00-13:00', t(1, '12:00'), true],
  ])('%s at %j → %s', (text, time, expected) => {
    expect(inWindow(parseTimeWindow(text), time)).toBe(expected);
  });

  it.each(['someday 09:00-10:00', 'weekdays 9-17', 'weekdays 10:00-10:00', 'mon 25:00-26:00', 'a b c'])('rejects %j', (text) => {
    expect(() => parseTimeWindow(text)).toThrow(/bad time window/);
  });

  it('reads local time in the configured zone, DST included', () => {
    const berlin = zonedClock('Europe/Berlin');
    expect(berlin(Date.UTC(2024, 0, 3, 8, 30))).toEqual({ weekday: 3, minutes: 9 * 60 + 30 }); // CET, UTC+1
    expect(berlin(Date.UTC(2024, 6, 3, 8, 30))).toEqual({ weekday: 3, minutes: 10 * 60 + 30 }); // CEST, UTC+2
    expect(zonedClock('UTC')(Date.UTC(2024, 5, 9, 23, 59))).toEqual({ weekday: 0, minutes: 23 * 60 + 59 });
    expect(() => zonedClock('Mars/Olympus')).toThrow(RangeError);
  });

  it('keeps the answer for a minute, and only for that minute (DST switch, clock going back)', () => {
    const berlin = zonedClock('Europe/Berlin');
    // 2024-03-31 01:00 UTC: 02:00 CET becomes 03:00 CEST.
    const before = Date.UTC(2024, 2, 31, 0, 59, 30);
    expect(berlin(before)).toEqual({ weekday: 0, minutes: 60 + 59 });
    expect(berlin(before + 29_000)).toEqual({ weekday: 0, minutes: 60 + 59 }); // same minute: the kept answer
    expect(berlin(before + 30_000)).toEqual({ weekday: 0, minutes: 3 * 60 }); // next minute, after the switch
    expect(berlin(before)).toEqual({ weekday: 0, minutes: 60 + 59 }); // an earlier minute is computed again
    expect(berlin(Date.UTC(2024, 2, 31, 22, 0, 1))).toEqual({ weekday: 1, minutes: 0 }); // midnight: the next day
  });
});
