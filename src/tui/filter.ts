import { isBlocked, isError, type Entry } from './entry.js';
import { FilterError, lex, type Token } from './filter-lex.js';

/**
 * The flow filter language, in mitmproxy's spirit:
 *   ~d HOST   host contains        ~u TEXT  URL contains        ~m METHOD  method is
 *   ~c 404    status is (4xx, 50x: x = any digit)              ~t KIND    tunnel | http | forward | reverse | l4
 *   ~blocked  policy blocked       ~hit     cache hit           ~e         error
 *   WORD      URL contains; combine with & (or juxtaposition), |, ! and parentheses.
 * Parsing never throws: errors come back with the position they were found at.
 */
export type Predicate = (e: Entry) => boolean;
export type FilterResult = { ok: true; match: Predicate } | { ok: false; message: string; position: number };

const all: Predicate = () => true;
const lower = (s: string): string => s.toLowerCase();

function statusMatcher(arg: string, pos: number): Predicate {
  const a = lower(arg);
  if (!/^[1-5][0-9x]{2}$/.test(a)) throw new FilterError(`~c wants a status like 404 or 4xx, not "${arg}"`, pos);
  const re = new RegExp(`^${a.replace(/x/g, '\\d')}$`); // compiled once per filter, not per row
  return (e) => e.flow.status !== undefined && re.test(String(e.flow.status));
}

function kindMatcher(arg: string, pos: number): Predicate {
  const a = lower(arg);
  if (a === 'tunnel') return (e) => e.kind === 'tunnel';
  if (a === 'http') return (e) => e.kind === 'flow';
  if (a === 'forward' || a === 'reverse' || a === 'l4') return (e) => e.flow.mode === a;
  throw new FilterError(`~t wants tunnel, http, forward, reverse or l4, not "${arg}"`, pos);
}

const NULLARY: Record<string, Predicate> = {
  blocked: isBlocked,
  hit: (e) => e.flow.notes.cache === 'hit',
  e: isError,
  a: all,
};

const UNARY: Record<string, (arg: string, pos: number) => Predicate> = {
  d: (arg) => { const a = lower(arg); return (e) => e.host.toLowerCase().includes(a); },
  u: (arg) => { const a = lower(arg); return (e) => e.flow.url.toLowerCase().includes(a); },
  m: (arg) => { const a = arg.toUpperCase(); return (e) => e.flow.method.toUpperCase() === a; },
  c: statusMatcher,
  t: kindMatcher,
};

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i] ?? { t: 'end', pos: 0 };
  }

  private next(): Token {
    const tok = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return tok;
  }

  parse(): Predicate {
    const p = this.or();
    const tok = this.peek();
    if (tok.t !== 'end') throw new FilterError(tok.t === 'op' ? `unexpected "${tok.v}"` : 'unexpected input', tok.pos);
    return p;
  }

  private or(): Predicate {
    const parts = [this.and()];
    while (this.isOp('|')) {
      this.next();
      parts.push(this.and());
    }
    return parts.length === 1 ? (parts[0] ?? all) : (e) => parts.some((p) => p(e));
  }

  private and(): Predicate {
    const parts = [this.not()];
    for (;;) {
      if (this.isOp('&')) this.next();
      else if (!this.startsTerm()) break;
      parts.push(this.not());
    }
    return parts.length === 1 ? (parts[0] ?? all) : (e) => parts.every((p) => p(e));
  }

  private not(): Predicate {
    if (!this.isOp('!')) return this.primary();
    this.next();
    const inner = this.not();
    return (e) => !inner(e);
  }

  private primary(): Predicate {
    const tok = this.next();
    if (tok.t === 'op' && tok.v === '(') {
      const inner = this.or();
      const close = this.next();
      if (close.t !== 'op' || close.v !== ')') throw new FilterError('missing ")"', close.pos);
      return inner;
    }
    if (tok.t === 'word') return UNARY.u?.(tok.v, tok.pos) ?? all;
    if (tok.t === 'fn') return this.fn(tok.v, tok.pos);
    throw new FilterError(tok.t === 'end' ? 'expected a filter' : `unexpected "${tok.v}"`, tok.pos);
  }

  private fn(name: string, pos: number): Predicate {
    const nullary = Object.hasOwn(NULLARY, name) ? NULLARY[name] : undefined; // not ~constructor from the prototype
    if (nullary) return nullary;
    const unary = Object.hasOwn(UNARY, name) ? UNARY[name] : undefined;
    if (!unary) throw new FilterError(`unknown filter ~${name}`, pos);
    const arg = this.next();
    if (arg.t !== 'word') throw new FilterError(`~${name} needs an argument`, arg.pos);
    return unary(arg.v, arg.pos);
  }

  private isOp(v: string): boolean {
    const tok = this.peek();
    return tok.t === 'op' && tok.v === v;
  }

  private startsTerm(): boolean {
    const tok = this.peek();
    return tok.t === 'word' || tok.t === 'fn' || (tok.t === 'op' && (tok.v === '!' || tok.v === '('));
  }
}

/** Compiles a filter; an empty or blank filter matches everything. */
export function parseFilter(src: string): FilterResult {
  if (src.trim() === '') return { ok: true, match: all };
  try {
    return { ok: true, match: new Parser(lex(src)).parse() };
  } catch (err) {
    if (err instanceof FilterError) return { ok: false, message: err.message, position: err.position };
    return { ok: false, message: String(err), position: 0 };
  }
}
