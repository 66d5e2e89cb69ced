/**
 * The pipeline core: plain functions behind ports, shared by the Lambda handlers and the local runner.
 */
export * from './deps.js';
export * from './executions.js';
export * from './ids.js';
export * from './metadata-items.js';
export * from './model.js';
export * from './ports.js';
export * from './records.js';
export * from './route.js';
export * from './sql.js';
export * from './stage-a.js';
export * from './stage-b.js';
export * from './step.js';
