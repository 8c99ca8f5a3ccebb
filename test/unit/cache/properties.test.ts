import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCacheControl } from '../../../src/cache/cache-control.js';
import { parseRange } from '../../../src/cache/range.js';
import { fromRecord, splitBody, toRecord } from '../../../src/cache/stores/redis-codec.js';
import { entry } from '../../conformance/cache-store.js';

describe('cache properties (fast-check)', () => {
  it('any body survives splitting into chunks and reassembly, byte for byte', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.integer({ min: 1, max: 700 }), (body, chunk) => {
      const parts = splitBody(body, chunk);
      const back = fromRecord(toRecord(entry(body), 'id', parts.length), parts);
      expect(back && Buffer.from(back.body).equals(Buffer.from(body))).toBe(true);
    }));
  });

  it('a missing or short chunk is a miss, never a wrong body', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 2, maxLength: 2000 }), fc.integer({ min: 1, max: 500 }), (body, chunk) => {
      const parts: Array<Buffer | null> = splitBody(body, chunk);
      const record = toRecord(entry(body), 'id', parts.length);
      expect(fromRecord(record, [...parts.slice(0, -1), null])).toBeUndefined();
      const last = parts[parts.length - 1] as Buffer;
      expect(fromRecord(record, [...parts.slice(0, -1), last.subarray(1)])).toBeUndefined();
    }));
  });

  it('the Cache-Control parser never throws and yields only non-negative durations', () => {
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (line) => {
      const cc = parseCacheControl([['Cache-Control', line]]);
      for (const v of [cc.maxAge, cc.sMaxage, cc.minFresh, cc.staleWhileRevalidate, cc.staleIfError]) {
        if (v !== undefined) expect(v).toBeGreaterThanOrEqual(0);
      }
    }));
  });

  it('a parsed range always lies inside the body', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 1000 }), fc.string({ maxLength: 20 }), (size, spec) => {
      const r = parseRange(`bytes=${spec}`, size);
      if (typeof r === 'object') {
        expect(r.start).toBeGreaterThanOrEqual(0);
        expect(r.end).toBeLessThan(size);
        expect(r.start).toBeLessThanOrEqual(r.end);
      }
    }));
  });
});
