import { describe, expect, it } from 'vitest';
import type { RawLogEvent } from '../../src/aws/log-events.js';
import { Naming } from '../../src/config/naming.js';
import { SdlfError } from '../../src/core/errors.js';
import {
  checkExecutionId,
  DatasetEventFilter,
  formatEvent,
  type LogSource,
  logSources,
  parseSince,
  writtenBy,
} from '../../src/services/log-lines.js';

const NOW = Date.parse('2025-02-01T12:00:00.000Z');

describe('parseSince', () => {
  it.each([
    ['90s', NOW - 90_000],
    ['30m', NOW - 30 * 60_000],
    ['1h', NOW - 3_600_000],
    ['2d', NOW - 2 * 86_400_000],
    [' 2H ', NOW - 2 * 3_600_000],
    ['2025-01-31', Date.parse('2025-01-31T00:00:00Z')],
    ['2025-01-31T09:30:00Z', Date.parse('2025-01-31T09:30:00Z')],
    ['2025-01-31T09:30:00.250+01:00', Date.parse('2025-01-31T08:30:00.250Z')],
  ])('reads %j as a start time', (input, expected) => {
    expect(parseSince(input, NOW)).toBe(expected);
  });

  it.each(['', '1', 'h', '0m', '-1h', '1w', '1 hour', 'yesterday', '2025-13-45', '31/01/2025'])(
    'throws INVALID_SINCE for %j, naming the value and the accepted forms',
    (input) => {
      // When a --since that is neither form is parsed
      const error = (() => {
        try {
          parseSince(input, NOW);
        } catch (e) {
          return e;
        }
      })();
      // Then it is a user error that names the value and both accepted forms
      expect(error).toBeInstanceOf(SdlfError);
      expect(error).toMatchObject({ code: 'INVALID_SINCE' });
      expect((error as SdlfError).message).toContain(`--since "${input}"`);
      expect(String((error as SdlfError).suggestions)).toMatch(/30m, 1h or 2d.*ISO-8601/);
    },
  );

  it('throws INVALID_SINCE for a time in the future', () => {
    expect(() => parseSince('2025-02-02T00:00:00Z', NOW)).toThrow(/is in the future/);
  });
});

describe('checkExecutionId', () => {
  it('accepts the ids sdlf status lists', () => {
    expect(checkExecutionId('b-0123456789abcdef0123456789abcdef01234567-2', 'sdlf status')).toBe(
      'b-0123456789abcdef0123456789abcdef01234567-2',
    );
  });

  it.each(['a "quoted" id', '', '{ $.x = 1 }'])('throws INVALID_EXECUTION_ID for %j', (id) => {
    expect(() => checkExecutionId(id, 'sdlf status')).toThrow(expect.objectContaining({ code: 'INVALID_EXECUTION_ID' }));
  });
});

describe('logSources', () => {
  const naming = new Naming({ prefix: 'ddk', env: 'dev', account: '123456789012', region: 'us-east-1' });
  const config = {
    team: 'sales',
    dataset: 'orders',
    pipeline: 'standard',
    stageATransform: 'sales_light_transform',
    stageBTransform: 'sales_orders',
  };

  it("lists the stage A sources in the pipeline's one log group, each by its writer, shared ones marked", () => {
    const sources = logSources(naming, config, ['a']);
    const group = '/aws/vendedlogs/ddk-dev-sales-standard';
    expect(sources.map((s) => [s.name, s.logGroup, s.writer, s.shared])).toEqual([
      ['routing', group, 'ddk-dev-sales-standard-routing', true],
      ['stage-a-trigger', group, 'ddk-dev-sales-standard-stage-a-trigger', true],
      ['stage-a-states', group, 'ddk-dev-sales-standard-stage-a', true],
      ['light-transform', group, 'ddk-dev-sales-orders-light-transform', false],
      ['step', group, 'ddk-dev-sales-standard-step', true],
    ]);
  });

  it('lists the stage B groups alone for stage B, the step function being shared by both stages', () => {
    expect(logSources(naming, config, ['b']).map((s) => s.name)).toEqual(['stage-b-trigger', 'stage-b-states', 'step']);
  });
});

const lambdaSource: LogSource = {
  name: 'step',
  logGroup: '/aws/lambda/x-step',
  kind: 'lambda',
  stages: ['a', 'b'],
  shared: true,
};
const statesSource: LogSource = {
  name: 'stage-a-states',
  logGroup: '/aws/vendedlogs/states/x',
  kind: 'states',
  stages: ['a'],
  shared: true,
};

function event(id: string, message: string | Record<string, unknown>): RawLogEvent {
  return {
    eventId: id,
    timestamp: NOW,
    logStreamName: 's',
    message: typeof message === 'string' ? message : JSON.stringify(message),
  };
}

describe('writtenBy', () => {
  const group = '/aws/vendedlogs/ddk-dev-sales-standard';
  const routing: LogSource = { ...lambdaSource, name: 'routing', logGroup: group, writer: 'ddk-dev-sales-standard-routing' };
  const states: LogSource = { ...statesSource, logGroup: group, writer: 'ddk-dev-sales-standard-stage-a' };
  const at = (stream: string, message: string | Record<string, unknown>) => ({ ...event('1', message), logStreamName: stream });
  const arn = (machine: string) => `arn:aws:states:us-east-1:123456789012:execution:${machine}:a-1`;

  it.each([
    ["its function's stream", routing, at('2026/12/07/ddk-dev-sales-standard-routing[$LATEST]0a1b', 'x'), true],
    ["another function's stream", routing, at('2026/12/07/ddk-dev-sales-standard-step[$LATEST]0a1b', 'x'), false],
    ['a function whose name it starts', routing, at('2026/12/07/ddk-dev-sales-standard-routing2[$LATEST]0a', 'x'), false],
    ['an execution of its state machine', states, at('states/x', { execution_arn: arn('ddk-dev-sales-standard-stage-a') }), true],
    ['an execution of the other stage', states, at('states/x', { execution_arn: arn('ddk-dev-sales-standard-stage-b') }), false],
    ['a line that is no state machine event', states, at('states/x', 'text'), false],
    ['any event of a source without writer', lambdaSource, at('s', 'x'), true],
  ])('tells %s (%#)', (_what, source, raw, expected) => {
    expect(writtenBy(source, raw)).toBe(expected);
  });
});

const REQ1 = '11111111-1111-1111-1111-111111111111';
const REQ2 = '22222222-2222-2222-2222-222222222222';

describe('DatasetEventFilter', () => {
  it("keeps a shared Lambda group's lines of the dataset and the untagged lines of their invocations only", () => {
    // Given a step log with one invocation for sales/orders and one for sales/customers
    const events = [
      event('1', `START RequestId: ${REQ1} Version: $LATEST`),
      event('2', { level: 'INFO', message: 'Running step', team: 'sales', dataset: 'orders', function_request_id: REQ1 }),
      event('3', `2025-02-01T12:00:00.000Z\t${REQ1}\tERROR\tInvoke Error boom`),
      event('4', { level: 'INFO', message: 'Running step', team: 'sales', dataset: 'customers', function_request_id: REQ2 }),
      event('5', `2025-02-01T12:00:00.000Z\t${REQ2}\tERROR\tInvoke Error other`),
      event('6', `END RequestId: ${REQ1}`),
    ];
    // When they are filtered to sales/orders
    const kept = new DatasetEventFilter('sales', 'orders', ['a', 'b']).select(lambdaSource, events);
    // Then the orders line and its invocation's error stay; Lambda's own lines and the customers invocation go
    expect(kept.map((e) => e.eventId)).toEqual(['2', '3']);
  });

  it('remembers an invocation across reads, as a follow reads a group several times', () => {
    const filter = new DatasetEventFilter('sales', 'orders', ['a', 'b']);
    filter.select(lambdaSource, [event('1', { message: 'x', team: 'sales', dataset: 'orders', function_request_id: REQ1 })]);
    const later = filter.select(lambdaSource, [event('2', `2025-02-01T12:00:01.000Z\t${REQ1}\tERROR\tlate error`)]);
    expect(later.map((e) => e.eventId)).toEqual(['2']);
  });

  it('leaves out the step invocations of the other stage when one stage is asked for', () => {
    const events = [
      event('1', { message: 'Running step', stage: 'a', team: 'sales', dataset: 'orders', function_request_id: REQ1 }),
      event('2', { message: 'Running step', stage: 'b', team: 'sales', dataset: 'orders', function_request_id: REQ2 }),
      event('3', { message: 'Recorded', team: 'sales', dataset: 'orders', function_request_id: REQ2 }),
    ];
    const kept = new DatasetEventFilter('sales', 'orders', ['a']).select(lambdaSource, events);
    expect(kept.map((e) => e.eventId)).toEqual(['1']);
  });

  it('keeps the state machine events of executions whose input names the dataset, and asks for the others', () => {
    const arn = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:x:${name}`;
    const started = (name: string, dataset: string) =>
      event(name, {
        type: 'ExecutionStarted',
        execution_arn: arn(name),
        details: { input: JSON.stringify({ team: 'sales', dataset }) },
      });
    const filter = new DatasetEventFilter('sales', 'orders', ['a']);
    const events = [
      started('e1', 'orders'),
      started('e2', 'customers'),
      event('e1-end', { type: 'ExecutionSucceeded', execution_arn: arn('e1'), details: {} }),
      event('e3-end', { type: 'ExecutionFailed', execution_arn: arn('e3'), details: {} }),
    ];
    // The execution started before the window is unknown until it is looked up
    expect(filter.unknownExecutions(events)).toEqual([arn('e3')]);
    filter.learnExecution(arn('e3'), { team: 'sales', dataset: 'orders' });
    expect(filter.select(statesSource, events).map((e) => e.eventId)).toEqual(['e1', 'e1-end', 'e3-end']);
  });
});

describe('formatEvent', () => {
  it('prints a Powertools line as level, message and the useful keys, without the noise', () => {
    const line = JSON.stringify({
      level: 'ERROR',
      message: 'Could not start a stage A execution',
      timestamp: '2025-02-01T12:00:00.000Z',
      service: 'sdlf-stage-a-trigger',
      team: 'sales',
      dataset: 'orders',
      function_request_id: REQ1,
      cold_start: true,
      messageId: 'm-1',
      keys: 3,
      error: { name: 'ExecutionLimitExceeded', message: 'too many', stack: 'at …' },
    });
    expect(formatEvent('lambda', `${line}\n`)).toEqual({
      level: 'ERROR',
      text: 'Could not start a stage A execution messageId=m-1 keys=3 error=ExecutionLimitExceeded: too many',
    });
  });

  it('prints a state machine event as its type, execution, state and error', () => {
    const message = JSON.stringify({
      type: 'TaskFailed',
      execution_arn: 'arn:aws:states:us-east-1:1:execution:sm:b-123',
      details: { name: 'RunGlueJob', error: 'States.TaskFailed', cause: 'job failed' },
    });
    expect(formatEvent('states', message)).toEqual({
      level: 'ERROR',
      text: 'TaskFailed execution=b-123 state=RunGlueJob error=States.TaskFailed cause="job failed"',
    });
  });

  it('prints a Lambda text line as its level and text, and any other line as it is', () => {
    expect(formatEvent('lambda', `2025-02-01T12:00:00.000Z\t${REQ1}\tERROR\tInvoke Error boom`)).toEqual({
      level: 'ERROR',
      text: 'Invoke Error boom',
    });
    expect(formatEvent('glue', 'INFO spark started\n')).toEqual({ text: 'INFO spark started' });
  });
});
