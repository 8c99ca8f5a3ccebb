import { describe, expect, it } from 'vitest';
import { SseReader, droppedFrame, sseFrame } from '../../../src/observe/sse.js';
import { record } from './records.js';

/** A socket that accepts `capacity` writes, then reports back-pressure until drain() is called. */
class StalledSink {
  written: string[] = [];
  private waiters: Array<() => void> = [];
  constructor(public capacity: number) {}
  write(chunk: string): boolean {
    this.written.push(chunk);
    return this.written.length < this.capacity;
  }
  once(_e: 'drain', fn: () => void): void {
    this.waiters.push(fn);
  }
  drain(more: number): void {
    this.capacity = this.written.length + more;
    for (const w of this.waiters.splice(0)) w();
  }
  get pending(): number {
    return this.waiters.length;
  }
}

const frame = (i: number): string => sseFrame({ type: 'flow.end', flow: record({ id: `f${i}` }) }) as string;

describe('SSE frames', () => {
  it('names flow, tunnel and health events and skips others', () => {
    expect(frame(1)).toMatch(/^event: flow\ndata: \{"id":"f1",.*\}\n\n$/);
    expect(sseFrame({ type: 'tunnel.end', id: 't', client: 'c:1', target: 'x:443', bytesIn: 1, bytesOut: 2, intercepted: false, durationMs: 3 }))
      .toBe('event: tunnel\ndata: {"id":"t","client":"c:1","target":"x:443","bytesIn":1,"bytesOut":2,"intercepted":false,"durationMs":3}\n\n');
    expect(sseFrame({ type: 'backend.health', pool: 'p', backend: 'b', state: 'up', reason: 'ok' })).toMatch(/^event: health\n/);
    expect(sseFrame({ type: 'config.reload', ok: true })).toBeUndefined();
  });
});

describe('SseReader back-pressure', () => {
  it('a stalled reader queues at most maxQueue frames, drops the rest and is told how many', () => {
    const sink = new StalledSink(1);
    const reader = new SseReader(sink, 10);
    for (let i = 0; i < 1000; i++) reader.offer(frame(i));
    expect(sink.written).toEqual([frame(0)]);
    expect(reader.totalDropped).toBe(989);
    sink.drain(100);
    expect(sink.written.slice(1, 11)).toEqual(Array.from({ length: 10 }, (_, i) => frame(i + 1)));
    expect(sink.written[11]).toBe(droppedFrame(989));
    reader.offer(frame(1000));
    expect(sink.written.at(-1)).toBe(frame(1000));
  });

  it('never holds more than maxQueue frames however long the reader stalls', () => {
    const sink = new StalledSink(1);
    const reader = new SseReader(sink, 5);
    for (let round = 0; round < 50; round++) for (let i = 0; i < 100; i++) reader.offer(frame(i));
    expect(sink.pending).toBe(1);
    sink.drain(0);
    expect(sink.written).toHaveLength(2); // stalls again on the first queued frame
    expect(reader.totalDropped).toBe(50 * 100 - 1 - 5);
  });

  it('reports bus-level losses before the next frame', () => {
    const sink = new StalledSink(100);
    const reader = new SseReader(sink, 5);
    reader.lose(3);
    reader.offer(frame(1));
    expect(sink.written).toEqual([droppedFrame(3), frame(1)]);
  });
});
