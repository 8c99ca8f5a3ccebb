import picomatch from 'picomatch';
import { HostGlobs } from './host-globs.js';
import type { Matcher } from './model.js';
import { inWindow, type TimeWindow } from './time-window.js';

type Test = (s: string) => boolean;

/** Compiles globs once; `name` is the glob that matched, for explain(). */
function globs(patterns: readonly string[], options: picomatch.PicomatchOptions): Array<{ pattern: string; test: Test }> {
  return patterns.map((pattern) => ({ pattern, test: picomatch(pattern, options) }));
}

function firstGlob(list: ReadonlyArray<{ pattern: string; test: Test }>, value: string): string | undefined {
  for (const g of list) if (g.test(value)) return g.pattern;
  return undefined;
}

export function methodMatcher(methods: readonly string[]): Matcher {
  const set = new Set(methods.map((m) => m.toUpperCase()));
  return { kind: 'method', test: (v) => (v.req.method !== undefined && set.has(v.req.method) ? `method ${v.req.method}` : false) };
}

export function portMatcher(ports: readonly number[]): Matcher {
  const set = new Set(ports);
  return { kind: 'port', test: (v) => (set.has(v.req.port) ? `port ${v.req.port}` : false) };
}

export function userMatcher(users: readonly string[]): Matcher {
  const set = new Set(users);
  return { kind: 'user', test: (v) => (v.req.user !== undefined && set.has(v.req.user) ? `user ${v.req.user}` : false) };
}

export function groupMatcher(names: readonly string[]): Matcher {
  return {
    kind: 'group',
    test: (v) => {
      const mine = v.groups();
      for (const n of names) if (mine.has(n)) return `client in group ${n}`;
      return false;
    },
  };
}

export function hostMatcher(patterns: readonly string[]): Matcher {
  const set = new HostGlobs(patterns);
  return { kind: 'host', test: (v) => { const p = set.matchSuffixes(v.host, v.suffixes()); return p === undefined ? false : `host ${v.host} matches ${p}`; } };
}

/** Globs on the full URL (`*` stops at `/`, LIBRARIES.md §6) or on the path. */
export function urlMatcher(kind: 'url' | 'path', patterns: readonly string[]): Matcher {
  const list = globs(patterns, { dot: true });
  return {
    kind,
    test: (v) => {
      const value = kind === 'url' ? v.req.url : v.req.path;
      const p = value === undefined ? undefined : firstGlob(list, value);
      return p === undefined ? false : `${kind} matches ${p}`;
    },
  };
}

/** Globs on each query parameter, as `name` and as `name=value` (so `utm_*` and `q=cats*` both work). */
export function queryMatcher(patterns: readonly string[]): Matcher {
  const list = globs(patterns, { dot: true, nocase: true });
  return {
    kind: 'query',
    test: (v) => {
      const q = v.req.query;
      if (!q) return false;
      for (const pair of (q.startsWith('?') ? q.slice(1) : q).split('&')) {
        const eq = pair.indexOf('=');
        const name = eq < 0 ? pair : pair.slice(0, eq);
        const p = firstGlob(list, name) ?? firstGlob(list, pair);
        if (p !== undefined) return `query parameter ${name} matches ${p}`;
      }
      return false;
    },
  };
}

export function categoryMatcher(names: readonly string[]): Matcher {
  return {
    kind: 'category',
    test: (v) => {
      for (const n of names) {
        const hit = v.category(n);
        if (hit) return `host ${v.host} is in category ${n} (${hit.domain} at ${hit.file}:${hit.line})`;
      }
      return false;
    },
  };
}

export function timeMatcher(windows: readonly TimeWindow[]): Matcher {
  return {
    kind: 'time',
    test: (v) => {
      const t = v.time();
      for (const w of windows) if (inWindow(w, t)) return `time within ${w.text}`;
      return false;
    },
  };
}

/** Globs on the response media type without parameters (`video/*`, `application/x-msdownload`). */
export function contentTypeMatcher(patterns: readonly string[]): Matcher {
  const list = globs(patterns.map((p) => p.toLowerCase()), { nocase: true });
  return {
    kind: 'content-type',
    test: (v) => {
      const ct = v.req.contentType;
      if (ct === undefined) return false;
      const type = (ct.split(';', 1)[0] as string).trim().toLowerCase();
      const p = firstGlob(list, type);
      return p === undefined ? false : `response content-type ${type} matches ${p}`;
    },
  };
}
