import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { datasetFlags, parseTimeoutMinutes, sharedFlags } from '../cli/flags.js';
import { DEFAULT_TIMEOUT_MINUTES } from '../core/wait.js';
import type { LogEvent, ShowLogsResult } from '../services/logs.js';

/** `sdlf logs`: a dataset's CloudWatch logs across its Lambdas, state machines and Glue job runs. */
export default class Logs extends SdlfCommand<typeof Logs> {
  static override summary = "Show a dataset's CloudWatch logs across its Lambdas, state machines and Glue job runs.";
  static override description =
    "Merges by time the logs of the dataset's stages since --since: its team pipeline's routing, trigger and step " +
    "functions and state machines (shared by the team's datasets: only this dataset's events), its light transform " +
    'and its Glue job runs. One line per event: time, source, level and message (JSON lines as their message and ' +
    'useful keys). --execution keeps the events that name one execution (an id as "sdlf status" lists it) and the ' +
    'logs of its Glue runs. --follow keeps printing new events until Ctrl-C or --timeout minutes; under --json the ' +
    'events are printed when it stops. Log groups that do not exist are skipped with a note.';
  static override examples = [
    '<%= config.bin %> logs --team demoteam --dataset legislators',
    '<%= config.bin %> logs --team demoteam --dataset legislators --stage b --since 2d',
    '<%= config.bin %> logs --team demoteam --dataset legislators --execution b-5d41402abc4b2a76b9719d911017c592ae6b9a1 --since 2025-01-31T09:00:00Z',
    '<%= config.bin %> logs --team demoteam --dataset legislators --follow',
  ];
  static override flags = {
    env: sharedFlags.env,
    profile: sharedFlags.profile,
    region: sharedFlags.region,
    ...datasetFlags('show the logs of'),
    stage: Flags.option({
      description: 'Only this stage (default: both; stage A for a pipeline without stage B).',
      options: ['a', 'b'] as const,
      env: 'SDLF_STAGE',
    })(),
    since: Flags.string({
      description: 'Start of the logs: a duration back from now (90s, 30m, 1h, 2d) or an ISO-8601 time.',
      env: 'SDLF_SINCE',
      default: '1h',
    }),
    execution: Flags.string({
      description: 'Only the events of this execution (an id as "sdlf status" lists it).',
      env: 'SDLF_EXECUTION',
    }),
    limit: Flags.integer({
      description: 'Most events shown of those already logged (the newest); --follow prints every new one.',
      env: 'SDLF_LIMIT',
      default: 200,
      min: 1,
    }),
    follow: Flags.boolean({
      description: 'Keep printing new events (every 2 s) until Ctrl-C or --timeout.',
      env: 'SDLF_FOLLOW',
      default: false,
    }),
    timeout: Flags.custom<number>({
      description: 'Minutes --follow lasts before it stops.',
      env: 'SDLF_TIMEOUT',
      helpValue: '<minutes>',
      parse: parseTimeoutMinutes,
      default: DEFAULT_TIMEOUT_MINUTES,
    })(),
  };

  public async run(): Promise<ShowLogsResult> {
    const { formatLogLine, showLogs } = await import('../services/logs.js');
    const stop = new AbortController();
    const interrupt = () => stop.abort();
    process.once('SIGINT', interrupt);
    const json = this.jsonEnabled();
    const width = 'stage-b-trigger'.length;
    try {
      return await showLogs(
        {
          ...this.awsTarget,
          team: this.flags.team,
          dataset: this.flags.dataset,
          stage: this.flags.stage,
          since: this.flags.since,
          execution: this.flags.execution,
          limit: this.flags.limit,
          follow: this.flags.follow,
          timeoutMinutes: this.flags.timeout,
          signal: stop.signal,
          ...(json ? {} : { onEvents: (events: readonly LogEvent[]) => this.printEvents(events, width, formatLogLine) }),
        },
        this.io,
      );
    } finally {
      process.removeListener('SIGINT', interrupt);
    }
  }

  private printEvents(
    events: readonly LogEvent[],
    width: number,
    format: (event: LogEvent, sourceWidth: number) => string,
  ): void {
    for (const event of events) this.log(format(event, width));
  }
}
