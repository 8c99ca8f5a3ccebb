#!/usr/bin/env node
/**
 * The `portico` executable. Its first step holds V8's heap limits (cluster/heap.ts): that only works before the code
 * the program loads has armed the memory reducer, and importing the program itself does (commander, the config
 * loader), so this file imports nothing else before it and loads the program after.
 */
import { holdHeapLimits } from './cluster/heap.js';

holdHeapLimits();
await import('./cli/program.js');
