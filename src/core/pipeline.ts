import type { EventBus } from './events.js';
import { ProxyError, toProxyError } from './errors.js';
import { BodyCapture } from './body-capture.js';
import { toRecord, type Flow } from './flow.js';
import { NO_CAPTURE, type RecordOptions } from './record-headers.js';
import type { Stage, StageContext, Upstream, Verdict } from './stage.js';
import { errorResponse } from './error-page.js';

export interface PipelineResult {
  /** 'kill' means: close the client connection without a response. */
  readonly outcome: 'respond' | 'kill';
}

const KILL: PipelineResult = Object.freeze({ outcome: 'kill' });
const RESPOND: PipelineResult = Object.freeze({ outcome: 'respond' });

/**
 * Runs a flow through the stages: onRequest in order → upstream → onResponse in reverse. Any stage may answer early
 * (reply/kill); every failure funnels into flow.error with an error response, never a throw to the caller.
 */
export class Pipeline {
  constructor(
    private readonly stages: readonly Stage[],
    private readonly upstream: Upstream,
    private readonly ctx: StageContext,
    private readonly bus: EventBus,
    /** What flow.end records capture (headers only when `log.headers` is on). */
    private readonly record: RecordOptions = NO_CAPTURE,
  ) {}

  async run(flow: Flow): Promise<PipelineResult> {
    return this.runNow(flow);
  }

  /**
   * run() without its promise when every stage answers synchronously and none sends upstream (a memory-cache hit, a
   * block page): the front door writes the answer in the same turn, with no promise and no microtask hop per layer.
   */
  runNow(flow: Flow): PipelineResult | Promise<PipelineResult> {
    if (this.record.bodies) flow.capture = new BodyCapture(this.record.bodies);
    return this.requestFrom(flow, 0);
  }

  /**
   * onRequest hooks from stage `from` on, in order. Synchronous stages (most of them, most of the time) are not
   * awaited: a microtask hop per stage per request is measurable on the hot path. Promises still are.
   */
  private requestFrom(flow: Flow, from: number): PipelineResult | Promise<PipelineResult> {
    let i = from;
    try {
      for (; i < this.stages.length; i++) {
        const stage = this.stages[i] as Stage;
        if (!stage.onRequest) continue;
        const v = stage.onRequest(flow, this.ctx);
        if (v instanceof Promise) return this.awaitRequest(flow, i, v);
        if (v.kind !== 'continue') return this.answered(flow, v, i + 1);
      }
    } catch (err) {
      this.fail(flow, err);
      return this.responded(flow, i + 1, RESPOND);
    }
    return this.forward(flow);
  }

  private async awaitRequest(flow: Flow, i: number, pending: Promise<Verdict>): Promise<PipelineResult> {
    let v: Verdict;
    try {
      v = await pending;
    } catch (err) {
      this.fail(flow, err);
      return this.responded(flow, i + 1, RESPOND);
    }
    return v.kind === 'continue' ? this.requestFrom(flow, i + 1) : this.answered(flow, v, i + 1);
  }

  /** A stage answered (reply or kill): the stages after it and the upstream are skipped. */
  private answered(flow: Flow, verdict: Verdict, ran: number): PipelineResult | Promise<PipelineResult> {
    if (verdict.kind === 'reply') {
      flow.notes.source = 'local';
      flow.response = verdict.head;
      flow.responseBody = verdict.body ?? null;
      return this.responded(flow, ran, RESPOND);
    }
    flow.notes.source = 'kill';
    return this.responded(flow, ran, KILL);
  }

  private async forward(flow: Flow): Promise<PipelineResult> {
    flow.notes.source = 'upstream';
    try {
      const res = await this.upstream.send(flow, this.ctx);
      flow.response = res.head;
      flow.responseBody = res.body;
    } catch (err) {
      this.fail(flow, err);
    }
    const rest = this.runResponse(flow, this.stages.length);
    if (rest) await rest;
    return RESPOND;
  }

  /** The onResponse hooks of the first `ran` stages, then `result`: synchronous when every hook is. */
  private responded(flow: Flow, ran: number, result: PipelineResult): PipelineResult | Promise<PipelineResult> {
    const rest = this.runResponse(flow, ran);
    return rest ? rest.then(() => result) : result;
  }

  /**
   * onResponse hooks of the first `ran` stages, last first. Synchronous until a hook returns a promise (most never
   * do): undefined when all finished in this turn, so a hit spends no promise here.
   */
  private runResponse(flow: Flow, ran: number): Promise<void> | undefined {
    for (let i = ran - 1; i >= 0; i--) {
      const stage = this.stages[i] as Stage;
      if (!stage.onResponse) continue;
      try {
        const done = stage.onResponse(flow, this.ctx);
        if (done instanceof Promise) return this.awaitResponse(flow, stage, done, i);
      } catch (err) {
        this.responseFailed(flow, stage, err);
      }
    }
    return undefined;
  }

  private async awaitResponse(flow: Flow, stage: Stage, pending: Promise<void>, i: number): Promise<void> {
    try {
      await pending;
    } catch (err) {
      this.responseFailed(flow, stage, err);
    }
    const rest = this.runResponse(flow, i);
    if (rest) await rest;
  }

  private responseFailed(flow: Flow, stage: Stage, err: unknown): void {
    this.ctx.log.error({ err, stage: stage.name, flow: flow.id }, 'stage onResponse failed');
    if (!flow.error) this.fail(flow, err);
  }

  private fail(flow: Flow, err: unknown): void {
    const error = toProxyError(err);
    if (error.code === 'INTERNAL') this.ctx.log.error({ err, flow: flow.id }, 'internal error in pipeline');
    flow.error = error;
    const page = errorResponse(error, flow);
    flow.response = page.head;
    flow.responseBody = page.body;
  }

  /** Called by the front door when the response body is done (or the exchange failed): emits the one flow.end. */
  complete(flow: Flow, error?: unknown): void {
    flow.timings.end = this.ctx.clock.monotonic();
    if (error !== undefined && !flow.error) flow.error = error instanceof ProxyError ? error : toProxyError(error);
    if (this.bus.wants('flow.end')) this.bus.emit({ type: 'flow.end', flow: toRecord(flow, this.record) });
  }

  async close(): Promise<void> {
    for (const stage of this.stages) await stage.close?.();
    await this.upstream.close?.();
  }
}
