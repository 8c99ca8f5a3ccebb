import { z } from 'zod';
import { parseHostPort, type HostPort } from '../config/schema.js';

const certificateSchema = z.object({
  /** PEM certificate chain file (leaf first). */
  cert: z.string().min(1),
  /** PEM private key file. */
  key: z.string().min(1),
  /** Server names it serves (exact or `*.example.com`); default: the certificate's DNS names (SAN, else CN). */
  names: z.array(z.string().min(1)).optional(),
}).strict();

/**
 * HTTPS on a listener: `cert`/`key` is the default certificate (clients without SNI, or naming no configured name);
 * `certificates` adds more, each picked by SNI. HTTP/1.1 is offered by ALPN.
 */
const tlsSchema = z.object({
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  certificates: z.array(certificateSchema).default([]),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
  /** A client that has not finished its handshake within this time is disconnected. */
  handshakeTimeoutMs: z.number().int().positive().default(10_000),
}).strict()
  .refine((t) => (t.cert === undefined) === (t.key === undefined), 'give cert and key together')
  .refine((t) => t.cert !== undefined || t.certificates.length > 0, 'tls needs cert/key or at least one of certificates');

export type ListenTls = z.output<typeof tlsSchema>;
export interface ListenSpec extends HostPort { readonly tls?: ListenTls }

const addressSchema = z.string().transform((value, ctx) => {
  const parsed = parseHostPort(value, '127.0.0.1');
  if (!parsed) {
    ctx.addIssue({ code: 'custom', message: `expected HOST:PORT, got "${value}"` });
    return z.NEVER;
  }
  return parsed;
});

/** An entry is `HOST:PORT` or `{address, tls}`; strings are read as the former, so errors name the field at fault. */
const entrySchema = z.preprocess((v) => (typeof v === 'string' ? { address: v } : v),
  z.object({ address: addressSchema, tls: tlsSchema.optional() }).strict()
    .transform((e): ListenSpec => (e.tls === undefined ? e.address : { ...e.address, tls: e.tls })));

/** `listen:` of lb.yaml: one address (`HOST:PORT`), one `{address, tls}`, or a list of either; the first is primary. */
export const reverseListenSchema = z.preprocess((v) => (Array.isArray(v) ? v : [v]), z.array(entrySchema).min(1));
