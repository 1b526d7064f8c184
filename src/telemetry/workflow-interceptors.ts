/**
 * The workflow interceptors of every Trellis bundle (bundleWorkflows): Temporal's OpenTelemetry interceptors when the
 * worker traces, none otherwise. Workflow code: the modules of the bundle are evaluated again for every run, so the
 * OpenTelemetry SDK is required only when a run traces, not imported at the top.
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';
import { workerTraces } from './tracing-global.js';

// webpack resolves and bundles this call; it runs (and evaluates the SDK) only where it is reached.
declare const require: (id: string) => { interceptors: () => WorkflowInterceptors };

export const interceptors = (): WorkflowInterceptors =>
  workerTraces() ? require('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors').interceptors() : {};
