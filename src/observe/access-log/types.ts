import type { ProxyEvent } from '../../core/events.js';

export type TunnelEnd = Extract<ProxyEvent, { type: 'tunnel.end' }>;
export type FlowEnd = Extract<ProxyEvent, { type: 'flow.end' }>;
export type LogFormat = 'json' | 'squid' | 'combined';
