/**
 * fn, to be run by the first call only: a stream's 'error', 'finish' and 'close' (or a throw and a callback) may each
 * report the same end, and the end must be handled exactly once. One closure and its flag, as a hand-written
 * `let settled = false` guard costs; the rest parameter is forwarded without an array once V8 optimises the call.
 */
export function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let called = false;
  return (...args) => {
    if (called) return;
    called = true;
    fn(...args);
  };
}
