import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import type { AwsClients } from '../aws/clients.js';
import { findDataset } from '../aws/datasets.js';
import { listGlueRuns, type RawLogEvent, readLogEvents } from '../aws/log-events.js';
import { type AwsCommandOptions, openSession } from '../aws/session.js';
import { type AwsTarget, namingOf, requireDeploymentEnvironment } from '../aws/target.js';
import type { DatasetConfig, DeploymentEnvironment, Project } from '../config/model.js';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import {
  DEFAULT_POLLING_INTERVAL_MS,
  DEFAULT_TIMEOUT_MINUTES,
  formatMinutes,
  systemClock,
  type WaitClock,
  type WaitLimits,
} from '../core/wait.js';
import { pipelineHasStageB } from './heavy-transform.js';
import {
  checkExecutionId,
  DatasetEventFilter,
  formatEvent,
  glueSources,
  type LogSource,
  type LogStage,
  logSources,
  ownerOfInput,
  parseSince,
  writtenBy,
} from './log-lines.js';

/** `--since` unless told otherwise. */
export const DEFAULT_SINCE = '1h';
/** Events shown unless `--limit` says otherwise (the newest ones). */
export const DEFAULT_LOG_LIMIT = 200;
/** Most events read from one log group per read; a group with more is cut there, with a note. */
export const MAX_EVENTS_PER_GROUP = 10_000;
/** Most Glue job runs whose logs are read. */
export const MAX_GLUE_RUNS_READ = 20;
/** Most executions looked up with DescribeExecution to tell their dataset. */
export const MAX_EXECUTION_LOOKUPS = 50;
/** How far before the previous poll each poll of a follow reads, for events that reach CloudWatch late (duplicates are dropped). */
export const FOLLOW_OVERLAP_MS = 5_000;

/** Options of {@link showLogs}. */
export interface ShowLogsOptions extends AwsCommandOptions, WaitLimits {
  readonly team: string;
  readonly dataset: string;
  /** One stage only. @default both (stage A only for a pipeline without stage B) */
  readonly stage?: LogStage;
  /** A duration back from now (`30m`, `1h`, `2d`) or an ISO-8601 time. @default '1h' */
  readonly since?: string;
  /** Keeps reading new events every `pollingIntervalMs` until `timeoutMinutes` pass or `signal` aborts. @default false */
  readonly follow?: boolean;
  /** Only the events of this execution (an id as `sdlf status` prints it). */
  readonly execution?: string;
  /** Most events shown of those already there (the newest ones). @default 200 */
  readonly limit?: number;
  /** Stops a follow (SIGINT). */
  readonly signal?: AbortSignal;
  /** Receives the events as they are read, oldest first: first those already there, then each poll's new ones. */
  readonly onEvents?: (events: readonly LogEvent[]) => void;
}

/** One log event, attributed to its source. */
export interface LogEvent {
  /** ISO-8601 time of the event. */
  readonly time: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** Short name of what wrote it (`routing`, `step`, `stage-b-states`, `glue:error`…). */
  readonly source: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly eventId: string;
  /** The level, when the line has one (`INFO`, `ERROR`…). */
  readonly level?: string;
  /** The message on one line: a JSON line's message and useful keys, a state machine event's type and state. */
  readonly text: string;
  /** The message as CloudWatch holds it. */
  readonly message: string;
}

/** A log group read, and whether it exists. */
export interface LogSourceState {
  readonly source: string;
  readonly logGroup: string;
  readonly found: boolean;
}

/** What {@link showLogs} read. */
export interface ShowLogsResult {
  readonly env: string;
  readonly team: string;
  readonly dataset: string;
  readonly stages: readonly LogStage[];
  /** ISO-8601 start of the window read. */
  readonly since: string;
  readonly execution?: string;
  readonly sources: readonly LogSourceState[];
  /** The events shown, oldest first. */
  readonly events: readonly LogEvent[];
  /** Events of the window left out by `limit` (the oldest ones). */
  readonly omitted: number;
  /** Why a follow stopped. */
  readonly stoppedBy?: 'timeout' | 'interrupt';
}

/**
 * Shows a dataset's CloudWatch logs, or one stage's, merged by time: its team pipeline's Lambdas and state machines
 * (shared by the team's datasets, so filtered to this dataset), its light transform and its Glue job runs. With
 * `execution`, only the events that name that execution, and the logs of its Glue runs. A log group that does not
 * exist is skipped with a note; when none exists the dataset is not deployed (`NOT_DEPLOYED`). With `follow`, it
 * keeps reading new events until the timeout or the signal.
 */
export async function showLogs(options: ShowLogsOptions, io: Io): Promise<ShowLogsResult> {
  const clock = options.clock ?? systemClock;
  const since = parseSince(options.since ?? DEFAULT_SINCE, clock.now());
  const execution = options.execution === undefined ? undefined : checkExecutionId(options.execution, 'sdlf status');
  const limit = options.limit ?? DEFAULT_LOG_LIMIT;
  let stages: LogStage[] = [];
  const { project, target, clients } = await openSession(options, io, {
    check: async (project, target) => {
      stages = await stagesToShow(options, project, target);
    },
  });
  const environment = requireDeploymentEnvironment(target, 'logs');
  const config = findDataset(project, environment.id, options.team, options.dataset);
  const naming = namingOf(target, environment);
  const reader = new LogReader(clients, io, new DatasetEventFilter(config.team, config.dataset, stages), execution);
  const sources = new DatasetLogSources(
    clients,
    reader,
    logSources(naming, config, stages),
    stages.includes('b') ? naming.glueJob(config.team, config.dataset) : undefined,
    execution,
  );
  const what = execution ? `execution ${execution} of ${config.team}/${config.dataset}` : `${config.team}/${config.dataset}`;
  const stageWords = stages.length === 1 ? `stage ${stages[0]?.toUpperCase()}` : 'stages A and B';
  io.info(`Reading the logs of ${what} (${stageWords}) since ${new Date(since).toISOString()}…`);

  const firstReadAt = clock.now();
  const first = await reader.read(await sources.from(since), since);
  assertDeployed(reader, sources.fixed, config, environment, target);
  const omitted = Math.max(0, first.length - limit);
  const shown = first.slice(omitted);
  if (omitted > 0) io.info(`Showing the newest ${limit} of ${first.length} events; pass --limit or a later --since for others.`);
  const events: LogEvent[] = [...shown];
  if (shown.length > 0) options.onEvents?.(shown);
  else if (!options.follow) io.info(`No events since ${new Date(since).toISOString()}.`);
  const stoppedBy = options.follow
    ? await followLogs(options, io, { clock, reader, sources, start: Math.max(since, firstReadAt - FOLLOW_OVERLAP_MS), events })
    : undefined;
  return {
    env: environment.id,
    team: config.team,
    dataset: config.dataset,
    stages,
    since: new Date(since).toISOString(),
    ...(execution ? { execution } : {}),
    sources: reader.states(),
    events,
    omitted,
    ...(stoppedBy ? { stoppedBy } : {}),
  };
}

/** The stages whose logs to show: `stage`, or both (stage A only for a pipeline without stage B). */
async function stagesToShow(options: ShowLogsOptions, project: Project, target: AwsTarget): Promise<LogStage[]> {
  const environment = requireDeploymentEnvironment(target, 'logs');
  const config = findDataset(project, environment.id, options.team, options.dataset);
  const hasStageB = await pipelineHasStageB(project, config.pipeline);
  if (options.stage === 'b' && !hasStageB) {
    throw new SdlfError(
      `${config.team}/${config.dataset} uses the pipeline "${config.pipeline}", which has no stage B: there are no stage B logs to show.`,
      {
        code: 'NO_STAGE_B',
        suggestions: [
          `Show its stage A logs instead: "sdlf logs --team ${config.team} --dataset ${config.dataset} --stage a --env ${environment.id}".`,
        ],
      },
    );
  }
  return options.stage ? [options.stage] : hasStageB ? ['a', 'b'] : ['a'];
}

/** Fails with `NOT_DEPLOYED` when none of the dataset's own log groups exists. */
function assertDeployed(
  reader: LogReader,
  fixed: readonly LogSource[],
  config: DatasetConfig,
  environment: DeploymentEnvironment,
  target: AwsTarget,
): void {
  if (fixed.some((source) => reader.found(source.logGroup) !== false)) return;
  throw new SdlfError(
    `None of the log groups of ${config.team}/${config.dataset} exists in environment "${environment.id}" (${target.region}): ${fixed.map((s) => s.logGroup).join(', ')}.`,
    {
      code: 'NOT_DEPLOYED',
      suggestions: [`Deploy the environment first: "sdlf deploy --env ${environment.id}", then run the dataset's pipeline.`],
    },
  );
}

/** The log groups of a dataset: its fixed ones, and those of its Glue job's runs (stage B) since a time. */
class DatasetLogSources {
  constructor(
    private readonly clients: AwsClients,
    private readonly reader: LogReader,
    /** The Lambdas', state machines' and light transform's log groups. */
    readonly fixed: readonly LogSource[],
    private readonly glueJob: string | undefined,
    private readonly execution: string | undefined,
  ) {}

  /** The fixed sources, with the log groups of the newest Glue runs (of the execution, if any) started since `from`. */
  async from(from: number): Promise<LogSource[]> {
    const fixed = [...this.fixed];
    if (!this.glueJob) return fixed;
    const runs = await listGlueRuns(this.clients, this.glueJob, from);
    if (runs === undefined) {
      this.reader.noteMissing(`Glue job ${this.glueJob}`, 'the job does not exist');
      return fixed;
    }
    const ofExecution = this.execution ? runs.filter((run) => run.executionId === this.execution) : runs;
    if (ofExecution.length > MAX_GLUE_RUNS_READ) {
      this.reader.noteOnce(
        `glue-runs:${from}`,
        `Reading the logs of the newest ${MAX_GLUE_RUNS_READ} of ${ofExecution.length} runs of ${this.glueJob}; pass a later --since for the others.`,
      );
    }
    return [...fixed, ...ofExecution.slice(0, MAX_GLUE_RUNS_READ).flatMap((run) => glueSources(run.id, run.logGroups))];
  }
}

/** What a follow reads with, and the events shown so far (the follow appends to them). */
interface FollowState {
  readonly clock: WaitClock;
  readonly reader: LogReader;
  readonly sources: DatasetLogSources;
  /** Where the first poll starts reading. */
  readonly start: number;
  readonly events: LogEvent[];
}

/** Reads new events every polling interval until the timeout passes or the signal aborts; returns which ended it. */
async function followLogs(
  options: ShowLogsOptions,
  io: Io,
  { clock, reader, sources, events, ...state }: FollowState,
): Promise<NonNullable<ShowLogsResult['stoppedBy']>> {
  const minutes = options.timeoutMinutes ?? DEFAULT_TIMEOUT_MINUTES;
  const interval = options.pollingIntervalMs ?? DEFAULT_POLLING_INTERVAL_MS;
  const deadline = clock.now() + minutes * 60_000;
  io.info(`Following new events for up to ${formatMinutes(minutes)} (--timeout); Ctrl-C stops.`);
  // Each poll reads again from shortly before the previous one began; the events already shown are dropped.
  let start = state.start;
  for (;;) {
    if (options.signal?.aborted) return 'interrupt';
    const left = deadline - clock.now();
    if (left <= 0) {
      io.info(`Stopped following after ${formatMinutes(minutes)} (--timeout).`);
      return 'timeout';
    }
    await clock.sleep(Math.min(interval, left), options.signal);
    if (options.signal?.aborted) return 'interrupt';
    const readAt = clock.now();
    const fresh = await reader.read(await sources.from(start), start);
    reader.forgetBefore(start);
    start = Math.max(start, readAt - FOLLOW_OVERLAP_MS);
    if (fresh.length > 0) {
      events.push(...fresh);
      options.onEvents?.(fresh);
    }
  }
}

/** Reads log groups, attributes and dedupes their events, and remembers which groups exist. */
class LogReader {
  private readonly seen = new Map<string, number>();
  private readonly exists = new Map<string, LogSourceState>();
  private readonly notes = new Set<string>();
  private lookups = 0;

  constructor(
    private readonly clients: AwsClients,
    private readonly io: Io,
    private readonly filter: DatasetEventFilter,
    private readonly execution: string | undefined,
  ) {}

  /** Reads every source from `start`; returns the events not seen before, oldest first. */
  async read(sources: readonly LogSource[], start: number): Promise<LogEvent[]> {
    const events: Array<LogEvent & { order: number }> = [];
    // The pipeline's sources share its log group: it is read once per call, then split by writer.
    const reads = new Map<string, ReturnType<typeof readLogEvents>>();
    for (const [order, source] of sources.entries()) {
      // Glue run groups are read whole (their streams are the run's); the others by the execution id they mention.
      const pattern = this.execution && source.kind !== 'glue' ? `"${this.execution}"` : undefined;
      const key = [source.logGroup, pattern ?? '', source.streamPrefix ?? ''].join('\0');
      const pending =
        reads.get(key) ??
        readLogEvents(this.clients, {
          logGroupName: source.logGroup,
          startTime: start,
          maxEvents: MAX_EVENTS_PER_GROUP,
          ...(pattern ? { filterPattern: pattern } : {}),
          ...(source.streamPrefix ? { logStreamNamePrefix: source.streamPrefix } : {}),
        });
      reads.set(key, pending);
      const read = await pending;
      const known = this.exists.get(`${source.name}\0${source.logGroup}`);
      this.exists.set(`${source.name}\0${source.logGroup}`, {
        source: source.name,
        logGroup: source.logGroup,
        found: read.exists || known?.found === true,
      });
      if (!read.exists) {
        this.noteMissing(source.logGroup, 'the log group does not exist');
        continue;
      }
      if (read.truncated) {
        this.noteOnce(
          `truncated:${source.logGroup}:${start}`,
          `Read the first ${MAX_EVENTS_PER_GROUP} events of ${source.logGroup} only; pass a later --since to see the rest.`,
        );
      }
      const fresh = read.events.filter(
        (event) => writtenBy(source, event) && !this.seen.has(`${source.logGroup}\0${event.eventId}`),
      );
      if (this.execution === undefined && source.shared && source.kind === 'states') await this.learnExecutions(fresh);
      const selected = this.execution === undefined ? this.filter.select(source, fresh) : fresh;
      for (const event of fresh) this.seen.set(`${source.logGroup}\0${event.eventId}`, event.timestamp);
      for (const event of selected) events.push(toLogEvent(source, event, order));
    }
    return events.sort((a, b) => a.timestamp - b.timestamp || a.order - b.order).map(({ order: _, ...event }) => event);
  }

  /** Whether a log group was found; undefined when it was not read. */
  found(logGroup: string): boolean | undefined {
    const read = [...this.exists.values()].filter((state) => state.logGroup === logGroup);
    return read.length === 0 ? undefined : read.some((state) => state.found);
  }

  /** The log groups read so far. */
  states(): LogSourceState[] {
    return [...this.exists.values()];
  }

  /** Drops the event ids older than `time`: a follow never reads before it again. */
  forgetBefore(time: number): void {
    for (const [id, timestamp] of this.seen) if (timestamp < time) this.seen.delete(id);
  }

  noteMissing(what: string, why: string): void {
    this.noteOnce(`missing:${what}`, `Skipped ${what}: ${why} (yet).`);
  }

  noteOnce(key: string, message: string): void {
    if (this.notes.has(key)) return;
    this.notes.add(key);
    this.io.info(message);
  }

  /** Looks up the input of the executions whose events in the window do not carry it (started before it). */
  private async learnExecutions(events: readonly RawLogEvent[]): Promise<void> {
    for (const arn of this.filter.unknownExecutions(events)) {
      if (this.lookups >= MAX_EXECUTION_LOOKUPS) {
        this.noteOnce('lookups', `Looked up ${MAX_EXECUTION_LOOKUPS} executions; events of further ones are left out.`);
        this.filter.learnExecution(arn, undefined);
        continue;
      }
      this.lookups += 1;
      const input = await this.clients.sfn
        .send(new DescribeExecutionCommand({ executionArn: arn }))
        .then((reply) => reply.input)
        .catch(() => undefined);
      this.filter.learnExecution(arn, ownerOfInput(input));
    }
  }
}

function toLogEvent(source: LogSource, event: RawLogEvent, order: number): LogEvent & { order: number } {
  const formatted = formatEvent(source.kind, event.message);
  return {
    time: new Date(event.timestamp).toISOString(),
    timestamp: event.timestamp,
    source: source.name,
    logGroup: source.logGroup,
    logStream: event.logStreamName,
    eventId: event.eventId,
    ...(formatted.level ? { level: formatted.level } : {}),
    text: formatted.text,
    message: event.message,
    order,
  };
}

/** Renders an event as the line `sdlf logs` prints: `<ISO time> <source> [<LEVEL>] <text>`. */
export function formatLogLine(event: LogEvent, sourceWidth = 0): string {
  return [event.time, event.source.padEnd(sourceWidth), ...(event.level ? [event.level] : []), event.text].join(' ');
}
