/**
 * The addresses people are sent to: the inbox page of a run and an approval link, both served by `trellis serve`
 * at TRELLIS_PUBLIC_URL, and the run in the Temporal UI. One place, so notifications and the inbox agree.
 */

/** `${publicUrl}/inbox/runs/${run}`: the inbox page of one run. */
export function inboxRunUrl(publicUrl: string, run: string): string {
  return `${trimSlash(publicUrl)}/inbox/runs/${encodeURIComponent(run)}`;
}

/** `${publicUrl}/a/${token}`, with `?decision=` when the link picks approve or deny in advance (Slack's buttons). */
export function approvalLinkUrl(publicUrl: string, token: string, decision?: 'approve' | 'deny'): string {
  return `${trimSlash(publicUrl)}/a/${token}${decision ? `?decision=${decision}` : ''}`;
}

/** The run in the Temporal UI: its latest execution under the workflow id. */
export function temporalUiRunUrl(uiUrl: string, namespace: string, run: string): string {
  return `${trimSlash(uiUrl)}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(run)}`;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
