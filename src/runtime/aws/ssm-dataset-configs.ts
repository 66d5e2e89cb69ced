/**
 * {@link DatasetConfigSource} on the SSM `DatasetParameter`s the CDK app writes.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { Naming } from '../../config/naming.js';
import type { DatasetParameter } from '../contract.js';
import { MalformedInputError, parseObject, requireString } from '../core/deps.js';
import type { DatasetConfigSource } from '../core/ports.js';
import { type ClientSource, clientGetter, isAwsError } from './clients.js';

const sdk = () => import('./sdk/ssm.js');

const WHAT = 'dataset configuration parameter';

/** Parses and checks a `DatasetParameter` value; throws {@link MalformedInputError} naming the parameter and field. */
export function parseDatasetParameter(text: string, name: string): DatasetParameter {
  const what = `${WHAT} ${name}`;
  const value = parseObject(text, what);
  const number = (field: string, min: number): number => {
    const n = value[field];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min) {
      throw new MalformedInputError(what, `"${field}" must be an integer >= ${min}, got ${JSON.stringify(n)}`);
    }
    return n;
  };
  const text_ = (field: string) => requireString(value, field, what);
  const minItemsProcess = number('minItemsProcess', 1);
  const maxItemsProcess = number('maxItemsProcess', minItemsProcess);
  return {
    team: text_('team'),
    dataset: text_('dataset'),
    pipeline: text_('pipeline'),
    stageATransform: text_('stageATransform'),
    stageBTransform: text_('stageBTransform'),
    minItemsProcess,
    maxItemsProcess,
    lightTransformFunction: text_('lightTransformFunction'),
    // A custom pipeline has no stage B: its queue fields may be empty.
    stageBQueueUrl: typeof value.stageBQueueUrl === 'string' ? value.stageBQueueUrl : '',
    stageBDeadLetterQueueUrl: typeof value.stageBDeadLetterQueueUrl === 'string' ? value.stageBDeadLetterQueueUrl : '',
    glueJob: typeof value.glueJob === 'string' ? value.glueJob : '',
    glueDatabase: text_('glueDatabase'),
    version: number('version', 0),
  };
}

/** Reads dataset configurations from `/{prefix}/{env}/datasets/{team}/{dataset}`. */
export class SsmDatasetConfigs implements DatasetConfigSource {
  private readonly naming: Naming;
  private readonly ssm: () => Promise<SSMClient>;

  /** @param ssm the client, or a function creating it on first use */
  constructor(ssm: ClientSource<SSMClient>, where: { readonly prefix: string; readonly env: string }) {
    this.ssm = clientGetter(ssm);
    // Parameter names use only the prefix and the environment; account and region do not appear in them.
    this.naming = new Naming({ prefix: where.prefix, env: where.env, account: '', region: '' });
  }

  async get(team: string, dataset: string): Promise<DatasetParameter | undefined> {
    const name = this.naming.datasetParameter(team, dataset);
    const [ssm, { GetParameterCommand }] = await Promise.all([this.ssm(), sdk()]);
    try {
      const response = await ssm.send(new GetParameterCommand({ Name: name }));
      return response.Parameter?.Value === undefined ? undefined : parseDatasetParameter(response.Parameter.Value, name);
    } catch (error) {
      if (isAwsError(error, 'ParameterNotFound')) return undefined;
      throw error;
    }
  }

  async list(team: string): Promise<DatasetParameter[]> {
    const path = this.naming.ssm('datasets', team);
    const out: DatasetParameter[] = [];
    const [ssm, { paginateGetParametersByPath }] = await Promise.all([this.ssm(), sdk()]);
    for await (const page of paginateGetParametersByPath({ client: ssm }, { Path: path, Recursive: false })) {
      for (const parameter of page.Parameters ?? []) {
        if (parameter.Name && parameter.Value !== undefined) out.push(parseDatasetParameter(parameter.Value, parameter.Name));
      }
    }
    return out.sort((a, b) => a.dataset.localeCompare(b.dataset));
  }
}
