/**
 * Answers over HTTP: the answerer is the caller (the token), never the body. The server checks the gate's approvers
 * first for a clear 403, then sends the answer through the client (signed when the server holds the decision key);
 * the workflow's own check is the authority, and its refusals keep their codes.
 */
import { createRoute } from '@hono/zod-openapi';
import { answererFor, mayAnswer, requireScope } from '../auth.js';
import type { ServerDeps } from '../deps.js';
import { HttpProblem, malformedRequest } from '../problem.js';
import { DecisionBody, DecisionRecorded, RunIdParams } from '../schemas.js';
import { BEARER, errors, json, routesApp } from './common.js';

const decide = createRoute({
  method: 'post',
  path: '/v1/runs/{id}/decisions',
  summary: 'Approve or deny a step that waits for a person',
  description:
    'Recorded as the caller: an API key as `key:NAME`, a person as the email or sub their token names (whichever the gate lists), with their groups. A `by` in the body is refused (422).',
  security: BEARER,
  middleware: [requireScope('decide')] as const,
  request: { params: RunIdParams, body: { required: true, content: { 'application/json': { schema: DecisionBody } } } },
  responses: { 200: json(DecisionRecorded, 'the answer, as the run recorded it'), ...errors(403, 404, 409, 422, 503) },
});

/** POST /v1/runs/{id}/decisions. */
export function decisionRoutes({ client }: ServerDeps) {
  const app = routesApp();
  app.openapi(
    decide,
    async (c) => {
      const { id } = c.req.valid('param');
      const { step, approved, comment } = c.req.valid('json');
      const principal = c.get('principal');
      const gate = (await client.status(id)).pending.find((p) => p.step === step);
      const answerer = answererFor(principal, gate?.approvers);
      if (gate && !mayAnswer(principal, gate.approvers)) {
        throw new HttpProblem(403, 'not_an_approver', `${answerer.by} may not answer step "${step}" (approvers: ${gate.approvers!.join(', ')})`);
      }
      const answer = { ...answerer, ...(comment !== undefined && { comment }) };
      const decision = approved ? await client.approve(id, step, answer) : await client.deny(id, step, answer);
      return c.json({ runId: id, step, ...decision }, 200);
    },
    (result): undefined => {
      if (result.success) return undefined;
      const problem = malformedRequest(result.error.issues, (result as { data?: unknown }).data, result.target);
      // A `by` is not a typo to suggest a fix for: over HTTP the token says who answers.
      const by =
        result.target === 'json' && result.error.issues.some((i) => i.code === 'unrecognized_keys' && i.path.length === 0 && i.keys.includes('by'));
      if (!by) throw problem;
      throw new HttpProblem(
        422,
        'malformed',
        'a decision over HTTP takes no "by": it is recorded as the caller, whom the bearer token names',
        problem.problems,
      );
    },
  );
  return app;
}
