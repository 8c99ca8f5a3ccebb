import type { WorkerStats } from './ipc.js';

/** The workers' live state as one process would report it (the primary's /metrics gauges and GET /upstreams). */
export interface MergedStats {
  /** Undefined when no worker reported the gauge (its mode has none): /metrics then leaves it out. */
  readonly inFlight: number | undefined;
  readonly openTunnels: number | undefined;
  readonly rejections: ReadonlyMap<string, number> | undefined;
  readonly upstreams: Array<Record<string, unknown>>;
}

type Row = Record<string, unknown>;

/** Per-worker counters of a backend: each worker opens and counts its own connections, so the totals add up. */
const SUMMED_BACKEND = new Set(['active', 'ejections', 'connections', 'connectFailures']);
/** From most to least healthy: when the workers disagree, the least healthy state is reported. */
const STATE_RANK = ['up', 'draining', 'ejected', 'down'];

const isRow = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Pure: the workers' answers merged. Gauges (in-flight exchanges or connections, open tunnels) and rejection counts
 * are summed. Pools are listed once, by name, in the order first seen; see mergePool for the per-backend rules.
 */
export function mergeWorkerStats(answers: readonly WorkerStats[]): MergedStats {
  let inFlight: number | undefined;
  let openTunnels: number | undefined;
  let rejections: Map<string, number> | undefined;
  const pools = new Map<string, Row[]>();
  for (const a of answers) {
    if (a.inFlight !== undefined) inFlight = (inFlight ?? 0) + a.inFlight;
    if (a.openTunnels !== undefined) openTunnels = (openTunnels ?? 0) + a.openTunnels;
    if (a.rejections) {
      rejections ??= new Map();
      for (const [reason, n] of Object.entries(a.rejections)) rejections.set(reason, (rejections.get(reason) ?? 0) + n);
    }
    for (const p of a.upstreams ?? []) {
      if (!isRow(p) || typeof p.name !== 'string') continue;
      const seen = pools.get(p.name);
      if (seen) seen.push(p);
      else pools.set(p.name, [p]);
    }
  }
  return { inFlight, openTunnels, rejections, upstreams: [...pools.values()].map(mergePool) };
}

/**
 * One pool as every worker sees it (each worker balances, checks health and ejects on its own). Pool fields come
 * from the first worker, except `panic` (true when any worker is in panic mode) and `stickEntries` (summed: each
 * worker keeps its own stick table); `workers` says how many workers reported the pool. Backends are listed once,
 * by id; see mergeBackend.
 */
function mergePool(views: readonly Row[]): Row {
  const out: Row = { ...views[0], workers: views.length };
  if (views.some((v) => v.panic !== undefined)) out.panic = views.some((v) => v.panic === true);
  const sticks = views.map((v) => num(v.stickEntries)).filter((n) => n !== undefined);
  if (sticks.length > 0) out.stickEntries = sticks.reduce((a, b) => a + b, 0);
  const backends = new Map<string, Row[]>();
  for (const v of views) {
    if (!Array.isArray(v.backends)) continue;
    for (const b of v.backends) {
      if (!isRow(b) || typeof b.id !== 'string') continue;
      const seen = backends.get(b.id);
      if (seen) seen.push(b);
      else backends.set(b.id, [b]);
    }
  }
  out.backends = [...backends.values()].map(mergeBackend);
  return out;
}

/**
 * One backend across the workers. Counters (active connections, ejections, connections, connect failures) are
 * summed. `state` is the workers' common state, or the least healthy one when they disagree (down > ejected >
 * draining > up: some worker will not send it traffic), with `reason` from a worker in that state; `states` counts
 * the workers per state so a split is visible. `ewmaMs` is the mean over workers that measured a latency (an idle
 * worker's 0 says nothing). Other fields (weight) are configuration, the same in every worker: the first is kept.
 */
function mergeBackend(views: readonly Row[]): Row {
  const out: Row = { ...views[0] };
  for (const key of SUMMED_BACKEND) {
    const values = views.map((v) => num(v[key])).filter((n) => n !== undefined);
    if (values.length > 0) out[key] = values.reduce((a, b) => a + b, 0);
  }
  const states: Record<string, number> = {};
  for (const v of views) if (typeof v.state === 'string') states[v.state] = (states[v.state] ?? 0) + 1;
  const worst = Object.keys(states).sort((a, b) => rank(b) - rank(a))[0];
  if (worst !== undefined) {
    out.state = worst;
    out.reason = views.find((v) => v.state === worst)?.reason;
    out.states = states;
  }
  const ewma = views.map((v) => num(v.ewmaMs)).filter((n): n is number => n !== undefined && n > 0);
  if (views.some((v) => v.ewmaMs !== undefined)) out.ewmaMs = ewma.length === 0 ? 0 : Math.round((ewma.reduce((a, b) => a + b, 0) / ewma.length) * 10) / 10;
  return out;
}

/** Unknown states rank as least healthy: a state this code does not know is not reported as "up". */
function rank(state: string): number {
  const i = STATE_RANK.indexOf(state);
  return i === -1 ? STATE_RANK.length : i;
}
