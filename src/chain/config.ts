import { z } from 'zod';
import { adminSchema, listenSchema, logSchema } from '../config/schema.js';

const plain = z.record(z.string(), z.unknown());

/**
 * `chain.yaml`: a forward proxy, a reverse proxy, demo backends and optionally an L4 balancer started together on one
 * event bus. `forward` and
 * `reverse` are the usual configurations of those modes (validated by their own schemas once the placeholders are
 * resolved: a forward route `to: reverse`, a pool backend `demo:ID`). `log` and `admin` are the chain's: one access
 * log and one admin endpoint for every hop.
 */
export const chainConfigSchema = z.object({
  forward: plain.default({}),
  reverse: plain.optional(),
  /** An L4 balancer (l4.yaml shape) whose pool backends may be `forward`, `reverse` or `demo:ID`. */
  l4: plain.optional(),
  /** Built-in demo backends (`portico demo-backend`), each on its own port; `listen` port 0 picks a free one. */
  demoBackends: z.array(z.object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    listen: listenSchema.default({ host: '127.0.0.1', port: 0 }),
  }).strict()).default([]),
  /** A rules file's content (groups, rules) for the forward proxy, written to a private temporary folder at start. */
  rules: plain.optional(),
  log: logSchema,
  admin: adminSchema,
}).strict().superRefine((cfg, ctx) => {
  const ids = new Set<string>();
  cfg.demoBackends.forEach((b, i) => {
    if (ids.has(b.id)) ctx.addIssue({ code: 'custom', path: ['demoBackends', i, 'id'], message: `duplicate id "${b.id}"` });
    ids.add(b.id);
  });
});

export type ChainConfig = z.output<typeof chainConfigSchema>;
