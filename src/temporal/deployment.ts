/**
 * Worker Versioning: a versioned worker gets new runs only once its version is the deployment's Current Version.
 * The server learns a version when a worker of it first polls, so making it current waits for that, then for the
 * new routing to reach the task queues: a run started after makeVersionCurrent resolves goes to that version.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import proto from '@temporalio/proto';
import { TrellisError } from '../errors.js';

type WorkflowService = proto.temporal.api.workflowservice.v1.WorkflowService;

/** A Worker Deployment Version: the deployment (TRELLIS_DEPLOYMENT_NAME) and the build in it (TRELLIS_BUILD_ID). */
export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

/** The version did not become current in time; `code` is DEPLOYMENT_NOT_CURRENT. */
export class DeploymentError extends TrellisError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEPLOYMENT_NOT_CURRENT', message, options);
  }
}

/** How long makeVersionCurrent waits by default: a worker's first poll reaches the server within seconds. */
export const MAKE_CURRENT_TIMEOUT_MS = 30_000;
const RETRY_MS = 200;
/** gRPC's NOT_FOUND: the server has not seen a poller of the deployment or the version yet. */
const NOT_FOUND = 5;
const { ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS } = proto.temporal.api.enums.v1.RoutingConfigUpdateState;
const { TASK_QUEUE_TYPE_WORKFLOW } = proto.temporal.api.enums.v1.TaskQueueType;
const { TASK_QUEUE_KIND_NORMAL } = proto.temporal.api.enums.v1.TaskQueueKind;

/**
 * Makes `version` the Current Version of its deployment in `namespace`, so new runs go to its workers (a run already
 * pinned to another version stays there). Waits until a worker of the version has polled, then until the server has
 * routed the task queues to it. Setting a version that is already current changes nothing.
 *
 * @throws {DeploymentError} when the version is not current within `timeoutMs` (no worker of it polls, say); the
 *   server's error for anything else (a deployment managed by another identity, a server without Worker Versioning);
 *   an AbortError when `signal` aborts the wait.
 */
export async function makeVersionCurrent(
  service: WorkflowService,
  namespace: string,
  version: DeploymentVersion,
  options: { timeoutMs?: number; identity?: string; signal?: AbortSignal } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? MAKE_CURRENT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const what = `the version ${version.buildId} of the Worker Deployment ${version.deploymentName}`;
  const timedOut = (wait: string, cause?: unknown) =>
    new DeploymentError(`${what} is not current after ${timeoutMs / 1000} s: ${wait}`, cause === undefined ? undefined : { cause });
  for (;;) {
    try {
      await service.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        ...(options.identity !== undefined && { identity: options.identity }),
      });
      break;
    } catch (e) {
      if ((e as { code?: unknown }).code !== NOT_FOUND) throw e;
      if (Date.now() >= deadline) throw timedOut('the server has not seen a worker of it poll (is one running, on this namespace?)', e);
      await sleep(RETRY_MS, undefined, { signal: options.signal });
    }
  }
  for (;;) {
    const { workerDeploymentInfo: info } = await service.describeWorkerDeployment({ namespace, deploymentName: version.deploymentName });
    const current = info?.routingConfig?.currentDeploymentVersion;
    if (current?.buildId === version.buildId) {
      if (info?.routingConfigUpdateState !== ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS) return;
      if (await workflowQueuesRouteTo(service, namespace, version)) return;
    }
    if (Date.now() >= deadline)
      throw timedOut(`the server has not yet routed the task queues to it (current: ${current?.buildId ?? 'unversioned workers'})`);
    await sleep(RETRY_MS, undefined, { signal: options.signal });
  }
}

/**
 * Whether every workflow task queue of the version routes new runs to it, as the queues themselves say. The
 * deployment's own record of the change can stay "in progress" after the queues have it (seen on Server 1.32), and
 * the queues are what new runs follow.
 */
async function workflowQueuesRouteTo(service: WorkflowService, namespace: string, version: DeploymentVersion): Promise<boolean> {
  const { versionTaskQueues } = await service.describeWorkerDeploymentVersion({ namespace, deploymentVersion: version });
  const queues = versionTaskQueues.filter((q) => q.type === TASK_QUEUE_TYPE_WORKFLOW);
  if (queues.length === 0) return false;
  const views = await Promise.all(
    queues.map((q) =>
      service.describeTaskQueue({ namespace, taskQueue: { name: q.name, kind: TASK_QUEUE_KIND_NORMAL }, taskQueueType: TASK_QUEUE_TYPE_WORKFLOW }),
    ),
  );
  return views.every((v) => v.versioningInfo?.currentDeploymentVersion?.buildId === version.buildId);
}
