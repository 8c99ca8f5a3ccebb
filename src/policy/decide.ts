import type { ListEntry } from './category.js';
import { hostSuffixes, normaliseHost } from './host.js';
import type { CategoryHit, Decision, Policy, PolicyRequest, RequestView, Rule } from './model.js';
import type { ZonedTime } from './time-window.js';

/** Per-decision lazy values: groups, local time and category lookups are computed at most once, only if asked. */
class View implements RequestView {
  readonly host: string;
  private groupSet: ReadonlySet<string> | undefined;
  private zoned: ZonedTime | undefined;
  private hits: ReadonlyMap<string, ListEntry> | undefined;
  private suffixList: readonly string[] | undefined;

  constructor(readonly req: PolicyRequest, private readonly policy: Policy) {
    this.host = normaliseHost(req.host);
  }

  groups(): ReadonlySet<string> {
    this.groupSet ??= this.policy.groups.of(this.req.clientIp, this.req.user);
    return this.groupSet;
  }

  time(): ZonedTime {
    this.zoned ??= this.policy.zoned(this.req.at);
    return this.zoned;
  }

  /** The host's dot-suffixes, made once for every host matcher and the category index. */
  suffixes(): readonly string[] {
    this.suffixList ??= hostSuffixes(this.host);
    return this.suffixList;
  }

  category(name: string): CategoryHit | undefined {
    this.hits ??= this.policy.index.lookupSuffixes(this.suffixes()); // every category in one walk of the host
    const entry = this.hits.get(name);
    return entry ? { category: name, domain: entry.domain, file: entry.file, line: entry.line } : undefined;
  }
}

/** Runs every matcher of the rule, cheapest first; the reasons when all match, else undefined. */
function ruleMatches(rule: Rule, view: View): readonly string[] | undefined {
  if (rule.onResponse && view.req.contentType === undefined) return undefined;
  // Most rules fail on their first matcher: the list of reasons is made only once one holds.
  let reasons: string[] | undefined;
  for (const m of rule.matchers) {
    const why = m.test(view);
    if (why === false) return undefined;
    (reasons ??= []).push(why);
  }
  return reasons ?? NO_REASONS;
}

const NO_REASONS: readonly string[] = [];

function firstCategoryHit(rule: Rule, view: View): CategoryHit | undefined {
  for (const c of rule.categories) {
    const hit = view.category(c);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Pure: the first rule whose conditions all hold decides; otherwise the policy's default action. Rules with a
 * content-type condition only match when the request carries the response's content type (see the policy stage).
 */
export function decide(req: PolicyRequest, policy: Policy): Decision {
  const view = new View(req, policy);
  for (const rule of policy.rules) {
    const reasons = ruleMatches(rule, view);
    if (reasons === undefined) continue;
    const category = rule.categories.length > 0 ? firstCategoryHit(rule, view) : undefined;
    const reportOnly = rule.reportOnly || policy.reportOnly;
    // Optional fields set after, not spread from a temporary object per decision.
    const d: Mutable<Decision> = {
      action: rule.action, ruleId: rule.id, file: rule.file, line: rule.line, reportOnly,
      explain: () => explainRule(rule, reasons, reportOnly),
    };
    if (rule.profile) d.profile = rule.profile;
    if (category) d.category = category;
    return d;
  }
  return defaultDecision(policy, view.host);
}

function explainRule(rule: Rule, reasons: readonly string[], reportOnly: boolean): string {
  const action = rule.profile ? `${rule.action} ${rule.profile}` : rule.action;
  const why = reasons.length > 0 ? reasons.join(', ') : 'the rule has no conditions';
  return `${action} by rule ${rule.id} (${rule.file}:${rule.line}): ${why}${reportOnly ? ' [report-only]' : ''}`;
}

function defaultDecision(policy: Policy, host: string): Decision {
  const d: Mutable<Decision> = {
    action: policy.defaultAction, ruleId: 'default', reportOnly: policy.reportOnly,
    explain: () => `${policy.defaultAction} by default: no rule matched ${host}`,
  };
  if (policy.defaultProfile) d.profile = policy.defaultProfile;
  return d;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Report-only turns a block into a pass; everything else passes anyway. */
export function enforcedBlock(d: Decision): boolean {
  return d.action === 'block' && !d.reportOnly;
}
