import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateEventSourceMappingCommand, CreateFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runtimeClientConfig } from '../../src/runtime/aws/clients.js';
import { tempDir } from '../helpers/project.js';
import { useMoto } from '../runtime/aws/moto.js';

// The moto launcher's SQS → Lambda poller (test/moto/server.py, sqs_event_sources_poll) must treat a function's
// response as Lambda does: batchItemFailures only count when the mapping turns ReportBatchItemFailures on, and a
// response that is not a JSON object then fails the whole batch.

const ROLE_NAME = 'sdlf-sqs-event-source-test';
const ROLE = `arn:aws:iam::123456789012:role/${ROLE_NAME}`;
let lambda: LambdaClient;
let sqs: SQSClient;

/** Reports the records whose body is "fail" as failed items; returns `response` as is when it is given. */
const HANDLER = (response?: string) =>
  `export const handler = async (event) => ${
    response ??
    '({ batchItemFailures: event.Records.filter((r) => r.body === "fail").map((r) => ({ itemIdentifier: r.messageId })) })'
  };\n`;

async function fn(name: string, code: string): Promise<string> {
  const dir = tempDir('sdlf-fn-');
  writeFileSync(join(dir, 'index.mjs'), code);
  const zip = join(dir, 'code.zip');
  execFileSync('python3', ['-m', 'zipfile', '-c', zip, join(dir, 'index.mjs')]);
  const created = await lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: ROLE,
      Code: { ZipFile: readFileSync(zip) },
    }),
  );
  return created.FunctionArn ?? '';
}

/** A queue mapped to a new function, with two messages sent: "ok" and "fail". Returns the queue URL. */
async function deliver(name: string, code: string, responseTypes: Array<'ReportBatchItemFailures'>): Promise<string> {
  const functionArn = await fn(name, code);
  const url =
    (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '60' } }))).QueueUrl ?? '';
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes
    ?.QueueArn;
  await lambda.send(
    new CreateEventSourceMappingCommand({
      FunctionName: functionArn,
      EventSourceArn: arn,
      BatchSize: 10,
      ...(responseTypes.length > 0 ? { FunctionResponseTypes: responseTypes } : {}),
    }),
  );
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: [
        { Id: 'ok', MessageBody: 'ok' },
        { Id: 'fail', MessageBody: 'fail' },
      ],
    }),
  );
  return url;
}

/** Messages left on the queue (in flight or not) once the poller took every message and settled. */
async function leftAfterPolling(url: string): Promise<number> {
  const count = async () => {
    const { Attributes: a } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return { waiting: Number(a?.ApproximateNumberOfMessages), inFlight: Number(a?.ApproximateNumberOfMessagesNotVisible) };
  };
  const deadline = Date.now() + 30_000;
  let last = await count();
  let stable = 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await count();
    stable = now.waiting === 0 && now.inFlight === last.inFlight ? stable + 1 : 0;
    last = now;
    if (stable >= 5) return now.inFlight;
  }
  throw new Error(`the poller did not settle on ${url}: ${JSON.stringify(last)}`);
}

describe('SQS event sources on moto_server', { timeout: 60_000 }, () => {
  beforeAll(async () => {
    useMoto();
    const config = runtimeClientConfig();
    lambda = new LambdaClient(config);
    sqs = new SQSClient(config);
    await new IAMClient(config).send(
      new CreateRoleCommand({
        RoleName: ROLE_NAME,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
  });

  it('keeps only the reported items when the mapping sets ReportBatchItemFailures', async () => {
    const url = await deliver('sdlf-esm-partial', HANDLER(), ['ReportBatchItemFailures']);
    expect(await leftAfterPolling(url)).toBe(1);
  });

  it('deletes the whole batch, batchItemFailures or not, when the mapping does not set ReportBatchItemFailures', async () => {
    const url = await deliver('sdlf-esm-plain', HANDLER(), []);
    expect(await leftAfterPolling(url)).toBe(0);
  });

  it('fails the whole batch when the response is not a JSON object (with ReportBatchItemFailures)', async () => {
    const url = await deliver('sdlf-esm-garbage', HANDLER('"not a response"'), ['ReportBatchItemFailures']);
    expect(await leftAfterPolling(url)).toBe(2);
  });

  it('fails the whole batch when an item it reports is not in the batch', async () => {
    const url = await deliver('sdlf-esm-stranger', HANDLER('({ batchItemFailures: [{ itemIdentifier: "no-such-id" }] })'), [
      'ReportBatchItemFailures',
    ]);
    expect(await leftAfterPolling(url)).toBe(2);
  });
});

describe('Lambda functions on moto_server', { timeout: 60_000 }, () => {
  it('handle one event at a time in a container: concurrent invocations run in separate containers', async () => {
    // Given a function that counts the events its container is handling at once
    const name = 'sdlf-one-event-at-a-time';
    await fn(
      name,
      'let inFlight = 0;\nexport const handler = async () => { inFlight += 1; const seen = inFlight; await new Promise((r) => setTimeout(r, 500)); inFlight -= 1; return { seen, pid: process.pid }; };\n',
    );
    // When it is invoked three times at once
    const { InvokeCommand } = await import('@aws-sdk/client-lambda');
    const replies = await Promise.all(
      [1, 2, 3].map(async () => {
        const out = await lambda.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}') }));
        return JSON.parse(Buffer.from(out.Payload ?? []).toString()) as { seen: number; pid: number };
      }),
    );
    // Then no container saw two events at once, so three containers ran them
    expect(replies.map((r) => r.seen)).toEqual([1, 1, 1]);
    expect(new Set(replies.map((r) => r.pid)).size).toBe(3);
  });
});
