/**
 * Joins the lines of one event-loop turn into one write per destination. sonic-boom (4.2) measures the string it
 * appends to with Buffer.byteLength on every write, so with a minLength buffer each line cost a scan of up to 16 KiB
 * already buffered: ~10 µs of CPU per 470-byte JSON line, against ~4 µs when the lines of a turn go in as one string
 * (test/bench/logging-cost.ts). The bus delivers events in batches, so under load a turn carries many lines; when
 * idle a batch is one line, written one turn later. At most maxChars are held before a write.
 */
export class LineBatch {
  private pending = '';
  private timer: NodeJS.Immediate | undefined;

  constructor(private readonly out: (data: string) => void, private readonly maxChars = 64 * 1024) {}

  add(line: string): void {
    this.pending += `${line}\n`;
    if (this.pending.length >= this.maxChars) this.flush();
    else this.timer ??= setImmediate(() => this.flush());
  }

  /** Writes what is held now (also before a flush or close of the destinations). */
  flush(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    if (this.pending === '') return;
    const data = this.pending;
    this.pending = '';
    this.out(data);
  }
}
