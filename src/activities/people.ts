/**
 * A run starts waiting for a person: this activity is that moment in the run's history and the Temporal UI's
 * timeline, with what is asked (the step, the title, a gated tool's args, the approvers, the deadline). The workflow
 * does not wait for it. It logs the question, so a worker's log says who is waited for.
 */
import { log } from '@temporalio/activity';
import type { PendingApproval } from '../engine/messages.js';

export interface PersonAsked extends PendingApproval {
  /** The run's id. */
  run: string;
}

export function createPeopleActivities() {
  return {
    async askPerson(asked: PersonAsked): Promise<void> {
      log.info('waiting for a person', { run: asked.run, step: asked.step, title: asked.title, source: asked.source });
    },
  };
}
