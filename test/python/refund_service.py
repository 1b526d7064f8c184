"""A refund service written against the Temporal Python SDK only: it drives a Trellis run (workflow type
`trellisRun`) through Temporal's client API, the way a service in any language can, with no Trellis code.

    python refund_service.py --spec SPEC.json --order-id ID --workflow-id ID \
        [--address HOST:PORT] [--namespace NS] [--task-queue QUEUE]

(--address, --namespace and --task-queue default to TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and
TRELLIS_TASK_QUEUE.) It prints one JSON line per stage on stdout, so a test can check each:

    started    the run is started, with one argument {"spec": ..., "input": {"orderId": ...}}
    waiting    the status query says the run waits for a person at step "ok" (the approval)
    decided    the decide update answered "ok" (approved by alice); its result
    waiting    the run waits at step "refund" (the policy gate in front of refund_order: amount over 100)
    refused    decisions that must be refused, sent while the run still waits (so the refusal, not the end of
               the run, is what answers): "ok" again (already decided), and one without a step (malformed);
               each with the update failure's cause: type, non_retryable, message and first detail
    decided    the decide update answered "refund" (approved by bob)
    result     the workflow's result, a RunResult: {"output", "steps", "tokens", "executed"}

A stage that goes wrong prints {"stage": "error", ...} and exits 1; a refusal that does not have the expected
shape is printed as it is (the test judges it), and the script goes on.
"""

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import timedelta

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

POLL_SECONDS = 0.1
WAIT_SECONDS = 30


def emit(stage, **fields):
    print(json.dumps({"stage": stage, **fields}, default=str), flush=True)


async def wait_for_pending(handle, step):
    """Polls the status query until the run waits and its first pending step is `step`; returns the view."""
    deadline = time.monotonic() + WAIT_SECONDS
    view = None
    while time.monotonic() < deadline:
        view = await handle.query("status")
        pending = view.get("pending") or []
        if view.get("status") == "waiting" and pending and pending[0].get("step") == step:
            return view
        if view.get("status") in ("completed", "failed", "cancelled"):
            break
        await asyncio.sleep(POLL_SECONDS)
    raise RuntimeError(
        f"the run never waited at step {step!r}; last status: {json.dumps(view, default=str)[:2000]}"
    )


def describe_failure(err):
    """What a client sees of a refused update: the error's class, and its cause as an ApplicationError."""
    cause = err.cause if isinstance(err, WorkflowUpdateFailedError) else None
    out = {"error": type(err).__name__, "message": str(err)}
    if isinstance(cause, ApplicationError):
        details = list(cause.details or ())
        out["cause"] = {
            "class": type(cause).__name__,
            "type": cause.type,
            "non_retryable": cause.non_retryable,
            "message": cause.message,
            "details_count": len(details),
            "detail": details[0] if details else None,
        }
    elif cause is not None:
        out["cause"] = {"class": type(cause).__name__, "message": str(cause)}
    return out


async def refuse(handle, label, decision):
    try:
        accepted = await handle.execute_update("decide", decision)
    except WorkflowUpdateFailedError as err:
        emit("refused", case=label, sent=decision, **describe_failure(err))
    except Exception as err:  # noqa: BLE001 - anything else is reported for the test to judge
        emit("refused", case=label, sent=decision, error=type(err).__name__, message=str(err))
    else:
        emit("refused", case=label, sent=decision, error=None, accepted=accepted)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", default=os.environ.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"))
    parser.add_argument("--namespace", default=os.environ.get("TEMPORAL_NAMESPACE", "default"))
    parser.add_argument("--task-queue", default=os.environ.get("TRELLIS_TASK_QUEUE", "trellis"))
    parser.add_argument("--spec", required=True, help="a file holding the spec as JSON")
    parser.add_argument("--order-id", required=True)
    parser.add_argument("--workflow-id", required=True)
    opts = parser.parse_args()

    with open(opts.spec, encoding="utf-8") as f:
        spec = json.load(f)

    client = await Client.connect(opts.address, namespace=opts.namespace)
    handle = await client.start_workflow(
        "trellisRun",
        {"spec": spec, "input": {"orderId": opts.order_id}},
        id=opts.workflow_id,
        task_queue=opts.task_queue,
        execution_timeout=timedelta(minutes=5),
    )
    emit("started", workflowId=handle.id, runId=handle.result_run_id)

    view = await wait_for_pending(handle, "ok")
    emit("waiting", step="ok", pending=view["pending"])
    answer = await handle.execute_update("decide", {"step": "ok", "approved": True, "by": "alice"})
    emit("decided", step="ok", result=answer)

    view = await wait_for_pending(handle, "refund")
    emit("waiting", step="refund", pending=view["pending"])

    await refuse(handle, "already_decided", {"step": "ok", "approved": True, "by": "carol"})
    await refuse(handle, "malformed", {"approved": True, "by": "mallory"})

    answer = await handle.execute_update("decide", {"step": "refund", "approved": True, "by": "bob"})
    emit("decided", step="refund", result=answer)

    result = await handle.result()
    emit("result", result=result)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as err:  # noqa: BLE001
        emit("error", error=type(err).__name__, message=str(err))
        sys.stdout.flush()
        os._exit(1)
    # The work is done and printed. Leave without the interpreter's teardown, where the SDK's native runtime can
    # still crash its threads now and then (seen: the process ended by a signal after printing its result).
    sys.stdout.flush()
    os._exit(0)
