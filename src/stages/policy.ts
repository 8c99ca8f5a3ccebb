import type { Flow, Notes } from '../core/flow.js';
import { getHeader } from '../core/headers.js';
import { CONTINUE, type Stage, type StageContext, type Verdict } from '../core/stage.js';
import { decide, enforcedBlock } from '../policy/decide.js';
import type { Decision, Policy, PolicyRequest } from '../policy/model.js';
import { blockPage } from './block-page.js';

/** Where the stage reads the policy in force: one reference, swapped whole on reload. */
export interface PolicySource { current(): Policy }

/** The decision as it goes on the flow (and so into the log line and the TUI). */
export function policyNote(d: Decision): NonNullable<Notes['policy']> {
  return {
    action: d.action, rule: d.ruleId, explain: d.explain(),
    ...(d.file !== undefined ? { source: `${d.file}:${d.line ?? 0}` } : {}),
    ...(d.category ? { category: d.category.category, list: `${d.category.file}:${d.category.line}` } : {}),
    ...(d.reportOnly && d.action === 'block' ? { reportOnly: true } : {}),
    ...(d.profile ? { profile: d.profile } : {}),
  };
}

/** Pure: the policy request of a flow, for a given host (the URL's, or the Host header's inside a tunnel). */
export function flowRequest(flow: Flow, host: string, at: number, contentType?: string): PolicyRequest {
  const url = flow.request.url;
  return {
    host, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80), method: flow.request.method,
    url: url.href, path: url.pathname, query: url.search, clientIp: flow.client.ip, at,
    ...(flow.client.user !== undefined ? { user: flow.client.user } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
  };
}

/** Inside an intercepted tunnel the Host header may name another site than the CONNECT target (SNI): decide both. */
function decideFlow(flow: Flow, policy: Policy, at: number, memo: DecisionMemo): Decision {
  const first = memo.decide(flow, flow.request.url.hostname, at, undefined, policy);
  if (!flow.notes.intercepted || enforcedBlock(first)) return first;
  const host = hostOf(getHeader(flow.request.headers, 'host'));
  if (host === undefined || host === flow.request.url.hostname) return first;
  const second = memo.decide(flow, host, at, undefined, policy);
  return enforcedBlock(second) ? second : first;
}

const MEMO_MAX = 4096;

/**
 * decide() remembered per policy: a decision depends only on the policy and the request's fields, and on the time
 * through the local weekday and minute (time windows are minute-granular, and zone offsets are whole minutes), so a
 * repeated request within the same minute gets the same Decision without running the rules again (group lookups,
 * globs, the zoned clock: ~15% of a cache hit's CPU with the example rules). Bounded: dropped whole when full. The
 * note of a decision (its explain() sentence) is built once too; each flow gets its own copy.
 */
class DecisionMemo {
  private readonly byPolicy = new WeakMap<Policy, Map<string, Decision>>();
  private readonly notes = new WeakMap<Decision, NonNullable<Notes['policy']>>();

  /** The decision for flowRequest(flow, host, at, contentType), whose fields are read only when it is not known. */
  decide(flow: Flow, host: string, at: number, contentType: string | undefined, policy: Policy): Decision {
    let memo = this.byPolicy.get(policy);
    if (memo === undefined) this.byPolicy.set(policy, (memo = new Map()));
    const key = flowMemoKey(flow, host, at, contentType);
    let decision = memo.get(key);
    if (decision === undefined) {
      decision = decide(flowRequest(flow, host, at, contentType), policy);
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(key, decision);
    }
    return decision;
  }

  /** The decision's note, built once, copied for this flow; `check` rides along out of sight (see FlowNote). */
  note(decision: Decision, check?: ResponseCheck): NonNullable<Notes['policy']> {
    let note = this.notes.get(decision);
    if (note === undefined) this.notes.set(decision, (note = policyNote(decision)));
    return new FlowNote(note, check);
  }
}

type PolicyNote = NonNullable<Notes['policy']>;

/** What the response-time decision of one flow needs: the pass of the policy its request was decided with. */
interface ResponseCheck {
  readonly pass: ResponsePass;
  readonly rank: number;
  /** The stage that decided (a flow meets one policy stage; a note another one wrote is not this stage's). */
  readonly owner: object;
}

/**
 * A flow's own copy of its decision's note (the same fields, so logs, records and the TUI see a plain note). It also
 * carries, in a private field that is no field of the note, whether the response's content type must be decided
 * again: kept in a WeakMap keyed by the flow, that was one WeakMap insertion per request, which with its ephemeron
 * bookkeeping measured ~1 µs of a cache hit's CPU (a Map would leak the flows whose onResponse never comes: upgrades).
 */
class FlowNote implements PolicyNote {
  declare action: PolicyNote['action'];
  declare rule: string;
  declare explain: string;
  declare source?: string;
  declare category?: string;
  declare list?: string;
  declare reportOnly?: boolean;
  declare profile?: PolicyNote['profile'];
  #check: ResponseCheck | undefined;

  /** The note's fields in policyNote's order (the log line's), the absent ones absent; faster than Object.assign. */
  constructor(note: PolicyNote, check: ResponseCheck | undefined) {
    this.action = note.action;
    this.rule = note.rule;
    this.explain = note.explain;
    if (note.source !== undefined) this.source = note.source;
    if (note.category !== undefined) this.category = note.category;
    if (note.list !== undefined) this.list = note.list;
    if (note.reportOnly !== undefined) this.reportOnly = note.reportOnly;
    if (note.profile !== undefined) this.profile = note.profile;
    this.#check = check;
  }

  /** The check, once (then dropped, so the record does not keep the policy alive). */
  static take(note: Notes['policy'], owner: object): ResponseCheck | undefined {
    if (!(note instanceof FlowNote)) return undefined;
    const check = note.#check;
    if (check?.owner !== owner) return undefined;
    note.#check = undefined;
    return check;
  }
}

/**
 * Every field of flowRequest(flow, host, at, contentType) that decide() can read, without building that request: the
 * minute stands for `at`; the port, path and query are parts of the URL, so its href stands for all four and none of
 * the URL's getters (each slices a new string) runs. The host is apart: inside a tunnel it may be the Host header's.
 * Free-form values (user, content type) are length-prefixed and the URL comes last, so two different requests never
 * share a key.
 */
export function flowMemoKey(flow: Flow, host: string, at: number, contentType: string | undefined): string {
  const user = flow.client.user;
  const u = user === undefined ? '-' : `${user.length}:${user}`;
  const type = contentType === undefined ? '-' : `${contentType.length}:${contentType}`;
  return `${Math.floor(at / 60_000)} ${flow.request.method} ${host} ${flow.client.ip} ${u} ${type} ${flow.request.url.href}`;
}

function hostOf(hostHeader: string | undefined): string | undefined {
  if (hostHeader === undefined) return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return undefined;
  }
}

function block(flow: Flow, note: NonNullable<Notes['policy']>): Verdict {
  return { kind: 'reply', ...blockPage(note, flow) };
}

/**
 * Decides every request before anonymization and the cache: an enforced block answers 403 with the block page;
 * report-only blocks are logged and pass. Rules on the response content type are decided again when the response
 * head arrives, with the policy the request was decided with (a reload in between does not mix two policies).
 */
export function policyStage(source: PolicySource): Stage {
  const checks = new WeakMap<Policy, ResponseChecks>();
  const memo = new DecisionMemo();
  return {
    name: 'policy',
    onRequest(flow, ctx) {
      const policy = source.current();
      const decision = decideFlow(flow, policy, ctx.clock.now(), memo);
      const note = memo.note(decision, policy.hasResponseRules ? responseCheck(checks, policy, decision, memo) : undefined);
      flow.notes.policy = note;
      if (note.reportOnly) ctx.log.info({ id: flow.id, url: flow.request.url.href, policy: note }, 'policy: would block (report-only)');
      if (enforcedBlock(decision)) return block(flow, note);
      return CONTINUE;
    },
    onResponse(flow, ctx) {
      const check = FlowNote.take(flow.notes.policy, memo);
      if (check) onResponseHead(flow, check.pass, check.rank, ctx, memo);
    },
  };
}

/** A policy's response pass, and the check of each of its decisions (undefined: no response rule can win over it). */
interface ResponseChecks {
  readonly pass: ResponsePass;
  readonly byDecision: WeakMap<Decision, ResponseCheck | null>;
}

/** Built once per policy and decision: a request decided the same way as an earlier one needs the same check. */
function responseCheck(checks: WeakMap<Policy, ResponseChecks>, policy: Policy, decision: Decision, owner: object): ResponseCheck | undefined {
  let forPolicy = checks.get(policy);
  if (!forPolicy) checks.set(policy, (forPolicy = { pass: responsePass(policy), byDecision: new WeakMap() }));
  let check = forPolicy.byDecision.get(decision);
  if (check === undefined) {
    const { pass } = forPolicy;
    const rank = rankOf(pass, decision);
    check = pass.firstRank < rank ? { pass, rank, owner } : null;
    forPolicy.byDecision.set(decision, check);
  }
  return check ?? undefined;
}

/**
 * What the response-time decision needs, built once per policy. A response rule can only win over the request's
 * decision when it comes before the rule that decided (rules are tried in order and the earlier ones did not match),
 * so only the response rules are run again, each ranked by its place in the full list.
 */
interface ResponsePass {
  /** The policy with only its content-type rules. */
  readonly policy: Policy;
  /** Every rule's place in the full list, by id. */
  readonly rank: ReadonlyMap<string, number>;
  /** The place of the first content-type rule. */
  readonly firstRank: number;
}

function responsePass(policy: Policy): ResponsePass {
  const rank = new Map(policy.rules.map((r, i) => [r.id, i] as const));
  return {
    policy: { ...policy, rules: policy.rules.filter((r) => r.onResponse) },
    rank,
    firstRank: policy.rules.findIndex((r) => r.onResponse),
  };
}

/** The decision's rule's place in the full list; Infinity for the default decision (no rule: no file). */
function rankOf(pass: ResponsePass, decision: Decision): number {
  return decision.file === undefined ? Infinity : (pass.rank.get(decision.ruleId) ?? Infinity);
}

function onResponseHead(flow: Flow, pass: ResponsePass, decidedRank: number, ctx: StageContext, memo: DecisionMemo): void {
  const contentType = flow.response && flow.notes.source === 'upstream' ? getHeader(flow.response.headers, 'content-type') : undefined;
  if (contentType === undefined) return;
  const decision = memo.decide(flow, flow.request.url.hostname, ctx.clock.now(), contentType, pass.policy);
  if (!(rankOf(pass, decision) < decidedRank)) return;
  const note = memo.note(decision);
  flow.notes.policy = note;
  if (note.reportOnly) ctx.log.info({ id: flow.id, url: flow.request.url.href, policy: note }, 'policy: would block (report-only)');
  if (!enforcedBlock(decision)) return;
  discard(flow.responseBody);
  const page = blockPage(note, flow);
  flow.response = page.head;
  flow.responseBody = page.body;
}

/** Drops an upstream body we will not send (the connection is not reused). */
function discard(body: Flow['responseBody']): void {
  if (!body || body instanceof Uint8Array) return;
  const destroyable = body as { destroy?: () => void };
  if (typeof destroyable.destroy === 'function') destroyable.destroy();
  else void body[Symbol.asyncIterator]().return?.();
}

/**
 * The CONNECT-time check (forward/connect.ts's ConnectPolicy port): only host, port and the client are known, so
 * rules on method, URL, path, query or content type do not apply here. Report-only blocks are logged and pass; the
 * note of a block (either kind) goes on a blind tunnel's `tunnel.end`, where the metrics count the report-only ones.
 */
export function connectPolicy(source: PolicySource, deps: Pick<StageContext, 'clock' | 'log'>): {
  checkConnect(target: { host: string; port: number }, client: { ip: string; user?: string }): { block?: string; noMitm: boolean; note?: Notes['policy'] };
} {
  return {
    checkConnect(target, client) {
      const req: PolicyRequest = { host: target.host, port: target.port, clientIp: client.ip, at: deps.clock.now(), ...(client.user !== undefined ? { user: client.user } : {}) };
      const decision = decide(req, source.current());
      const noMitm = decision.action === 'no-mitm';
      if (decision.action !== 'block') return { noMitm };
      const note = policyNote(decision);
      if (note.reportOnly) deps.log.info({ target: `${target.host}:${target.port}`, policy: note }, 'policy: would block CONNECT (report-only)');
      return { noMitm, note, ...(enforcedBlock(decision) ? { block: decision.explain() } : {}) };
    },
  };
}
