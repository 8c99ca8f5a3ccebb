import type { Clock } from '../core/clock.js';
import type { ProxyEvent } from '../core/events.js';
import { Backends } from './backends.js';
import { Counters } from './counters.js';
import { flowEntry, tunnelEntry, type Entry } from './entry.js';
import { parseFilter, type FilterResult, type Predicate } from './filter.js';
import { Ring } from './ring.js';

/** What a source delivers: the bus's events plus the SSE stream's "you lost N events" notice. */
export type TuiEvent = ProxyEvent | { type: 'dropped'; dropped: number };

export interface StoreOptions { clock: Clock; capacity?: number; windowMs?: number }

export interface ViewWindow {
  rows: Entry[];
  /** Index of the selected row inside `rows`, -1 when the view is empty. */
  cursor: number;
  /** Position of the selection in the whole filtered view, and the view's length. */
  position: number;
  length: number;
}

export const DEFAULT_CAPACITY = 10_000;

/**
 * The TUI's view-model (mitmproxy's View), outside React: a bounded ring of the latest flows, the filtered view of
 * it, the selection, pause and the header counters. Components read it on a timer; nothing here renders.
 */
export class FlowStore {
  readonly counters: Counters;
  readonly backends = new Backends();
  /** Bumped on every change the screen shows, so the frame timer can skip identical frames. */
  version = 0;
  filterText = '';
  paused = false;
  private readonly ring: Ring<Entry>;
  private readonly view: Ring<Entry>;
  private readonly pending: Ring<Entry>;
  /** Ids of the entries held (ring and pending), so a flow delivered twice (SSE backfill after a reconnect) shows once. */
  private readonly ids = new Set<string>();
  private match: Predicate = () => true;
  private seq = 0;
  private selectedSeq = -1;
  private topSeq = -1;
  private following = true;

  constructor(private readonly opts: StoreOptions) {
    const capacity = opts.capacity ?? DEFAULT_CAPACITY;
    this.ring = new Ring(capacity);
    this.view = new Ring(capacity);
    this.pending = new Ring(capacity);
    this.counters = new Counters(opts.clock, opts.windowMs);
  }

  get size(): number {
    return this.ring.length;
  }

  /** Rows the filter shows. */
  get shownCount(): number {
    return this.view.length;
  }

  get buffered(): number {
    return this.pending.length;
  }

  add(event: TuiEvent): void {
    this.version++;
    if (event.type === 'dropped') return this.counters.addDropped(event.dropped);
    if (event.type === 'backend.health') return this.backends.health(event, this.opts.clock.now());
    if (event.type === 'config.reload') return;
    const id = event.type === 'flow.end' ? event.flow.id : event.id;
    if (this.ids.has(id)) return;
    this.ids.add(id);
    const entry = event.type === 'flow.end'
      ? flowEntry(++this.seq, event.flow)
      : tunnelEntry(++this.seq, event, new Date(this.opts.clock.now()).toISOString());
    this.counters.record(entry);
    if (!this.paused) return this.insert(entry);
    const lost = this.pending.push(entry);
    if (lost !== undefined) this.ids.delete(lost.flow.id);
  }

  private insert(entry: Entry): void {
    const evicted = this.ring.push(entry);
    if (evicted !== undefined) this.ids.delete(evicted.flow.id);
    if (evicted !== undefined && this.view.at(0) === evicted) this.view.shift();
    if (this.match(entry)) this.view.push(entry);
  }

  /** Applies a filter; on a parse error the previous filter stays in force and the error is returned. */
  setFilter(text: string): FilterResult {
    const result = parseFilter(text);
    if (!result.ok) return result;
    this.filterText = text.trim();
    this.match = result.match;
    this.view.clear();
    for (const e of this.ring) if (this.match(e)) this.view.push(e);
    this.version++;
    return result;
  }

  togglePause(): void {
    this.paused = !this.paused;
    if (!this.paused) {
      for (let e = this.pending.shift(); e !== undefined; e = this.pending.shift()) this.insert(e);
    }
    this.version++;
  }

  clear(): void {
    this.ring.clear();
    this.view.clear();
    this.pending.clear();
    this.ids.clear();
    this.counters.clear();
    this.following = true;
    this.version++;
  }

  /** Index of the first view entry whose seq is ≥ seq (the view is ordered by seq). */
  private lowerBound(seq: number): number {
    let lo = 0;
    let hi = this.view.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.view.at(mid)?.seq ?? Infinity) < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private position(): number {
    const n = this.view.length;
    if (n === 0) return -1;
    return this.following ? n - 1 : Math.min(this.lowerBound(this.selectedSeq), n - 1);
  }

  /** Moves the selection; reaching the newest row resumes following new flows. */
  move(delta: number): void {
    const n = this.view.length;
    if (n === 0) return;
    const pos = Math.max(0, Math.min(n - 1, this.position() + delta));
    this.selectedSeq = this.view.at(pos)?.seq ?? -1;
    this.following = pos === n - 1;
    this.version++;
  }

  selected(): Entry | undefined {
    return this.view.at(this.position());
  }

  /** How many buffered flows a predicate matches (the filter prompt's preview). */
  count(match: Predicate): number {
    let n = 0;
    for (const e of this.ring) if (match(e)) n++;
    return n;
  }

  /** The flows the filter shows, oldest first (for HAR export). */
  shown(): Entry[] {
    return [...this.view];
  }

  /** The visible slice for a list of `rows` lines, scrolled so the selection stays in sight. */
  window(rows: number): ViewWindow {
    const length = this.view.length;
    const position = this.position();
    if (position < 0 || rows < 1) return { rows: [], cursor: -1, position, length };
    let top = this.following ? length - rows : this.lowerBound(this.topSeq);
    if (position < top) top = position;
    if (position >= top + rows) top = position - rows + 1;
    top = Math.max(0, Math.min(top, length - rows));
    this.topSeq = this.view.at(top)?.seq ?? -1;
    const out: Entry[] = [];
    for (let i = top; i < Math.min(length, top + rows); i++) out.push(this.view.at(i) as Entry);
    return { rows: out, cursor: position - top, position, length };
  }
}
