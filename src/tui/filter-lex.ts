/** Tokens of the filter language, each with its 0-based position in the input (for error carets). */
export type Token =
  | { t: 'op'; v: '&' | '|' | '!' | '(' | ')'; pos: number }
  | { t: 'fn'; v: string; pos: number }
  | { t: 'word'; v: string; pos: number }
  | { t: 'end'; pos: number };

export class FilterError {
  constructor(readonly message: string, readonly position: number) {}
}

const OPS = new Set(['&', '|', '!', '(', ')']);
const isSpace = (c: string): boolean => c === ' ' || c === '\t';

function readQuoted(src: string, start: number): { v: string; next: number } {
  const quote = src[start];
  let v = '';
  let i = start + 1;
  while (i < src.length && src[i] !== quote) {
    if (src[i] === '\\' && i + 1 < src.length) i++;
    v += src[i];
    i++;
  }
  if (i >= src.length) throw new FilterError('unterminated quote', start);
  return { v, next: i + 1 };
}

function readBare(src: string, start: number): { v: string; next: number } {
  let i = start;
  while (i < src.length && !isSpace(src[i] ?? '') && !OPS.has(src[i] ?? '')) i++;
  return { v: src.slice(start, i), next: i };
}

/** Splits a filter into tokens; throws FilterError (caught by parseFilter) on an unterminated quote. */
export function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (isSpace(c)) {
      i++;
    } else if (OPS.has(c)) {
      out.push({ t: 'op', v: c as '&', pos: i });
      i++;
    } else if (c === '"' || c === "'") {
      const { v, next } = readQuoted(src, i);
      out.push({ t: 'word', v, pos: i });
      i = next;
    } else if (c === '~') {
      const { v, next } = readBare(src, i + 1);
      if (v === '') throw new FilterError('expected a filter name after ~', i);
      out.push({ t: 'fn', v, pos: i });
      i = next;
    } else {
      const { v, next } = readBare(src, i);
      out.push({ t: 'word', v, pos: i });
      i = next;
    }
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}
