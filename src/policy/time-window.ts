/** A local time in the policy's zone: weekday 0 = Sunday, minutes since midnight. */
export interface ZonedTime { readonly weekday: number; readonly minutes: number }

/** One `days HH:MM-HH:MM` window; `from > to` runs past midnight into the next day. */
export interface TimeWindow {
  readonly text: string;
  readonly days: number; // bit mask, bit 0 = Sunday
  readonly from: number;
  readonly to: number;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const ALL_DAYS = 0b1111111;
const DAY_SETS: Record<string, number> = { weekdays: 0b0111110, weekends: 0b1000001, daily: ALL_DAYS, everyday: ALL_DAYS };
const RANGE = /^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$/;

/** `weekdays 09:00-17:00`, `mon-fri 12:00-13:00`, `sat,sun`, `daily 22:00-06:00`, `12:00-13:00`; throws on bad text. */
export function parseTimeWindow(text: string): TimeWindow {
  const parts = text.trim().toLowerCase().split(/\s+/);
  let days = ALL_DAYS;
  let from = 0;
  let to = 24 * 60;
  const last = parts[parts.length - 1] ?? '';
  const range = RANGE.exec(last);
  if (range) {
    parts.pop();
    from = minutes(range[1], range[2], text);
    to = minutes(range[3], range[4], text);
  }
  if (parts.length > 1) throw new Error(`bad time window "${text}": expected "DAYS HH:MM-HH:MM"`);
  if (parts.length === 1) days = parseDays(parts[0] as string, text);
  if (from === to) throw new Error(`bad time window "${text}": empty range`);
  return { text, days, from, to };
}

function minutes(h: string | undefined, m: string | undefined, text: string): number {
  const value = Number(h) * 60 + Number(m);
  if (Number(m) > 59 || value > 24 * 60) throw new Error(`bad time window "${text}": no such time`);
  return value;
}

function parseDays(spec: string, text: string): number {
  const named = Object.hasOwn(DAY_SETS, spec) ? DAY_SETS[spec] : undefined; // "constructor" is not a day set
  if (named !== undefined) return named;
  let mask = 0;
  for (const item of spec.split(',')) {
    const [a, b] = item.split('-');
    const start = DAY_NAMES.indexOf((a ?? '').slice(0, 3));
    const end = b === undefined ? start : DAY_NAMES.indexOf(b.slice(0, 3));
    if (start < 0 || end < 0) throw new Error(`bad time window "${text}": unknown day "${item}" (mon…sun, weekdays, weekends, daily)`);
    for (let d = start; ; d = (d + 1) % 7) {
      mask |= 1 << d;
      if (d === end) break;
    }
  }
  return mask;
}

/** Pure: is this local time inside the window? */
export function inWindow(w: TimeWindow, t: ZonedTime): boolean {
  const today = (w.days & (1 << t.weekday)) !== 0;
  if (w.from < w.to) return today && t.minutes >= w.from && t.minutes < w.to;
  const yesterday = (w.days & (1 << ((t.weekday + 6) % 7))) !== 0;
  return (today && t.minutes >= w.from) || (yesterday && t.minutes < w.to);
}

const WEEKDAY: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** One formatter per policy (creating it is the slow part); throws RangeError on an unknown time zone. */
export function zonedClock(timeZone: string): (at: number) => ZonedTime {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  // formatToParts costs microseconds and every request with a time-window rule asks: the answer holds for the whole
  // minute (time-zone offsets change on whole minutes), so the last one is kept.
  let lastMinute = Number.NaN;
  let last: ZonedTime = { weekday: 0, minutes: 0 };
  return (at) => {
    const minute = Math.floor(at / 60_000);
    if (minute === lastMinute) return last;
    let weekday = 0;
    let h = 0;
    let m = 0;
    for (const p of fmt.formatToParts(at)) {
      if (p.type === 'weekday') weekday = WEEKDAY[p.value] ?? 0;
      else if (p.type === 'hour') h = Number(p.value);
      else if (p.type === 'minute') m = Number(p.value);
    }
    lastMinute = minute;
    last = { weekday, minutes: h * 60 + m };
    return last;
  };
}
