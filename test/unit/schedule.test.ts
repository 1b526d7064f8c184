/** The interpreter's decisions, without Temporal: what starts, what is skipped and why, what fails, the output. */
import { describe, expect, it } from 'vitest';
import { allEnded, decide, planRun, runOutput, type Decision } from '../../src/engine/schedule.js';
import { initialSteps, type StepState } from '../../src/engine/state.js';
import type { Spec } from '../../src/spec/schema.js';

const run = { id: 'r1', workflowId: 'r1', temporalRunId: 't1', startedAt: '2026-01-01T00:00:00.000Z' };
const spec = (steps: Spec['steps'], output?: unknown): Spec => ({ version: 1, name: 't', steps, ...(output !== undefined && { output }) });
const summary = (ds: Decision[]) => ds.map((d) => `${d.type} ${d.step}${d.type === 'start' ? '' : `: ${d.reason}`}`);

function complete(steps: Record<string, StepState>, id: string, output: unknown): void {
  steps[id] = { status: 'completed', output, attempts: 1 };
}

describe('decide', () => {
  it('starts every step whose dependencies are done, in dependency order', () => {
    const plan = planRun(
      spec([
        { id: 'join', kind: 'llm', prompt: '${steps.a} ${steps.b}' },
        { id: 'a', kind: 'tool', tool: 't', args: { x: 1 } },
        { id: 'b', kind: 'tool', tool: 't', args: { x: '${input.n + 1}' } },
      ]),
    );
    expect(plan.order).toEqual(['a', 'b', 'join']);
    const steps = initialSteps(plan.order);
    const first = decide(plan, steps, { n: 41 }, run);
    expect(summary(first)).toEqual(['start a', 'start b']);
    expect(first[1]).toMatchObject({ resolved: { kind: 'tool', tool: 't', args: { x: 42 } } });
    steps.a!.status = 'running';
    steps.b!.status = 'running';
    expect(decide(plan, steps, { n: 41 }, run)).toEqual([]);
    complete(steps, 'a', 'A');
    expect(decide(plan, steps, { n: 41 }, run)).toEqual([]);
    complete(steps, 'b', { v: 2 });
    expect(decide(plan, steps, { n: 41 }, run)).toEqual([{ type: 'start', step: 'join', resolved: { kind: 'llm', prompt: 'A {"v":2}' } }]);
  });

  it('bounds how many tool and llm steps start; approvals and waits always start', () => {
    const plan = planRun(
      spec([
        { id: 'a', kind: 'tool', tool: 't' },
        { id: 'b', kind: 'llm', prompt: 'x' },
        { id: 'c', kind: 'tool', tool: 't' },
        { id: 'ok', kind: 'approval', title: 'Go?', timeout: '1h', onTimeout: 'approve', approvers: ['ann'] },
        { id: 'w', kind: 'wait', duration: '1h30m' },
      ]),
    );
    const ds = decide(plan, initialSteps(plan.order), null, run, 2);
    expect(summary(ds)).toEqual(['start a', 'start b', 'start ok', 'start w']);
    expect(ds[2]).toMatchObject({ resolved: { kind: 'approval', title: 'Go?', timeoutMs: 3_600_000, onTimeout: 'approve', approvers: ['ann'] } });
    expect(ds[3]).toMatchObject({ resolved: { kind: 'wait', durationMs: 5_400_000 } });
  });

  it('skips a step whose when is false, and cascades the skip in one call', () => {
    const plan = planRun(
      spec([
        { id: 'a', kind: 'tool', tool: 't', when: 'input.go' },
        { id: 'b', kind: 'tool', tool: 't', args: { v: '${steps.a.v}' } },
        { id: 'c', kind: 'wait', duration: '1s', after: ['b'] },
        { id: 'd', kind: 'tool', tool: 't' },
      ]),
    );
    expect(summary(decide(plan, initialSteps(plan.order), { go: false }, run))).toEqual([
      'skip a: when is false: input.go',
      'start d',
      'skip b: step "a" was skipped',
      'skip c: step "b" was skipped',
    ]);
  });

  it('skips the dependents of a step that failed (onError: continue)', () => {
    const plan = planRun(
      spec([
        { id: 'a', kind: 'tool', tool: 't', onError: 'continue' },
        { id: 'b', kind: 'tool', tool: 't', after: ['a'] },
      ]),
    );
    const steps = initialSteps(plan.order);
    steps.a = { status: 'failed', output: null, reason: 'boom', attempts: 3 };
    expect(summary(decide(plan, steps, null, run))).toEqual(['skip b: step "a" failed']);
  });

  it('fails a step whose condition is not a bool or whose inputs do not evaluate', () => {
    const plan = planRun(
      spec([
        { id: 'a', kind: 'tool', tool: 't', when: 'input.n' },
        { id: 'b', kind: 'tool', tool: 't', args: { x: '${input.missing.deeper}' } },
      ]),
    );
    const ds = decide(plan, initialSteps(plan.order), { n: 3 }, run);
    expect(ds.map((d) => d.type)).toEqual(['fail', 'fail']);
    expect(ds[0]).toMatchObject({ reason: 'expression "input.n" failed: gave 3, not true or false' });
    expect(ds[1]).toMatchObject({ reason: expect.stringMatching(/^expression "input.missing.deeper" failed: no such key: missing/) });
  });

  it("fails the steps whose expressions pass the run's expression budget, shared by every decision", () => {
    const costly =
      '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(a, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(b, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(c, 1))).size() > 0';
    const plan = planRun(spec(['a', 'b', 'c'].map((id) => ({ id, kind: 'wait', duration: '1s', when: costly }))));
    const meter = { spent: 0, limit: 9_000, name: "the run's expression budget" };
    const ds = decide(plan, initialSteps(plan.order), null, run, Infinity, { meter });
    expect(ds.map((d) => d.type)).toEqual(['start', 'start', 'fail']);
    expect(summary(ds)[2]).toMatch(/^fail c: expression ".*" failed: exceeded the run's expression budget of 9,000 \(/);
    expect(meter.spent).toBeGreaterThan(7_000);
  });

  it('gives run fields to expressions', () => {
    const plan = planRun(spec([{ id: 'a', kind: 'llm', prompt: 'run ${run.id} of ${run.workflowId} at ${run.startedAt}' }]));
    expect(decide(plan, initialSteps(plan.order), null, run)[0]).toMatchObject({ resolved: { prompt: 'run r1 of r1 at 2026-01-01T00:00:00.000Z' } });
  });
});

describe('the end of a run', () => {
  it('ends when every step ended; the output sees null for skipped and failed steps', () => {
    const plan = planRun(
      spec(
        [
          { id: 'a', kind: 'tool', tool: 't' },
          { id: 'b', kind: 'tool', tool: 't' },
          { id: 'c', kind: 'tool', tool: 't', onError: 'continue' },
        ],
        { a: '${steps.a.total + 1}', b: '${steps.b}', c: '${steps.c == null}', text: 'total ${steps.a.total}' },
      ),
    );
    const steps = initialSteps(plan.order);
    complete(steps, 'a', { total: 40.5 });
    expect(allEnded(plan, steps)).toBe(false);
    steps.b = { status: 'skipped', output: null, reason: 'x', attempts: 0 };
    steps.c = { status: 'failed', output: null, reason: 'y', attempts: 1 };
    expect(allEnded(plan, steps)).toBe(true);
    expect(runOutput(plan, steps, null, run)).toEqual({ a: 41.5, b: null, c: true, text: 'total 40.5' });
  });

  it('without an output, the run returns every step output by id', () => {
    const plan = planRun(
      spec([
        { id: 'a', kind: 'tool', tool: 't' },
        { id: 'b', kind: 'wait', duration: '1s' },
      ]),
    );
    const steps = initialSteps(plan.order);
    complete(steps, 'a', 1);
    steps.b = { status: 'skipped', output: null, attempts: 0 };
    expect(runOutput(plan, steps, null, run)).toEqual({ a: 1, b: null });
  });
});
