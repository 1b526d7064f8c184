/** What the API's route modules share: the app type they build on, and the documented error answers. */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { AuthEnv } from '../auth.js';
import { PROBLEM_CONTENT_TYPE } from '../problem.js';
import { ProblemSchema } from '../schemas.js';

/** A route module's app: authenticated routes, c.var.principal set. */
export function routesApp(): OpenAPIHono<AuthEnv> {
  return new OpenAPIHono<AuthEnv>();
}

/** The security requirement of every authenticated route (the scheme is registered by the app). */
export const BEARER = [{ bearer: [] }];

const WHEN: Record<number, string> = {
  401: 'no credentials, or ones that prove no one',
  403: 'the caller lacks the scope, or may not answer this gate (not_an_approver)',
  404: 'no run has this id (RUN_NOT_FOUND)',
  409: 'a conflict: RUN_EXISTS, not_waiting, already_decided, RUN_ENDED',
  422: 'the request does not validate (malformed, SPEC_INVALID, INPUT_INVALID, ...): every problem, each with its path',
  503: 'Temporal cannot be reached (NO_CONNECTION)',
};

/** The problem answers a route documents, by status. */
export function errors(...statuses: (keyof typeof WHEN)[]) {
  return Object.fromEntries(
    [401, ...statuses].map((s) => [s, { description: WHEN[s]!, content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } }]),
  ) as Record<number, { description: string; content: Record<string, { schema: typeof ProblemSchema }> }>;
}

/** A JSON answer of a route's documentation. */
export function json<S>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } };
}
