/**
 * Trellis's own workflow metrics, read off the run's events as the session records them: steps by kind and outcome,
 * step latency, approval wait time, refused answers, ended runs. Through the SDK's workflow metric meter, so nothing
 * is emitted on replay and nothing enters the history; a worker without a metrics endpoint drops them.
 */
import * as wf from '@temporalio/workflow';
import type { RunEventType } from '../engine/messages.js';

const steps = wf.metricMeter.createCounter('trellis_steps', undefined, 'steps ended, by kind and outcome (completed, skipped, failed)');
const stepLatency = wf.metricMeter.createHistogram('trellis_step_latency', 'int', 'ms', "a step's time from start to end, by kind and outcome");
const approvalWait = wf.metricMeter.createHistogram('trellis_approval_wait', 'int', 'ms', 'time from asking a person to the answer, by outcome');
const refused = wf.metricMeter.createCounter('trellis_answers_refused', undefined, "people's answers refused, by code");
const runs = wf.metricMeter.createCounter('trellis_runs_ended', undefined, 'runs ended, by status');

export class RunMetrics {
  private readonly started = new Map<string, { kind: string; atMs: number }>();
  private readonly asked = new Map<string, number>();

  /** One event of the run, at workflow time `atMs`. */
  observe(type: RunEventType, atMs: number, step: string | undefined, data: Record<string, unknown> | undefined): void {
    if (type === 'run.ended') {
      runs.add(1, { status: String(data?.status ?? 'unknown') });
      return;
    }
    if (step === undefined) return;
    if (type === 'step.started') {
      this.started.set(step, { kind: String(data?.kind ?? 'unknown'), atMs });
    } else if (type === 'step.waiting') {
      this.asked.set(step, atMs);
    } else if (type === 'step.decided') {
      const since = this.asked.get(step);
      this.asked.delete(step);
      if (since !== undefined) approvalWait.record(atMs - since, { outcome: data?.approved === true ? 'approved' : 'denied' });
    } else {
      const start = this.started.get(step);
      this.started.delete(step);
      const outcome = type === 'step.failed' ? 'failed' : String(data?.status ?? 'completed');
      const kind = start?.kind ?? 'unknown';
      steps.add(1, { kind, outcome });
      if (start !== undefined) stepLatency.record(atMs - start.atMs, { kind, outcome });
    }
  }

  /** A person's answer was refused (a signal's, or an update's before it is accepted). */
  refusedAnswer(code: string): void {
    refused.add(1, { code });
  }
}
