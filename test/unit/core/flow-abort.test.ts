import { describe, expect, it } from 'vitest';
import { FlowAbort, flowAborted, onFlowAbort } from '../../../src/core/flow-abort.js';
import { makeFlow } from '../../helpers/make-flow.js';

describe('FlowAbort', () => {
  it('calls listeners once, in order, with the reason; removed ones are not called', () => {
    const a = new FlowAbort();
    const seen: string[] = [];
    a.listen((r) => seen.push(`one ${String(r)}`));
    const off = a.listen(() => seen.push('removed'));
    a.listen((r) => seen.push(`two ${String(r)}`));
    off();
    a.abort('gone');
    a.abort('again');
    expect(seen).toEqual(['one gone', 'two gone']);
    expect(a.aborted).toBe(true);
    expect(a.reason).toBe('gone');
    expect(a.listen(() => seen.push('late'))).toBeTypeOf('function');
    expect(seen).toHaveLength(2);
  });

  it('builds its AbortSignal only when read, and it follows the abort either way', () => {
    const before = new FlowAbort();
    const signal = before.signal;
    expect(signal.aborted).toBe(false);
    let fired = 0;
    signal.addEventListener('abort', () => fired++);
    before.abort('x');
    expect([signal.aborted, signal.reason, fired]).toEqual([true, 'x', 1]);
    const after = new FlowAbort();
    after.abort('y');
    expect([after.signal.aborted, after.signal.reason]).toEqual([true, 'y']);
  });
});

describe('onFlowAbort / flowAborted', () => {
  it('fall back to the signal for flows without a FlowAbort', () => {
    const controller = new AbortController();
    const flow = { ...makeFlow({ url: 'http://a.example/' }), signal: controller.signal };
    const reasons: unknown[] = [];
    const off = onFlowAbort(flow, (r) => reasons.push(r));
    expect(flowAborted(flow)).toBe(false);
    controller.abort('bye');
    off();
    expect(reasons).toEqual(['bye']);
    expect(flowAborted(flow)).toBe(true);
  });

  it('use the FlowAbort when the flow has one', () => {
    const abort = new FlowAbort();
    const flow = { ...makeFlow({ url: 'http://a.example/' }), abort };
    const reasons: unknown[] = [];
    onFlowAbort(flow, (r) => reasons.push(r));
    abort.abort('closed');
    expect(flowAborted(flow)).toBe(true);
    expect(reasons).toEqual(['closed']);
  });
});
