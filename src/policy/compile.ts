import { buildCategories } from './category.js';
import { PolicyError } from './errors.js';
import { Groups, type GroupSpec } from './groups.js';
import type { ListFormat, ParsedList } from './list-parse.js';
import {
  categoryMatcher, contentTypeMatcher, groupMatcher, hostMatcher, methodMatcher, portMatcher, queryMatcher, timeMatcher,
  urlMatcher, userMatcher,
} from './matchers.js';
import type { Action, Matcher, Policy, Profile, Rule } from './model.js';
import type { RuleSpec, RulesFile } from './rules-file.js';
import { parseTimeWindow, zonedClock } from './time-window.js';

export interface PolicyOptions {
  readonly defaultAction: Action;
  readonly defaultProfile?: Profile;
  readonly reportOnly: boolean;
  readonly timeZone: string;
  readonly groups: Readonly<Record<string, GroupSpec>>;
  /** `policy.listFormats`: list file name or glob → its format (read by loadPolicy; absent = detect every list). */
  readonly listFormats?: Readonly<Record<string, ListFormat>>;
}

/** The PolicyOptions of a `policy` config section (forward mode, reverse routes and the CLI alike). */
export function policyOptions(p: {
  defaultAction: Action; reportOnly: boolean; timeZone: string; groups: Readonly<Record<string, GroupSpec>>;
  listFormats?: Readonly<Record<string, ListFormat>>;
}): PolicyOptions {
  return {
    defaultAction: p.defaultAction, reportOnly: p.reportOnly, timeZone: p.timeZone, groups: p.groups,
    ...(p.listFormats ? { listFormats: p.listFormats } : {}),
  };
}

export interface PolicySources {
  readonly ruleFiles: ReadonlyArray<{ file: string; parsed: RulesFile }>;
  readonly lists: ReadonlyArray<{ category: string; file: string; parsed: ParsedList }>;
}

/** Pure: parsed files + options → one immutable Policy, or a PolicyError naming file:line. */
export function buildPolicy(sources: PolicySources, options: PolicyOptions): Policy {
  const { categories, index } = buildCategories(sources.lists);
  const groups = new Groups(mergeGroups(sources.ruleFiles, options.groups));
  let zoned: Policy['zoned'];
  try {
    zoned = zonedClock(options.timeZone);
  } catch {
    throw new Error(`policy.timeZone: unknown time zone "${options.timeZone}"`);
  }
  const seen = new Map<string, RuleSpec>();
  const rules = sources.ruleFiles.flatMap(({ parsed }) => parsed.rules).map((spec) => {
    const dup = seen.get(spec.id);
    if (dup) throw new PolicyError(spec.file, spec.line, `duplicate rule id "${spec.id}" (first at ${dup.file}:${dup.line})`);
    seen.set(spec.id, spec);
    return compileRule(spec, categories, groups);
  });
  return {
    rules, categories, index, groups, defaultAction: options.defaultAction, reportOnly: options.reportOnly, timeZone: options.timeZone,
    zoned, hasResponseRules: rules.some((r) => r.onResponse),
    files: [...sources.ruleFiles.map((f) => f.file), ...sources.lists.map((l) => l.file)],
    ...(options.defaultProfile ? { defaultProfile: options.defaultProfile } : {}),
  };
}


function mergeGroups(files: PolicySources['ruleFiles'], fromConfig: Readonly<Record<string, GroupSpec>>): Record<string, GroupSpec> {
  const out: Record<string, GroupSpec> = { ...fromConfig };
  for (const { file, parsed } of files) {
    for (const [name, spec] of Object.entries(parsed.groups)) {
      if (out[name]) throw new PolicyError(file, spec.line, `group "${name}" is defined twice (config or another rules file)`);
      try {
        new Groups({ [name]: spec });
      } catch (err) {
        throw new PolicyError(file, spec.line, err instanceof Error ? err.message : String(err));
      }
      out[name] = spec;
    }
  }
  return out;
}

/** Builds the matchers of one rule, cheapest first; unknown names and bad globs fail at the key's line. */
function compileRule(spec: RuleSpec, categories: ReadonlyMap<string, unknown>, groups: Groups): Rule {
  const at = (key: string): number => spec.lines[key] ?? spec.line;
  const fail = (key: string, detail: string): never => {
    throw new PolicyError(spec.file, at(key), `rule ${spec.id}: ${detail}`);
  };
  for (const g of spec.group ?? []) if (!groups.has(g)) fail('group', `unknown group "${g}" (known: ${groups.names.join(', ') || 'none'})`);
  for (const c of spec.category ?? []) if (!categories.has(c)) fail('category', `unknown category "${c}" (lists in rules/lists/: ${[...categories.keys()].join(', ') || 'none'})`);
  const matchers: Matcher[] = [];
  const add = (key: string, build: () => Matcher): void => {
    try {
      matchers.push(build());
    } catch (err) {
      fail(key, err instanceof Error ? err.message : String(err));
    }
  };
  if (spec.method) add('method', () => methodMatcher(spec.method ?? []));
  if (spec.port) add('port', () => portMatcher(spec.port ?? []));
  if (spec.user) add('user', () => userMatcher(spec.user ?? []));
  if (spec.group) add('group', () => groupMatcher(spec.group ?? []));
  if (spec.host) add('host', () => hostMatcher(spec.host ?? []));
  if (spec.path) add('path', () => urlMatcher('path', spec.path ?? []));
  if (spec.url) add('url', () => urlMatcher('url', spec.url ?? []));
  if (spec.query) add('query', () => queryMatcher(spec.query ?? []));
  if (spec.category) add('category', () => categoryMatcher(spec.category ?? []));
  if (spec.time) add('time', () => timeMatcher((spec.time ?? []).map(parseTimeWindow)));
  if (spec['content-type']) add('content-type', () => contentTypeMatcher(spec['content-type'] ?? []));
  const [action, profile] = spec.action.split(' ') as [Action, Profile | undefined];
  return {
    id: spec.id, action, file: spec.file, line: spec.line, reportOnly: spec['report-only'], matchers,
    onResponse: spec['content-type'] !== undefined, categories: spec.category ?? [],
    ...(profile ? { profile } : {}),
  };
}
