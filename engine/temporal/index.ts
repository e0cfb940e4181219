// Temporal: the client side (start-or-signal a patient's journey run, signal engagement,
// health) and the worker bootstrap. Run ids and search attributes carry opaque ids only.
export { connectClient, journeyWorkflowId, signalEngagement, startOrSignalJourney, temporalHealthy } from './client.ts';
export type { StartOutcome, TemporalSettings } from './client.ts';
export { bundleJourneyWorkflows, createJourneyWorkers, WORKFLOWS_PATH } from './worker.ts';
export type { JourneyWorkers, WorkerSettings } from './worker.ts';
export { SEARCH_ATTRIBUTE_KEYS, SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.ts';

/** Link to one run, or to a query over runs, in the Temporal Web UI. */
export function temporalUiUrl(uiUrl: string, namespace: string, target: { workflowId: string } | { query: string }): string {
  const base = `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows`;
  return 'workflowId' in target ? `${base}/${encodeURIComponent(target.workflowId)}` : `${base}?query=${encodeURIComponent(target.query)}`;
}
export { ensureSearchAttributes } from './provision.ts';
