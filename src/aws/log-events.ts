import { FilterLogEventsCommand, type FilterLogEventsCommandOutput } from '@aws-sdk/client-cloudwatch-logs';
import { GetJobRunsCommand, type GetJobRunsCommandOutput, type JobRun } from '@aws-sdk/client-glue';
import type { AwsClients } from './clients.js';

/** One CloudWatch Logs event as FilterLogEvents returns it. */
export interface RawLogEvent {
  readonly eventId: string;
  readonly timestamp: number;
  readonly logStreamName: string;
  readonly message: string;
}

/** Options of {@link readLogEvents}. */
export interface ReadLogEventsOptions {
  readonly logGroupName: string;
  /** Milliseconds since the epoch, inclusive. */
  readonly startTime: number;
  /** Milliseconds since the epoch, inclusive. @default now */
  readonly endTime?: number;
  /** A CloudWatch Logs filter pattern. @default every event */
  readonly filterPattern?: string;
  /** Only streams whose name starts with it (a Glue job run's streams start with the run id). @default every stream */
  readonly logStreamNamePrefix?: string;
  /** Most events read; reading stops there. */
  readonly maxEvents: number;
}

/** What {@link readLogEvents} read. */
export interface ReadLogEventsResult {
  /** False when the log group does not exist. */
  readonly exists: boolean;
  /** The events, oldest first. */
  readonly events: readonly RawLogEvent[];
  /** Whether reading stopped at `maxEvents` with more events left. */
  readonly truncated: boolean;
}

/**
 * Reads the events of one log group between two times with FilterLogEvents, page after page, up to `maxEvents`.
 * A log group that does not exist is reported as such, not thrown.
 */
export async function readLogEvents(clients: AwsClients, options: ReadLogEventsOptions): Promise<ReadLogEventsResult> {
  const events: RawLogEvent[] = [];
  let nextToken: string | undefined;
  do {
    let reply: FilterLogEventsCommandOutput;
    try {
      reply = await send(nextToken);
    } catch (error) {
      if ((error as { name?: string }).name === 'ResourceNotFoundException') return { exists: false, events, truncated: false };
      throw error;
    }
    for (const event of reply.events ?? []) {
      // The stream prefix is checked here too: it is what decides which Glue run an event belongs to.
      const stream = event.logStreamName ?? '';
      if (options.logStreamNamePrefix !== undefined && !stream.startsWith(options.logStreamNamePrefix)) continue;
      if (events.length === options.maxEvents) return { exists: true, events, truncated: true };
      events.push({
        eventId: event.eventId ?? `${stream}/${event.timestamp}/${events.length}`,
        timestamp: event.timestamp ?? 0,
        logStreamName: stream,
        message: event.message ?? '',
      });
    }
    nextToken = reply.nextToken;
  } while (nextToken);
  return { exists: true, events, truncated: false };

  function send(token: string | undefined) {
    return clients.logs.send(
      new FilterLogEventsCommand({
        logGroupName: options.logGroupName,
        startTime: options.startTime,
        ...(options.endTime === undefined ? {} : { endTime: options.endTime }),
        ...(options.filterPattern === undefined ? {} : { filterPattern: options.filterPattern }),
        ...(options.logStreamNamePrefix === undefined ? {} : { logStreamNamePrefix: options.logStreamNamePrefix }),
        ...(token === undefined ? {} : { nextToken: token }),
      }),
    );
  }
}

/** A Glue job run, as far as finding its logs needs. */
export interface GlueRunLogs {
  readonly id: string;
  readonly startedOn?: Date;
  readonly completedOn?: Date;
  /** The `--execution-id` argument the stage B state machine passed. */
  readonly executionId?: string;
  /** The log groups the run writes to: `<LogGroupName>/output` and `<LogGroupName>/error`. */
  readonly logGroups: { readonly output: string; readonly error: string };
}

/** Where Glue writes a job run's logs when the run names no log group. */
export const DEFAULT_GLUE_LOG_GROUP = '/aws-glue/jobs';

/** Most job runs of one job that {@link listGlueRuns} reads (GetJobRuns lists the newest first). */
export const MAX_GLUE_RUNS = 200;

/**
 * Lists the runs of a Glue job, newest first, that may have logged after `since` (started after it, or still
 * running then); undefined when the job does not exist.
 */
export async function listGlueRuns(clients: AwsClients, jobName: string, since: number): Promise<GlueRunLogs[] | undefined> {
  const runs: GlueRunLogs[] = [];
  let nextToken: string | undefined;
  let read = 0;
  do {
    let reply: GetJobRunsCommandOutput;
    try {
      reply = await clients.glue.send(new GetJobRunsCommand({ JobName: jobName, NextToken: nextToken }));
    } catch (error) {
      if ((error as { name?: string }).name === 'EntityNotFoundException') return undefined;
      throw error;
    }
    const page = reply.JobRuns ?? [];
    read += page.length;
    for (const run of page) {
      if (run.Id && mayHaveLoggedSince(run, since)) runs.push(glueRunLogs(run, run.Id));
    }
    // Runs come newest first: once a page ends before `since`, older pages cannot log after it.
    const oldest = page.at(-1);
    if (oldest?.StartedOn && oldest.CompletedOn && oldest.CompletedOn.getTime() < since) break;
    nextToken = reply.NextToken;
  } while (nextToken && read < MAX_GLUE_RUNS);
  return runs;
}

function mayHaveLoggedSince(run: JobRun, since: number): boolean {
  if (run.StartedOn && run.StartedOn.getTime() >= since) return true;
  return run.CompletedOn === undefined || run.CompletedOn.getTime() >= since;
}

function glueRunLogs(run: JobRun, id: string): GlueRunLogs {
  const base = (run.LogGroupName ?? DEFAULT_GLUE_LOG_GROUP).replace(/\/+$/, '');
  return {
    id,
    startedOn: run.StartedOn,
    completedOn: run.CompletedOn,
    executionId: run.Arguments?.['--execution-id'],
    logGroups: { output: `${base}/output`, error: `${base}/error` },
  };
}
