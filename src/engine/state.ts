/**
 * The state of one run, as the interpreter keeps it and the status query returns it. Plain JSON, so it can
 * cross the workflow boundary and be shown as it is.
 */
export type StepStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'skipped' | 'failed';

export type RunStatus = 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';

export interface TokenUsage {
  prompt: number;
  completion: number;
  total: number;
}

export interface StepState {
  status: StepStatus;
  /** The step's output once completed; null otherwise (skipped, failed with onError: continue). */
  output: unknown;
  /** Why it was skipped, or what failed. */
  reason?: string;
  attempts: number;
  tokens?: TokenUsage;
  /** A call step's child run (its workflow id): where its own steps and approvals are. */
  run?: string;
}

export interface RunInfo {
  id: string;
  workflowId: string;
  startedAt: string;
}

export const TERMINAL: ReadonlySet<StepStatus> = new Set(['completed', 'skipped', 'failed']);

export function initialSteps(ids: readonly string[]): Record<string, StepState> {
  return Object.fromEntries(ids.map((id) => [id, { status: 'pending', output: null, attempts: 0 } satisfies StepState]));
}

export function addTokens(a: TokenUsage | undefined, b: TokenUsage): TokenUsage {
  return { prompt: (a?.prompt ?? 0) + b.prompt, completion: (a?.completion ?? 0) + b.completion, total: (a?.total ?? 0) + b.total };
}
