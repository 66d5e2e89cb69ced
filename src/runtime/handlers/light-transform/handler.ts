/**
 * Light transform: the stage A Process state of one dataset. Runs the user's transform (bundled in at synth time
 * from `transforms/light/<name>.ts` through the `sdlf:user-transform` module) on one raw object.
 */

import transform from 'sdlf:user-transform';
import type { Context } from 'aws-lambda';
import { runtimeClientConfig } from '../../aws/clients.js';
import { S3ObjectStore } from '../../aws/s3-object-store.js';
// Imported statically: every invocation reads the raw object and writes the staged ones.
import { S3Client } from '../../aws/sdk/s3.js';
import { COMMON_ENV, HANDLER_ENV, type LightTransformInput, type LightTransformOutput } from '../../contract.js';
import { MalformedInputError, optionalString, requireString } from '../../core/deps.js';
import { processObject } from '../../core/stage-a.js';
import { requireEnv } from '../env.js';
import { createLogger } from '../logger.js';

const env = HANDLER_ENV['light-transform'];
const team = requireEnv(env.team);
const dataset = requireEnv(env.dataset);
const options = { stageBucket: requireEnv(env.stageBucket), env: requireEnv(COMMON_ENV.env) };
if (typeof transform !== 'function') {
  throw new Error('The light transform module has no default export function: export default defineLightTransform(…).');
}
const logger = createLogger('light-transform', { team, dataset });
const deps = { store: new S3ObjectStore(new S3Client(runtimeClientConfig())), logger };

/**
 * Transforms one raw object of this function's dataset and returns the staged objects. Throws (failing the
 * object's execution, with the reason) when the input names another dataset or the transform fails.
 */
export async function handler(event: LightTransformInput, context?: Context): Promise<LightTransformOutput> {
  if (context) logger.addContext(context);
  const input = event as unknown as Record<string, unknown>;
  const what = 'light transform input';
  const versionId = optionalString(input, 'versionId', what);
  const request: LightTransformInput = {
    bucket: requireString(input, 'bucket', what),
    key: requireString(input, 'key', what),
    ...(versionId ? { versionId } : {}),
    team: requireString(input, 'team', what),
    dataset: requireString(input, 'dataset', what),
    executionId: requireString(input, 'executionId', what),
  };
  if (request.team !== team || request.dataset !== dataset) {
    throw new MalformedInputError(
      what,
      `it is for ${request.team}/${request.dataset}, but this function transforms ${team}/${dataset}`,
    );
  }
  logger.info('Transforming a raw object', { key: request.key, versionId, executionId: request.executionId });
  return processObject(request, transform, deps, options);
}
