import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { PolicyError } from './errors.js';
import type { GroupSpec } from './groups.js';

const list = <T extends z.ZodType>(item: T) => z.union([item, z.array(item)]).transform((v) => (Array.isArray(v) ? v : [v]) as Array<z.output<T>>);
const str = z.string().min(1);

/** One rule as written (validated shape only; categories and groups are checked by compile.ts). */
const ruleSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9._:-]+$/, 'rule ids use letters, digits and . _ : -'),
  action: z.string().regex(/^(allow|block|bypass-cache|no-mitm|anonymize (strict|standard|off))$/,
    'action is one of allow, block, bypass-cache, no-mitm, anonymize strict|standard|off'),
  description: z.string().optional(),
  host: list(str).optional(),
  url: list(str).optional(),
  path: list(str).optional(),
  query: list(str).optional(),
  method: list(z.string().regex(/^[A-Za-z]+$/)).optional(),
  port: list(z.number().int().min(1).max(65535)).optional(),
  group: list(str).optional(),
  user: list(str).optional(),
  category: list(str).optional(),
  'content-type': list(str).optional(),
  time: list(str).optional(),
  'report-only': z.boolean().default(false),
}).strict();

const groupSchema = z.object({ clients: list(str).optional(), users: list(str).optional() }).strict();

const fileSchema = z.object({
  groups: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), groupSchema).default({}),
  rules: z.array(z.unknown()).default([]),
}).strict();

export type RuleFields = z.output<typeof ruleSchema>;
export interface RuleSpec extends RuleFields { readonly file: string; readonly line: number; readonly lines: Readonly<Record<string, number>> }
export interface RulesFile { readonly rules: RuleSpec[]; readonly groups: Record<string, GroupSpec & { line: number }> }

/** Parses one Portico YAML rules file; every error names file:line of the offending key. */
export function parseRulesFile(text: string, file: string): RulesFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const syntax = doc.errors[0];
  if (syntax) throw new PolicyError(file, lc.linePos(syntax.pos[0]).line, (syntax.message.split('\n')[0] as string));
  const raw: unknown = doc.toJS() ?? {};
  const top = fileSchema.safeParse(Array.isArray(raw) ? { rules: raw } : raw);
  const base = Array.isArray(raw) ? [] : ['rules'];
  if (!top.success) throw zodError(top.error, [], doc, lc, file);
  const rules = top.data.rules.map((item, i) => {
    const parsed = ruleSchema.safeParse(item);
    if (!parsed.success) throw zodError(parsed.error, [...base, i], doc, lc, file);
    return { ...parsed.data, file, line: lineOf(doc, lc, [...base, i]), lines: keyLines(doc, lc, [...base, i], parsed.data) };
  });
  const groups: RulesFile['groups'] = {};
  for (const [name, spec] of Object.entries(top.data.groups)) groups[name] = { ...spec, line: lineOf(doc, lc, ['groups', name]) };
  return { rules, groups };
}

function keyLines(doc: Document, lc: LineCounter, path: Array<string | number>, fields: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(fields)) out[key] = lineOf(doc, lc, [...path, key]);
  return out;
}

/** The line of the deepest node on the path that exists (1 when nothing does). */
export function lineOf(doc: Document, lc: LineCounter, path: ReadonlyArray<string | number>): number {
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]).line;
  }
  return 1;
}

function zodError(error: z.ZodError, base: Array<string | number>, doc: Document, lc: LineCounter, file: string): PolicyError {
  const issue = error.issues[0];
  const path = [...base, ...(issue?.path ?? []).filter((p): p is string | number => typeof p !== 'symbol')];
  const where = path.length > 0 ? `${path.join('.')}: ` : '';
  return new PolicyError(file, lineOf(doc, lc, path), `${where}${issue?.message ?? 'invalid'}`);
}
