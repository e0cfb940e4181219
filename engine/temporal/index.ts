// Temporal: the client side (start a patient's journey run, signal engagement, events and stops,
// audience schedules, health) and the worker bootstrap. Run ids and search attributes carry opaque ids only.
export {
  audienceScheduleId,
  connectClient,
  deleteAudienceSchedule,
  journeyWorkflowId,
  signalConsentChanged,
  signalEngagement,
  signalPatientEvent,
  signalStop,
  startAuthorizationCopy,
  startJourneyRun,
  temporalHealthy,
  TemporalUnreachableError,
  upsertAudienceSchedule,
} from './client.ts';
export type { TemporalSettings } from './client.ts';
export { bundleJourneyWorkflows, createJourneyWorkers, WORKFLOWS_PATH } from './worker.ts';
export type { JourneyWorkers, WorkerSettings } from './worker.ts';
export { SEARCH_ATTRIBUTE_KEYS, SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.ts';

/** Link to one run, or to a query over runs, in the Temporal Web UI. */
export function temporalUiUrl(uiUrl: string, namespace: string, target: { workflowId: string } | { query: string }): string {
  const base = `${uiUrl}/namespaces/${encodeURIComponent(namespace)}/workflows`;
  return 'workflowId' in target ? `${base}/${encodeURIComponent(target.workflowId)}` : `${base}?query=${encodeURIComponent(target.query)}`;
}
export { ensureSearchAttributes } from './provision.ts';
