import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Naming } from '../../src/config/naming.js';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { tempDir, writeJsonFiles } from '../helpers/project.js';

// The built CLI against moto_server, where nothing of this project is deployed.
let root: string;
let env: Record<string, string>;
const prefix = `lc${randomBytes(3).toString('hex')}`;

beforeAll(() => {
  ensureBuilt();
  root = tempDir('sdlf-logs-cli-');
  writeJsonFiles(root, {
    'ddk.json': {
      environments: {
        cicd: { account: '111111111111', region: 'us-east-1' },
        dev: { account: '123456789012', region: 'us-east-1', resource_prefix: prefix },
      },
    },
    'parameters.json': {
      dev: [
        { team: 'ops', dataset: 'orders' },
        { team: 'sales', dataset: 'deployed' },
      ],
    },
  });
  env = {
    AWS_ENDPOINT_URL: inject('motoEndpoint'),
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
  };
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('sdlf logs (built CLI)', () => {
  it("prints one line per event on stdout and the skipped groups' notes on stderr", async () => {
    // Given only the light transform of sales/deployed has logged, one JSON line
    const logs = new CloudWatchLogsClient({
      region: 'us-east-1',
      endpoint: env.AWS_ENDPOINT_URL,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const naming = new Naming({ prefix, env: 'dev', account: '123456789012', region: 'us-east-1' });
    // (in its team pipeline's log group, in a stream Lambda names after the function)
    const group = naming.pipelineLogGroup('sales', 'standard');
    const stream = `2026/12/07/${naming.lightTransformFunction('sales', 'deployed')}[$LATEST]e1`;
    const time = Date.now() - 60_000;
    await logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
    await logs.send(
      new PutLogEventsCommand({
        logGroupName: group,
        logStreamName: stream,
        logEvents: [
          { timestamp: time, message: JSON.stringify({ level: 'INFO', message: 'Transformed', records: 3, team: 'sales' }) },
        ],
      }),
    );
    // When its logs are shown
    const result = await sdlf(['logs', '--path', root, '--env', 'dev', '--team', 'sales', '--dataset', 'deployed'], { env });
    // Then stdout holds the event's line, stderr the sources skipped (the dataset's Glue job is not on moto)
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`${new Date(time).toISOString()} light-transform INFO Transformed records=3`);
    expect(result.stderr).toContain(`Skipped Glue job ${naming.glueJob('sales', 'deployed')}: the job does not exist (yet).`);
  }, 60_000);

  it('fails with NOT_DEPLOYED and the deploy command when none of the log groups exists, exit code 2', async () => {
    const result = await sdlf(['logs', '--path', root, '--env', 'dev', '--team', 'ops', '--dataset', 'orders'], { env });
    expect(result.exitCode).toBe(2);
    expect(oneLine(result.stderr)).toContain('None of the log groups of ops/orders exists in environment "dev"');
    expect(oneLine(result.stderr)).toContain('sdlf deploy --env dev');
    expect(result.stdout).toBe('');
  }, 60_000);

  it('rejects an invalid --since naming it and the accepted forms, exit code 2', async () => {
    const result = await sdlf(
      ['logs', '--path', root, '--env', 'dev', '--team', 'ops', '--dataset', 'orders', '--since', 'yesterday'],
      { env },
    );
    expect(result.exitCode).toBe(2);
    expect(oneLine(result.stderr)).toContain('--since "yesterday" is neither a duration nor an ISO-8601 time.');
    expect(oneLine(result.stderr)).toContain('30m, 1h or 2d');
  }, 60_000);
});
