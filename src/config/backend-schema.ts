import { z } from 'zod';
import { parseAddress } from '../upstream/backend.js';

/** A pool member in reverse and L4 configs: `HOST:PORT` or `{ address, weight }`, the address checked where it is read. */
export const backendSchema = z.union([z.string(), z.object({ address: z.string(), weight: z.number().positive().default(1) }).strict()])
  .transform((b, ctx) => {
    const spec = typeof b === 'string' ? { address: b, weight: 1 } : b;
    try { parseAddress(spec.address); } catch (err) { ctx.addIssue({ code: 'custom', message: (err as Error).message }); }
    return spec;
  });
