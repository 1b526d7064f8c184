/**
 * The TrellisStatus search attribute mirrors each run's status (running, waiting, completed, failed,
 * cancelled), so `trellis list --status waiting` is a visibility query, not a scan of every run.
 */
import proto from '@temporalio/proto';

/** The name of the Keyword search attribute that mirrors a run's status: `TrellisStatus = 'waiting'` in a visibility query. */
export const STATUS_SEARCH_ATTRIBUTE = 'TrellisStatus';

type OperatorService = proto.temporal.api.operatorservice.v1.OperatorService;

/** Whether the namespace has the attribute; rejects with the server's error when it cannot be asked. */
export async function hasStatusAttribute(operator: OperatorService, namespace: string): Promise<boolean> {
  const r = await operator.listSearchAttributes({ namespace });
  return STATUS_SEARCH_ATTRIBUTE in (r.customAttributes ?? {});
}

/** Registers the attribute when it is missing; false when the server refuses (Temporal Cloud wants it made in its console). */
export async function ensureStatusAttribute(operator: OperatorService, namespace: string): Promise<boolean> {
  try {
    if (await hasStatusAttribute(operator, namespace)) return true;
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: { [STATUS_SEARCH_ATTRIBUTE]: proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
    return true;
  } catch {
    return false;
  }
}
