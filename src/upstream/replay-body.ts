import { Readable } from 'node:stream';
import type { Body } from '../core/flow.js';

/**
 * A request body that can be sent more than once while it is small: chunks are kept as they are read from the
 * client, up to `limitBytes`. Each attempt reads through `attempt()`: what is kept is replayed, then reading continues
 * from the client. Once the body outgrows the limit nothing more is kept and `replayable()` turns false (the attempt
 * in progress still gets every byte). Reads from the client are serialised, so an abandoned attempt cannot steal a chunk.
 */
export class ReplayableBody {
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;
  private overflow = false;
  private done = false;
  /** The chunk that did not fit, for the attempt that read it. */
  private spill: Uint8Array | undefined;
  private pulling: Promise<void> | undefined;
  private readonly source: AsyncIterator<Uint8Array>;

  constructor(source: Body, private readonly limitBytes: number) {
    this.source = source[Symbol.asyncIterator]();
  }

  /** True while the whole body read so far is kept (so another attempt can send it all). */
  replayable(): boolean {
    return !this.overflow;
  }

  /** A fresh stream of the whole body for one attempt. */
  attempt(): Readable {
    let i = 0;
    let spilled = false;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const body = this;
    return new Readable({
      async read() {
        try {
          while (i >= body.kept.length && !body.done && !body.overflow) await body.pull();
          if (i < body.kept.length) { this.push(body.kept[i++]); return; }
          if (!spilled && body.spill !== undefined) { spilled = true; this.push(body.spill); return; }
          if (body.done) { this.push(null); return; }
          const next = await body.source.next(); // past the limit: straight from the client, nothing kept
          this.push(next.done === true ? null : next.value);
        } catch (err) {
          this.destroy(err as Error);
        }
      },
    });
  }

  private pull(): Promise<void> {
    this.pulling ??= (async () => {
      const next = await this.source.next();
      if (next.done === true) { this.done = true; return; }
      const chunk = next.value;
      if (this.keptBytes + chunk.byteLength > this.limitBytes) {
        this.overflow = true;
        this.spill = chunk;
        return;
      }
      this.kept.push(chunk);
      this.keptBytes += chunk.byteLength;
    })().finally(() => { this.pulling = undefined; });
    return this.pulling;
  }
}
