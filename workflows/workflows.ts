// Every Temporal workflow Haven runs: the entry point the worker bundles.
export { journeyWorkflow } from './journey.workflow.ts';
export { audienceRunWorkflow } from './audience.workflow.ts';
export { authorizationCopyWorkflow } from './authorization-copy.workflow.ts';
