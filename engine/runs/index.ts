// Runs: what happens at a node of a patient's run, against current data — loading the run's
// facts (declared trigger fields and patient attributes only), evaluating conditions and times,
// updating the patient, calling webhooks, recording goals and the end of a run. No Temporal here:
// activities call these, and the API uses the facts to match events.
export { loadRunFacts, patientFacts, type RunFacts } from './facts.ts';
export { evaluateNode, updatePatient, recordGoal, markEnrollmentEnded } from './nodes.ts';
export { callWebhook, type WebhookSettings } from './webhook.ts';
