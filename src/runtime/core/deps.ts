/**
 * What the pipeline functions need from the outside world, and the errors they raise for bad input.
 */
import type { Clock, CoreLogger, DatasetConfigSource, MetadataStore, ObjectStore, QueuePort, WorkflowPort } from './ports.js';

/** Every port the pipeline uses. Each function takes the subset it needs (`Pick<PipelineDeps, …>`). */
export interface PipelineDeps {
  readonly store: ObjectStore;
  readonly metadata: MetadataStore;
  readonly queue: QueuePort;
  readonly configs: DatasetConfigSource;
  readonly workflow: WorkflowPort;
  readonly logger: CoreLogger;
  /** Called each time a timestamp is taken; the handlers pass `() => new Date()`. */
  readonly clock: Clock;
}

/**
 * An event or message that does not have the shape the pipeline expects (a hand-sent test event, a message from
 * an older version). Handlers drop it with an error log (or leave it to the queue's DLQ); it is never retried
 * forever.
 */
export class MalformedInputError extends Error {
  /** Machine-readable reason. */
  readonly code = 'MALFORMED_INPUT';

  constructor(
    /** What was being read: "S3 Object Created event", "stage A message". */
    readonly what: string,
    /** What is wrong with it. */
    readonly reason: string,
  ) {
    super(`Malformed ${what}: ${reason}`);
    this.name = 'MalformedInputError';
  }
}

/** A dataset the configuration source does not know (deregistered, or never registered). */
export class UnknownDatasetError extends Error {
  /** Machine-readable reason. */
  readonly code = 'UNKNOWN_DATASET';

  constructor(
    readonly team: string,
    readonly dataset: string,
  ) {
    super(`Dataset ${team}/${dataset} is not registered: no configuration parameter exists for it.`);
    this.name = 'UnknownDatasetError';
  }
}

/** Reads a required string property of an untrusted object. */
export function requireString(value: Record<string, unknown>, name: string, what: string): string {
  const field = value[name];
  if (typeof field !== 'string' || field.length === 0) {
    throw new MalformedInputError(what, `"${name}" must be a non-empty string, got ${JSON.stringify(field) ?? 'undefined'}`);
  }
  return field;
}

/** Reads an optional string property of an untrusted object. */
export function optionalString(value: Record<string, unknown>, name: string, what: string): string | undefined {
  const field = value[name];
  if (field === undefined || field === null) return undefined;
  if (typeof field !== 'string') throw new MalformedInputError(what, `"${name}" must be a string, got ${JSON.stringify(field)}`);
  return field;
}

/** Parses JSON text that must be an object. */
export function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MalformedInputError(what, `not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedInputError(what, 'expected a JSON object');
  }
  return value as Record<string, unknown>;
}
