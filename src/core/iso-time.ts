/**
 * `new Date(ms).toISOString()` by arithmetic: V8 formats dates through snprintf, ~8k instructions per call, and every
 * flow record carries its start time (toRecord). This is ~1k. Civil date from days since the epoch after Howard
 * Hinnant's `civil_from_days`; outside years 1000-9999 (and for NaN) it hands over to toISOString itself.
 */
export function isoTime(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (!(year >= 1000 && year <= 9999)) return new Date(ms).toISOString();
  let t = ms - days * DAY_MS;
  const milli = t % 1000;
  t = (t - milli) / 1000;
  const sec = t % 60;
  t = (t - sec) / 60;
  const min = t % 60;
  const hour = (t - min) / 60;
  return `${year}-${two(month)}-${two(day)}T${two(hour)}:${two(min)}:${two(sec)}.${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

const DAY_MS = 86_400_000;

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
