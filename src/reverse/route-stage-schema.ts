import { z } from 'zod';
import { forwardConfigSchema } from '../config/schema.js';
import { authSchema, rateLimitSchema } from '../gateway/schema.js';

/**
 * The lb.yaml keys that attach stages to one route: the forward mode's cache and policy sections as they are
 * (`cache: true` = memory with defaults; `policy: DIR` = that rules folder), plus gateway auth and rate limits.
 */
export const routeStageFields = {
  cache: forwardConfigSchema.shape.cache.optional(),
  policy: z.preprocess((v) => (typeof v === 'string' ? { rules: v } : v), forwardConfigSchema.shape.policy).optional(),
  auth: authSchema.optional(),
  rateLimit: rateLimitSchema.optional(),
};
