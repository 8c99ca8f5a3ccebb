/** Prometheus text exposition format 0.0.4 helpers (a few lines instead of a registry dependency). */

export type Labels = Readonly<Record<string, string>>;

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k] as string)}"`).join(',')}}`;
}

export function header(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

export function sample(name: string, labels: Labels, value: number): string {
  return `${name}${labelText(labels)} ${Number.isFinite(value) ? value : 0}\n`;
}

/** A labelled counter family; the label sets are bounded by the caller's closed vocabularies. */
export class CounterFamily {
  private readonly values = new Map<string, { labels: Labels; value: number }>();

  constructor(readonly name: string, readonly help: string, private readonly type: 'counter' | 'gauge' = 'counter') {}

  /** `key` identifies the label set (callers build it by plain concatenation: no escaping on the hot path). */
  add(labels: Labels, by = 1, key = labelText(labels)): void {
    const cur = this.values.get(key);
    if (cur) cur.value += by;
    else this.values.set(key, { labels, value: by });
  }

  set(labels: Labels, value: number): void {
    this.values.set(labelText(labels), { labels, value });
  }

  render(): string {
    let out = header(this.name, this.type, this.help);
    for (const { labels, value } of this.values.values()) out += sample(this.name, labels, value);
    return out;
  }
}

/** A cumulative histogram per label set, in seconds. */
export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(readonly name: string, readonly help: string, private readonly buckets: readonly number[]) {}

  observe(labels: Labels, value: number, key = labelText(labels)): void {
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= (this.buckets[i] as number)) s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += value;
    s.count++;
  }

  render(): string {
    let out = header(this.name, 'histogram', this.help);
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => (out += sample(`${this.name}_bucket`, { ...s.labels, le: String(le) }, s.counts[i] as number)));
      out += sample(`${this.name}_bucket`, { ...s.labels, le: '+Inf' }, s.count);
      out += sample(`${this.name}_sum`, s.labels, Math.round(s.sum * 1e6) / 1e6);
      out += sample(`${this.name}_count`, s.labels, s.count);
    }
    return out;
  }
}
