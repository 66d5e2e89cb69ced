/**
 * The pipeline core: plain functions behind ports, shared by the Lambda handlers and the local runner.
 */
export * from './model.js';
export * from './ports.js';
export * from './sql.js';
