import type { Category, CategoryIndex } from './category.js';
import type { Groups } from './groups.js';
import type { ZonedTime } from './time-window.js';

export const ACTIONS = ['allow', 'block', 'bypass-cache', 'no-mitm', 'anonymize'] as const;
export type Action = (typeof ACTIONS)[number];
export const PROFILES = ['strict', 'standard', 'off'] as const;
export type Profile = (typeof PROFILES)[number];

/**
 * What a decision looks at. At CONNECT time only host, port and the client are known (method, url, path and query
 * are undefined, so rules about them do not apply); contentType is only known once the response head arrived.
 */
export interface PolicyRequest {
  host: string;
  port: number;
  method?: string;
  url?: string;
  path?: string;
  query?: string;
  clientIp: string;
  user?: string;
  /** Wall-clock ms since the epoch (from the injected Clock). */
  at: number;
  contentType?: string;
}

/** Values derived from a request once per decision and only when a matcher asks (see decide.ts). */
export interface RequestView {
  readonly req: PolicyRequest;
  readonly host: string;
  /** The host's dot-suffixes, host first (hostSuffixes), made once per decision. */
  suffixes(): readonly string[];
  groups(): ReadonlySet<string>;
  time(): ZonedTime;
  category(name: string): CategoryHit | undefined;
}

export interface CategoryHit { readonly category: string; readonly domain: string; readonly file: string; readonly line: number }

/** One condition of a rule: says why it matched (a fragment of explain()) or false (mockttp's matchers). */
export interface Matcher {
  readonly kind: string;
  test(view: RequestView): string | false;
}

export interface Rule {
  readonly id: string;
  readonly action: Action;
  readonly profile?: Profile;
  readonly file: string;
  readonly line: number;
  readonly reportOnly: boolean;
  /** Cheapest first; all must match. */
  readonly matchers: readonly Matcher[];
  /** Has a response content-type matcher: decided again when the response head arrives. */
  readonly onResponse: boolean;
  /** The categories its matcher refers to (so a category hit can be named on the decision). */
  readonly categories: readonly string[];
}

export interface Policy {
  readonly rules: readonly Rule[];
  readonly categories: ReadonlyMap<string, Category>;
  /** All categories' domains in one suffix index. */
  readonly index: CategoryIndex;
  readonly groups: Groups;
  readonly defaultAction: Action;
  readonly defaultProfile?: Profile;
  /** Global report-only: every block is logged and counted, nothing is blocked. */
  readonly reportOnly: boolean;
  readonly timeZone: string;
  readonly zoned: (at: number) => ZonedTime;
  /** True when some rule needs the response content type. */
  readonly hasResponseRules: boolean;
  /** Files loaded, for logs and `policy check`. */
  readonly files: readonly string[];
}

export interface Decision {
  readonly action: Action;
  readonly profile?: Profile;
  /** The rule id, or `default` when no rule matched. */
  readonly ruleId: string;
  readonly file?: string;
  readonly line?: number;
  readonly category?: CategoryHit;
  readonly reportOnly: boolean;
  /** One human sentence: the rule, where it is, and why each of its conditions held. Built only when asked. */
  explain(): string;
}
