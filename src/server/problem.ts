/**
 * Every error the HTTP API answers is an RFC 9457 problem (`application/problem+json`): `{ type, title, status,
 * detail, code, problems? }`. One helper makes them, and one table turns the client's error codes and the
 * workflow's refusal codes into statuses, so a code means one status everywhere.
 */
import { STATUS_CODES } from 'node:http';
import type { z } from 'zod';
import { TrellisClientError, type ClientErrorCode } from '../client/errors.js';
import type { RefusalCode } from '../engine/decision.js';
import { TrellisError } from '../errors.js';
import { SavedSpecError } from '../library/saved-specs.js';
import { problemWhere, type PathSegment, type Problem } from '../spec/problems.js';
import { zodIssueProblems } from '../spec/zod-issues.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One thing wrong with a request: where (`spec.steps[0].tool`, `query.wait`), a stable code, and why. */
export interface ProblemItem {
  path: string;
  code: string;
  message: string;
}

/** The body of every error response. */
export interface ProblemBody {
  /** `urn:trellis:problem:CODE`: one type per code. */
  type: string;
  /** The status's reason phrase: the same for every problem of a type. */
  title: string;
  status: number;
  /** What went wrong this time, for a person. */
  detail: string;
  /** Stable: switch on it (docs/http-api.md lists them). */
  code: string;
  /** For a request or spec that does not validate: every problem, each with its path. */
  problems?: ProblemItem[];
}

/** An error that is already an HTTP answer: thrown by a route or a middleware, answered by the app's error handler. */
export class HttpProblem extends TrellisError {
  constructor(
    readonly status: number,
    code: string,
    detail: string,
    readonly problems?: ProblemItem[],
    /** Headers of the answer (WWW-Authenticate on a 401). */
    readonly headers: Record<string, string> = {},
  ) {
    super(code, detail);
  }
}

/** What each client error code answers. */
const CLIENT_STATUS: Record<ClientErrorCode, number> = {
  SPEC_INVALID: 422,
  INPUT_INVALID: 422,
  RUN_EXISTS: 409,
  RUN_NOT_FOUND: 404,
  APPROVAL_REFUSED: 409, // by its refusal, below
  NO_CONNECTION: 503,
  NO_WORKER: 503,
  LIST_UNSUPPORTED: 501,
};

/**
 * What each refusal of an answer answers. The answer over HTTP is well formed and signed by the server, so
 * malformed and anonymous mean the caller sent something the schema let through; unsigned and signature_invalid
 * mean the worker holds a decision key this server does not (a setup error, not the caller's).
 */
const REFUSAL_STATUS: Record<RefusalCode, number> = {
  not_an_approver: 403,
  not_waiting: 409,
  already_decided: 409,
  malformed: 422,
  anonymous: 422,
  unsigned: 500,
  signature_invalid: 500,
};

/** The problem body of a status, a code and a detail. */
export function problemBody(status: number, code: string, detail: string, problems?: ProblemItem[]): ProblemBody {
  return {
    type: `urn:trellis:problem:${code}`,
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(problems && problems.length > 0 && { problems }),
  };
}

/** An HttpProblem as a Response. */
export function problemResponse(p: HttpProblem): Response {
  return new Response(JSON.stringify(problemBody(p.status, p.code, p.message, p.problems)), {
    status: p.status,
    headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...p.headers },
  });
}

/**
 * The HTTP answer to an error a route let through; undefined for an unexpected one (the caller logs it and answers
 * 500, with no detail a stack could leak).
 */
export function problemFor(e: unknown): HttpProblem | undefined {
  if (e instanceof HttpProblem) return e;
  if (e instanceof TrellisClientError) {
    if (e.code === 'APPROVAL_REFUSED' && e.refusal) {
      const setup = REFUSAL_STATUS[e.refusal] === 500 ? " (the server signs answers with its TRELLIS_DECISION_KEY: it must be the worker's)" : '';
      return new HttpProblem(REFUSAL_STATUS[e.refusal], e.refusal, `${e.message}${setup}`);
    }
    const problems = e.problems.map((p) => problemItem(p, e.code === 'SPEC_INVALID' ? ['spec'] : []));
    return new HttpProblem(CLIENT_STATUS[e.code], e.code, e.message, problems);
  }
  // A saved spec that `specName` names and that is missing, ambiguous or invalid: the request names a spec it cannot use.
  if (e instanceof SavedSpecError) return new HttpProblem(422, e.code, e.message, [{ path: 'specName', code: e.code, message: e.message }]);
  return undefined;
}

/** A validator's problem, with its path from the body's root (`base`: where the validated value sits). */
export function problemItem(p: Problem, base: PathSegment[] = []): ProblemItem {
  const path = base.length > 0 && p.path.length === 0 && !p.location ? base : [...base, ...p.path];
  return { path: problemWhere({ ...p, path }), code: p.code, message: p.message };
}

/**
 * A request that does not match its schema: 422 `malformed`, with each zod issue as a problem. `data` is what was
 * checked (each issue gets the value at its path, so messages say what came); `target` is where it came from.
 */
export function malformedRequest(issues: readonly z.core.$ZodIssue[], data: unknown, target: string): HttpProblem {
  const base = target === 'json' || target === 'form' ? [] : [target];
  const withInput = issues.map((issue) => ({ ...issue, input: valueAt(data, issue.path) }));
  const problems = zodIssueProblems(withInput as z.core.$ZodIssue[], { base }).map((p) => problemItem(p));
  const where = target === 'json' || target === 'form' ? 'the body' : `the ${target === 'param' ? 'path' : target}`;
  return new HttpProblem(
    422,
    'malformed',
    `${where} does not match its schema: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
    problems,
  );
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let v = data;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}
