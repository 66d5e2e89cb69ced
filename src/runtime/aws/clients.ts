/**
 * Configuration shared by the runtime's AWS SDK clients. Each handler creates only the clients it uses, once per
 * container, with this configuration; the CLI has its own factory (`src/aws/clients.ts`).
 */

/** Settings common to every runtime client. */
export interface RuntimeClientConfig {
  /** @default `AWS_REGION` (set by Lambda), else `AWS_DEFAULT_REGION`, else `us-east-1` */
  readonly region: string;
  /** Path-style S3 addressing, needed by local endpoints such as moto_server. */
  readonly forcePathStyle: boolean;
  /** Retries of throttled or failed calls. @default 5 */
  readonly maxAttempts: number;
}

/**
 * Returns the client configuration of the runtime. The SDK honours `AWS_ENDPOINT_URL` (and
 * `AWS_ENDPOINT_URL_<SERVICE>`) itself; when one is set, S3 uses path-style addressing, as local servers need.
 */
export function runtimeClientConfig(env: NodeJS.ProcessEnv = process.env): RuntimeClientConfig {
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL),
    maxAttempts: 5,
  };
}

/** Tells whether an SDK error has one of the given names (`NoSuchKey`, `ConditionalCheckFailedException`…). */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && names.includes(name);
}
