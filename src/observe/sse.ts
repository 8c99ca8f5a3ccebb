import type { ProxyEvent } from '../core/events.js';

/** What an SSE reader writes to: a ServerResponse (or a fake in tests). */
export interface FrameSink {
  write(chunk: string): boolean;
  once(event: 'drain', fn: () => void): unknown;
}

/** `event: NAME\ndata: JSON\n\n` for the events the admin stream carries; undefined for the others. */
export function sseFrame(event: ProxyEvent): string | undefined {
  switch (event.type) {
    case 'flow.end':
      return `event: flow\ndata: ${JSON.stringify(event.flow)}\n\n`;
    case 'tunnel.end': {
      const { type: _t, ...tunnel } = event;
      return `event: tunnel\ndata: ${JSON.stringify(tunnel)}\n\n`;
    }
    case 'backend.health': {
      const { type: _t, ...health } = event;
      return `event: health\ndata: ${JSON.stringify(health)}\n\n`;
    }
    default:
      return undefined;
  }
}

export const droppedFrame = (n: number): string => `event: dropped\ndata: {"dropped":${n}}\n\n`;

/**
 * One Server-Sent Events reader with back-pressure: while the socket is full, frames wait in a queue of at most
 * `maxQueue`; beyond it they are dropped and counted, and once the reader catches up it first gets
 * `event: dropped` with how many it missed. Memory per reader is bounded by maxQueue frames plus the socket buffer.
 */
export class SseReader {
  private readonly queue: string[] = [];
  private blocked = false;
  private missed = 0;
  /** Every frame this reader lost, for /metrics. */
  totalDropped = 0;

  constructor(private readonly sink: FrameSink, private readonly maxQueue: number) {}

  offer(frame: string): void {
    if (this.blocked) {
      if (this.queue.length < this.maxQueue) this.queue.push(frame);
      else this.lose(1);
      return;
    }
    this.send(frame);
  }

  /** Events lost before they reached this reader (the bus subscription's own drops). */
  lose(n: number): void {
    this.missed += n;
    this.totalDropped += n;
  }

  /** Not blocked: a pending "dropped" notice goes first, then the frame. */
  private send(frame: string): void {
    if (this.missed > 0 && !this.sink.write(droppedFrame(this.takeMissed()))) {
      this.queue.push(frame);
      return this.block();
    }
    if (!this.sink.write(frame)) this.block();
  }

  private block(): void {
    this.blocked = true;
    this.sink.once('drain', () => this.drain());
  }

  /** Queued frames in order, then the notice of what was dropped after them (chronological). */
  private drain(): void {
    this.blocked = false;
    for (let frame = this.queue.shift(); frame !== undefined; frame = this.queue.shift()) {
      if (!this.sink.write(frame)) return this.block();
    }
    if (this.missed > 0 && !this.sink.write(droppedFrame(this.takeMissed()))) this.block();
  }

  private takeMissed(): number {
    const n = this.missed;
    this.missed = 0;
    return n;
  }
}
