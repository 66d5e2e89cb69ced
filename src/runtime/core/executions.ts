/**
 * Pure rules of the execution history, shared by every {@link MetadataStore} implementation: how an item is
 * created, restarted and moved between statuses. Adapters read, apply one of these, and write conditionally.
 */
import {
  ALLOWED_TRANSITIONS,
  type ExecutionFailure,
  type ExecutionItem,
  type ExecutionStatus,
  type NewExecution,
  TERMINAL_STATUSES,
  type TransitionDetails,
} from './model.js';
import { InvalidTransitionError, type MetadataStore } from './ports.js';

/** Longest failure cause kept on an item (DynamoDB items are limited to 400 KB). */
export const MAX_CAUSE_LENGTH = 4096;

/** Builds the item {@link MetadataStore.startExecution} writes for a new execution. */
export function createExecutionItem(execution: NewExecution, at: string): ExecutionItem {
  return {
    ...execution,
    status: 'STARTED',
    attempt: 1,
    startedAt: at,
    updatedAt: at,
    transitions: [{ status: 'STARTED', at, attempt: 1 }],
  };
}

/** Builds the item of a FAILED execution started again (a redrive): next attempt, history kept, failure cleared. */
export function restartExecutionItem(previous: ExecutionItem, execution: NewExecution, at: string): ExecutionItem {
  const attempt = previous.attempt + 1;
  const { failure: _failure, endedAt: _endedAt, durationMs: _durationMs, outputs: _outputs, ...kept } = previous;
  return {
    ...kept,
    ...execution,
    status: 'STARTED',
    attempt,
    startedAt: at,
    updatedAt: at,
    transitions: [...previous.transitions, { status: 'STARTED', at, attempt, note: 'restarted' }],
  };
}

/**
 * Tells whether a stored execution may be started again: a FAILED one (a redrive), or an INTERRUPTED one (its
 * local run was killed; the next run processes the object again).
 */
export function canRestart(item: ExecutionItem): boolean {
  return item.status === 'FAILED' || item.status === 'INTERRUPTED';
}

/**
 * Applies a status change to an item. Returns `undefined` when the item already has that status (a retried
 * step: nothing to write); throws {@link InvalidTransitionError} when the change is not allowed.
 */
export function applyTransition(
  item: ExecutionItem,
  status: ExecutionStatus,
  details: TransitionDetails,
): ExecutionItem | undefined {
  if (item.status === status) return undefined;
  if (!ALLOWED_TRANSITIONS[item.status].includes(status)) throw new InvalidTransitionError(item.id, item.status, status);
  const terminal = TERMINAL_STATUSES.includes(status);
  const durationMs = terminal ? Math.max(0, Date.parse(details.at) - Date.parse(item.startedAt)) : undefined;
  return {
    ...item,
    status,
    updatedAt: details.at,
    transitions: [
      ...item.transitions,
      { status, at: details.at, attempt: item.attempt, ...(details.note ? { note: details.note } : {}) },
    ],
    ...(terminal ? { endedAt: details.at, durationMs } : {}),
    ...(details.outputs ? { outputs: details.outputs } : {}),
    ...(details.failure ? { failure: truncateFailure(details.failure) } : {}),
  };
}

/** Keeps a failure's cause within {@link MAX_CAUSE_LENGTH} characters. */
export function truncateFailure(failure: ExecutionFailure): ExecutionFailure {
  if (failure.cause.length <= MAX_CAUSE_LENGTH) return failure;
  const suffix = '… (truncated)';
  return { error: failure.error, cause: `${failure.cause.slice(0, MAX_CAUSE_LENGTH - suffix.length)}${suffix}` };
}

/** Epoch seconds `days` after `at`: the TTL of an execution item. */
export function expiresAtOf(at: Date, days: number): number {
  return Math.floor(at.getTime() / 1000) + Math.round(days * 86_400);
}

/**
 * Turns a Step Functions `Catch` output (`{Error, Cause}`, where a Lambda's Cause is a JSON text with
 * `errorType`/`errorMessage`, and a Glue task's the job run, with `ErrorMessage` unless it was stopped) or any
 * thrown value into a failure to record.
 */
export function failureOf(error: unknown): ExecutionFailure {
  if (error instanceof Error) return truncateFailure({ error: error.name, cause: error.message });
  if (typeof error === 'object' && error !== null && ('Error' in error || 'Cause' in error)) {
    const { Error: name, Cause: cause } = error as { Error?: unknown; Cause?: unknown };
    const text = typeof cause === 'string' ? cause : cause === undefined ? '' : JSON.stringify(cause);
    try {
      const parsed = JSON.parse(text) as {
        errorType?: unknown;
        errorMessage?: unknown;
        ErrorMessage?: unknown;
        JobRunState?: unknown;
        Id?: unknown;
        JobName?: unknown;
      };
      const message = parsed.errorMessage ?? parsed.ErrorMessage;
      if (typeof message === 'string') {
        const type = typeof parsed.errorType === 'string' ? parsed.errorType : String(name ?? 'Error');
        return truncateFailure({ error: type, cause: message });
      }
      // A Glue job run that ended without an error of its own (STOPPED): its state says what happened.
      if (typeof parsed.JobRunState === 'string' && typeof parsed.Id === 'string') {
        const job = typeof parsed.JobName === 'string' ? ` of the Glue job ${parsed.JobName}` : '';
        const cause = `The job run ${parsed.Id}${job} ended ${parsed.JobRunState}.`;
        return truncateFailure({ error: String(name ?? 'Error'), cause });
      }
    } catch {
      // Not JSON: the cause is plain text.
    }
    return truncateFailure({ error: String(name ?? 'Error'), cause: text || String(name ?? 'unknown error') });
  }
  return truncateFailure({ error: 'Error', cause: String(error) });
}
