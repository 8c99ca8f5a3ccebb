import { Readable, Transform, pipeline } from 'node:stream';
import type { Body } from '../core/flow.js';

/**
 * Passes a response body through unchanged (with backpressure) while keeping a copy of it as long as it stays within
 * maxBytes. Past the limit the copy is dropped at once, so memory never exceeds maxBytes per response. `done` is
 * called exactly once: with the whole body when it ended normally and fitted, else with undefined (as soon as it is
 * known).
 */
export function boundedTee(body: Body, maxBytes: number, done: (body: Uint8Array | undefined) => void): Readable {
  let chunks: Buffer[] | undefined = [];
  let size = 0;
  let called = false;
  const finish = (value: Uint8Array | undefined): void => {
    if (called) return;
    called = true;
    done(value);
  };
  const tee = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      if (chunks) {
        size += chunk.length;
        if (size > maxBytes) {
          chunks = undefined;
          finish(undefined); // give up now: waiting requests need not sit out the rest of a large download
        } else {
          chunks.push(chunk);
        }
      }
      callback(null, chunk);
    },
    flush(callback) {
      finish(chunks ? Buffer.concat(chunks, size) : undefined);
      callback();
    },
  });
  const source = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
  pipeline(source, tee, (err) => {
    if (err) finish(undefined);
  });
  tee.once('close', () => finish(undefined));
  return tee;
}
