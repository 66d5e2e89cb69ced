import type { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import { clientGetter, isAwsError, lazyClient, runtimeClientConfig } from '../../../src/runtime/aws/clients.js';
import { parseDatasetParameter } from '../../../src/runtime/aws/ssm-dataset-configs.js';
import { MalformedInputError } from '../../../src/runtime/core/deps.js';
import { MissingEnvironmentError, readCommonEnv, requireEnv, requireNumberEnv } from '../../../src/runtime/handlers/env.js';
import { createLogger, keysOfBody, withRecordKeys } from '../../../src/runtime/handlers/logger.js';
import { datasetConfig } from '../helpers.js';

const common = {
  SDLF_PREFIX: 'ddk',
  SDLF_ENV: 'dev',
  SDLF_OBJECT_METADATA_TABLE: 'om',
  SDLF_DATASETS_TABLE: 'ds',
  SDLF_PIPELINES_TABLE: 'pl',
  SDLF_EXECUTION_HISTORY_TABLE: 'eh',
  SDLF_EXECUTION_TTL_DAYS: '30',
};

describe('requireEnv', () => {
  it('returns a set variable', () => {
    expect(requireEnv('X', { X: 'value' })).toBe('value');
  });

  it.each([
    ['missing', {}],
    ['empty', { X: '' }],
    ['blank', { X: '  ' }],
  ])('throws a MissingEnvironmentError naming a %s variable', (_label, env) => {
    expect(() => requireEnv('X', env)).toThrow(MissingEnvironmentError);
    expect(() => requireEnv('X', env)).toThrow('Environment variable X is not set');
  });

  it.each([['0'], ['-1'], ['ten']])('throws for a number variable of %j', (value) => {
    expect(() => requireNumberEnv('N', { N: value })).toThrow(`must be a positive number, got "${value}"`);
  });
});

describe('readCommonEnv', () => {
  it('reads the common environment of every handler', () => {
    expect(readCommonEnv(common)).toEqual({
      prefix: 'ddk',
      env: 'dev',
      tables: { objectMetadata: 'om', datasets: 'ds', pipelines: 'pl', executionHistory: 'eh' },
      executionTtlDays: 30,
    });
  });

  it.each(Object.keys(common))('throws naming %s when it is missing', (name) => {
    const env: Record<string, string> = { ...common };
    delete env[name];
    expect(() => readCommonEnv(env)).toThrow(`Environment variable ${name} `);
  });
});

describe('runtimeClientConfig', () => {
  it.each([
    [{ AWS_REGION: 'eu-west-1' }, { region: 'eu-west-1', forcePathStyle: false }],
    [{ AWS_DEFAULT_REGION: 'eu-central-1' }, { region: 'eu-central-1', forcePathStyle: false }],
    [{}, { region: 'us-east-1', forcePathStyle: false }],
    [{ AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }, { region: 'us-east-1', forcePathStyle: true }],
    [{ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:5000' }, { region: 'us-east-1', forcePathStyle: true }],
  ])('configures clients for %j', (env, expected) => {
    expect(runtimeClientConfig(env)).toMatchObject({ ...expected, maxAttempts: 5 });
  });

  it('recognises SDK errors by name', () => {
    expect(isAwsError(Object.assign(new Error('x'), { name: 'NoSuchKey' }), 'NotFound', 'NoSuchKey')).toBe(true);
    expect(isAwsError(new Error('x'), 'NoSuchKey')).toBe(false);
    expect(isAwsError(undefined, 'NoSuchKey')).toBe(false);
  });
});

describe('lazyClient', () => {
  it('creates the client on the first call only and returns the same one after', async () => {
    // Given a lazy client
    const create = vi.fn(async () => ({ id: 'client' }));
    const client = lazyClient(create);
    // Then nothing is created until it is asked for
    expect(create).not.toHaveBeenCalled();
    // When it is asked for three times, concurrently and then again
    const [a, b] = await Promise.all([client(), client()]);
    const c = await client();
    // Then it was created once
    expect(create).toHaveBeenCalledTimes(1);
    expect(a).toBe(b);
    expect(c).toBe(a);
  });

  it('tries again on the next call when creating the client fails', async () => {
    const create = vi.fn<() => Promise<object>>().mockRejectedValueOnce(new Error('no SDK')).mockResolvedValue({ id: 'client' });
    const client = lazyClient(create);
    await expect(client()).rejects.toThrow('no SDK');
    expect(await client()).toEqual({ id: 'client' });
    expect(create).toHaveBeenCalledTimes(2);
  });
});

describe('clientGetter', () => {
  it('returns a given client as is, and a lazy one through its function', async () => {
    const client = { id: 'client' };
    expect(await clientGetter(client)()).toBe(client);
    const lazy = lazyClient(async () => client);
    expect(clientGetter(lazy)).toBe(lazy);
  });
});

describe('withRecordKeys', () => {
  it("appends team and dataset to the record's lines only", async () => {
    const lines: string[] = [];
    const logger: Logger = createLogger('test');
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await withRecordKeys(logger, { team: 'demoteam', dataset: 'legislators' }, async () => logger.info('inside'));
      logger.info('outside');
    } finally {
      process.stdout.write = write;
    }
    const [inside, outside] = lines.map((line) => JSON.parse(line));
    expect(inside).toMatchObject({ message: 'inside', team: 'demoteam', dataset: 'legislators', service: 'sdlf-test' });
    expect(outside.message).toBe('outside');
    expect(outside.team).toBeUndefined();
  });

  it.each([
    ['{"team":"t","dataset":"d","x":1}', { team: 't', dataset: 'd' }],
    ['{"team":1}', {}],
    ['not json', {}],
  ])('reads log keys of the body %s', (body, keys) => {
    expect(keysOfBody(body)).toEqual(keys);
  });
});

describe('parseDatasetParameter', () => {
  it('reads the parameter the CDK app writes, custom pipelines without stage B included', () => {
    const config = datasetConfig();
    expect(parseDatasetParameter(JSON.stringify(config), '/ddk/dev/datasets/demoteam/legislators')).toEqual(config);
    const custom = { ...config, pipeline: 'custom', stageBQueueUrl: '', stageBDeadLetterQueueUrl: '', glueJob: '' };
    expect(parseDatasetParameter(JSON.stringify(custom), 'p')).toEqual(custom);
  });

  it.each([
    ['not JSON', 'x', /not JSON/],
    ['no team', JSON.stringify({ ...datasetConfig(), team: undefined }), /"team" must be a non-empty string/],
    [
      'max below min',
      JSON.stringify({ ...datasetConfig(), minItemsProcess: 5, maxItemsProcess: 2 }),
      /"maxItemsProcess" must be an integer >= 5/,
    ],
    ['a string version', JSON.stringify({ ...datasetConfig(), version: '1' }), /"version" must be an integer >= 0/],
  ])('throws a MalformedInputError naming the parameter for %s', (_label, text, message) => {
    expect(() => parseDatasetParameter(text, '/ddk/dev/datasets/t/d')).toThrow(MalformedInputError);
    expect(() => parseDatasetParameter(text, '/ddk/dev/datasets/t/d')).toThrow(message);
    expect(() => parseDatasetParameter(text, '/ddk/dev/datasets/t/d')).toThrow('/ddk/dev/datasets/t/d');
  });
});
