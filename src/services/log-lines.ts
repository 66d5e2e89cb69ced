/**
 * The pure part of `sdlf logs`: which log groups a dataset's stages write to, which events of a shared group are
 * about one dataset, and how an event is printed.
 */

import type { RawLogEvent } from '../aws/log-events.js';
import type { DatasetConfig } from '../config/model.js';
import type { Naming } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';

/** A stage of a dataset's pipeline. */
export type LogStage = 'a' | 'b';

/** What writes to a log group. */
export type LogSourceKind = 'lambda' | 'states' | 'glue';

/** A log group `sdlf logs` reads, and how its events are attributed to a dataset. */
export interface LogSource {
  /** Short name printed before each event: `routing`, `stage-a-states`, `glue:output`… */
  readonly name: string;
  readonly logGroup: string;
  readonly kind: LogSourceKind;
  /** The stages it serves (the step function serves both). */
  readonly stages: readonly LogStage[];
  /** Whether the team's other datasets write to it too, so its events must be filtered to the dataset. */
  readonly shared: boolean;
  /** Only streams starting with it (a Glue job run's id). @default every stream */
  readonly streamPrefix?: string;
  /**
   * The function or state machine whose events these are, in the pipeline's log group that they all share: see
   * {@link writtenBy}. @default every event of the group
   */
  readonly writer?: string;
}

/**
 * Lists the sources of a dataset's stages, with names from the naming module: the team pipeline's Lambdas and
 * state machines (shared by its datasets) and the dataset's own light transform, all writing to the pipeline's
 * log group ({@link Naming.pipelineLogGroup}), each known by its {@link LogSource.writer}. The Glue job runs'
 * groups depend on the runs (see {@link glueSources}).
 */
export function logSources(naming: Naming, config: DatasetConfig, stages: readonly LogStage[]): LogSource[] {
  const { team, pipeline, dataset } = config;
  const logGroup = naming.pipelineLogGroup(team, pipeline);
  const lambda = (name: string, functionName: string, serves: readonly LogStage[], shared: boolean): LogSource => ({
    name,
    logGroup,
    kind: 'lambda',
    stages: serves,
    shared,
    writer: functionName,
  });
  const states = (stage: LogStage): LogSource => ({
    name: `stage-${stage}-states`,
    logGroup,
    kind: 'states',
    stages: [stage],
    shared: true,
    writer: naming.stateMachine(team, pipeline, stage),
  });
  const sources: LogSource[] = [];
  if (stages.includes('a')) {
    sources.push(
      lambda('routing', naming.pipelineFunction(team, pipeline, 'routing'), ['a'], true),
      lambda('stage-a-trigger', naming.pipelineFunction(team, pipeline, 'stage-a-trigger'), ['a'], true),
      states('a'),
      lambda('light-transform', naming.lightTransformFunction(team, dataset), ['a'], false),
    );
  }
  if (stages.includes('b')) {
    sources.push(lambda('stage-b-trigger', naming.pipelineFunction(team, pipeline, 'stage-b-trigger'), ['b'], true), states('b'));
  }
  // Pre-update, post-update and error steps of both stages run in one function.
  sources.push(lambda('step', naming.pipelineFunction(team, pipeline, 'step'), ['a', 'b'], true));
  return sources;
}

/**
 * Whether `event` of the source's log group is the source's own: any event without a {@link LogSource.writer};
 * a function's, in a stream Lambda names `YYYY/MM/DD/{function}[{version}]{environment}` in a shared group
 * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html); a state machine's,
 * when its `execution_arn` is an execution of it.
 */
export function writtenBy(source: LogSource, event: RawLogEvent): boolean {
  if (source.writer === undefined) return true;
  if (source.kind === 'lambda') return event.logStreamName.includes(`/${source.writer}[`);
  const { executionArn } = parseStatesEvent(event.message);
  return executionArn?.split(':')[6] === source.writer;
}

/** The log groups of one Glue job run: its streams (named after the run id) in `<group>/output` and `<group>/error`. */
export function glueSources(runId: string, logGroups: { readonly output: string; readonly error: string }): LogSource[] {
  return (['output', 'error'] as const).map((kind) => ({
    name: `glue:${kind}`,
    logGroup: logGroups[kind],
    kind: 'glue',
    stages: ['b'],
    shared: false,
    streamPrefix: runId,
  }));
}

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses `--since`: a duration back from `now` (`90s`, `30m`, `1h`, `2d`) or an ISO-8601 time
 * (`2025-01-31`, `2025-01-31T09:00:00Z`); returns milliseconds since the epoch. Throws `INVALID_SINCE` otherwise.
 */
export function parseSince(input: string, now: number): number {
  const value = input.trim();
  const duration = /^(\d+)\s*([smhd])$/i.exec(value);
  if (duration) {
    const amount = Number(duration[1]);
    const unit = UNITS[(duration[2] ?? '').toLowerCase()] ?? 0;
    if (amount > 0) return now - amount * unit;
  } else if (ISO_8601.test(value)) {
    const time = Date.parse(value);
    if (Number.isFinite(time)) {
      if (time > now) {
        throw new SdlfError(`--since "${input}" is in the future.`, {
          code: 'INVALID_SINCE',
          suggestions: [`Pass a time before now (${new Date(now).toISOString()}), or a duration such as 1h.`],
        });
      }
      return time;
    }
  }
  throw new SdlfError(`--since "${input}" is neither a duration nor an ISO-8601 time.`, {
    code: 'INVALID_SINCE',
    suggestions: [
      'Pass a duration back from now such as 90s, 30m, 1h or 2d (units s, m, h, d), or an ISO-8601 time such as 2025-01-31 or 2025-01-31T09:00:00Z.',
    ],
  });
}

/** Checks `--execution`: an execution id as `sdlf status` prints it (`a-…`, `b-…`); throws `INVALID_EXECUTION_ID`. */
export function checkExecutionId(id: string, command: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(id)) return id;
  throw new SdlfError(`--execution "${id}" is not an execution id.`, {
    code: 'INVALID_EXECUTION_ID',
    suggestions: [
      `Pass an id as "${command}" lists it (a- or b- and 40 hex digits, e.g. b-5d41402abc4b2a76b9719d911017c592ae6b9a1): letters, digits, "-", "_", "." or ":".`,
    ],
  });
}

/** The parts of a Lambda log line that attribute it: the invocation, the dataset keys, the level and the text. */
interface LambdaLine {
  readonly requestId?: string;
  readonly team?: string;
  readonly dataset?: string;
  readonly stage?: string;
  /** START/END/REPORT/INIT lines Lambda writes itself. */
  readonly platform: boolean;
  readonly json?: Record<string, unknown>;
}

const PLATFORM_LINE = /^(?:START|END|REPORT|INIT_START|INIT_REPORT|INIT_RUNTIME_DONE|EXTENSION|TELEMETRY)\b/;
const TEXT_LINE = /^\S+\t([0-9a-f-]{36})\t([A-Z]+)\t([\s\S]*)$/;

function parseLambdaLine(message: string): LambdaLine {
  const json = parseObject(message);
  if (json) {
    const text = (key: string) => (typeof json[key] === 'string' ? (json[key] as string) : undefined);
    return {
      requestId: text('function_request_id') ?? text('requestId'),
      team: text('team'),
      dataset: text('dataset'),
      stage: text('stage'),
      platform: typeof json.type === 'string' && json.type.startsWith('platform.'),
      json,
    };
  }
  if (PLATFORM_LINE.test(message)) return { requestId: /RequestId: (\S+)/.exec(message)?.[1], platform: true };
  return { requestId: TEXT_LINE.exec(message)?.[1], platform: false };
}

/** What the execution of a state machine log event ran on: its team and dataset, when its input says. */
export interface ExecutionOwner {
  readonly team?: string;
  readonly dataset?: string;
}

/** Reads the team and dataset of an execution input (a JSON string, as Step Functions logs and describes it). */
export function ownerOfInput(input: unknown): ExecutionOwner | undefined {
  const parsed = typeof input === 'string' ? parseObject(input) : undefined;
  if (!parsed) return undefined;
  return {
    ...(typeof parsed.team === 'string' ? { team: parsed.team } : {}),
    ...(typeof parsed.dataset === 'string' ? { dataset: parsed.dataset } : {}),
  };
}

/** The execution ARN of a state machine log event, and its owner when the event carries the input. */
export function parseStatesEvent(message: string): { executionArn?: string; owner?: ExecutionOwner } {
  const json = parseObject(message);
  if (!json) return {};
  const details = json.details as { input?: unknown } | undefined;
  const executionArn = typeof json.execution_arn === 'string' ? json.execution_arn : undefined;
  const owner = ownerOfInput(details?.input);
  return { ...(executionArn ? { executionArn } : {}), ...(owner?.dataset ? { owner } : {}) };
}

/**
 * Picks the events of a team's shared log groups that are about one dataset, across calls (a follow reads a group
 * several times): a Lambda line tagged with the dataset's `team`/`dataset` keys, and the untagged lines of the
 * invocations that wrote such a line (an uncaught error, for instance), Lambda's own START/END/REPORT lines aside;
 * a state machine event whose execution ran on the dataset (its input says so). With one stage, step lines of
 * invocations for the other stage are left out.
 */
export class DatasetEventFilter {
  /** Invocations (request ids) of each shared Lambda group: does it concern the dataset, for which stage. */
  private readonly requests = new Map<string, { dataset: boolean; stage?: string }>();
  /** Executions whose dataset is known. */
  private readonly executions = new Map<string, boolean>();

  constructor(
    private readonly team: string,
    private readonly dataset: string,
    private readonly stages: readonly LogStage[],
  ) {}

  /** Execution ARNs of `events` (state machine events) whose dataset is not known yet. */
  unknownExecutions(events: readonly RawLogEvent[]): string[] {
    const unknown = new Set<string>();
    for (const event of events) {
      const { executionArn, owner } = parseStatesEvent(event.message);
      if (!executionArn) continue;
      if (owner) this.executions.set(executionArn, this.isDataset(owner));
      else if (!this.executions.has(executionArn)) unknown.add(executionArn);
    }
    return [...unknown].filter((arn) => !this.executions.has(arn));
  }

  /** Records what an execution ran on (from DescribeExecution); undefined when it could not be found. */
  learnExecution(executionArn: string, owner: ExecutionOwner | undefined): void {
    this.executions.set(executionArn, owner !== undefined && this.isDataset(owner));
  }

  /** Keeps the events of `source` that are about the dataset (every event of a group of its own). */
  select(source: LogSource, events: readonly RawLogEvent[]): RawLogEvent[] {
    if (!source.shared) return [...events];
    if (source.kind === 'states') {
      this.unknownExecutions(events);
      return events.filter((event) => {
        const arn = parseStatesEvent(event.message).executionArn;
        return arn !== undefined && this.executions.get(arn) === true;
      });
    }
    const lines = events.map((event) => ({ event, line: parseLambdaLine(event.message) }));
    for (const { line } of lines) {
      if (!line.requestId) continue;
      const key = `${source.logGroup}\0${line.requestId}`;
      const known = this.requests.get(key) ?? { dataset: false };
      if (line.team !== undefined || line.dataset !== undefined) known.dataset ||= this.isDataset(line);
      if (line.stage !== undefined && this.isDataset(line)) known.stage ??= line.stage;
      this.requests.set(key, known);
    }
    const oneStage = this.stages.length === 1 ? this.stages[0] : undefined;
    return lines
      .filter(({ line }) => {
        const request = line.requestId ? this.requests.get(`${source.logGroup}\0${line.requestId}`) : undefined;
        if (oneStage && request?.stage !== undefined && request.stage !== oneStage) return false;
        if (line.team !== undefined || line.dataset !== undefined) return this.isDataset(line);
        return !line.platform && request?.dataset === true;
      })
      .map(({ event }) => event);
  }

  private isDataset(owner: ExecutionOwner): boolean {
    return owner.team === this.team && owner.dataset === this.dataset;
  }
}

/** Keys of a Powertools line that say nothing the printed line does not already say. */
const QUIET_KEYS = new Set([
  'level',
  'message',
  'timestamp',
  'service',
  'team',
  'dataset',
  'pipeline',
  'function_request_id',
  'function_name',
  'function_arn',
  'function_memory_size',
  'cold_start',
  'xray_trace_id',
  'sampling_rate',
  'requestId',
]);

const MAX_VALUE_CHARS = 300;

/** How an event is printed: its level, when it has one, and its text on one line of key=value pairs. */
export interface FormattedEvent {
  readonly level?: string;
  readonly text: string;
}

/**
 * Renders an event's message for people: a JSON log line (Powertools) as its message and the keys worth reading
 * (`key=value`, errors as `Name: message`); a state machine event as its type, execution name, state and error;
 * a Lambda text line as its level and text; anything else as it is.
 */
export function formatEvent(kind: LogSourceKind, message: string): FormattedEvent {
  const trimmed = message.replace(/\s+$/, '');
  const json = parseObject(trimmed);
  if (json && kind === 'states') return formatStatesEvent(json);
  if (json) {
    const level = typeof json.level === 'string' ? json.level.toUpperCase() : undefined;
    const text = typeof json.message === 'string' ? json.message : '';
    const pairs = Object.entries(json)
      .filter(([key]) => !QUIET_KEYS.has(key))
      .map(([key, value]) => `${key}=${renderValue(value)}`);
    return { ...(level ? { level } : {}), text: [text, ...pairs].filter(Boolean).join(' ') };
  }
  const line = TEXT_LINE.exec(trimmed);
  if (line) return { level: line[2], text: (line[3] ?? '').trim() };
  return { text: trimmed };
}

function formatStatesEvent(json: Record<string, unknown>): FormattedEvent {
  const type = typeof json.type === 'string' ? json.type : 'event';
  const arn = typeof json.execution_arn === 'string' ? json.execution_arn : '';
  const details = (typeof json.details === 'object' && json.details !== null ? json.details : {}) as Record<string, unknown>;
  const parts = [type, arn ? `execution=${arn.slice(arn.lastIndexOf(':') + 1)}` : ''];
  if (typeof details.name === 'string') parts.push(`state=${renderValue(details.name)}`);
  if (details.error !== undefined) parts.push(`error=${renderValue(details.error)}`);
  if (details.cause !== undefined) parts.push(`cause=${renderValue(details.cause)}`);
  const failed = /(Failed|TimedOut|Aborted)$/.test(type);
  return { ...(failed ? { level: 'ERROR' } : {}), text: parts.filter(Boolean).join(' ') };
}

function renderValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = /[\s"]/.test(value) || value === '' ? JSON.stringify(value) : value;
  else if (isError(value)) text = `${value.name}: ${value.message}`;
  else text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
}

function isError(value: unknown): value is { name: string; message: string } {
  const candidate = value as { name?: unknown; message?: unknown } | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.name === 'string' &&
    typeof candidate.message === 'string'
  );
}

function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
