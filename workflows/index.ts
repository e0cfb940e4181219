// The journey language: schema, validation, expressions (CEL), the pure interpreter, event
// matching and send-window rules. Shared by the editor, the API and the worker; free of Node APIs
// and I/O. (The Temporal workflow itself lives in journey.workflow.ts and is loaded by the
// worker's bundler, not through this file.)
export * from './schema.ts';
export * from './validate.ts';
export * from './interpreter.ts';
export * from './duration.ts';
export * from './expressions.ts';
export * from './events.ts';
export * from './send-window.ts';
export type * from './activity-types.ts';
export * from './simulate.ts';
export * from './can-spam.ts';
