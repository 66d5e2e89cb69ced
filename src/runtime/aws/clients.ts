/**
 * Configuration shared by the runtime's AWS SDK clients. Each handler creates only the clients it uses, once per
 * container, with this configuration: at cold start the clients every invocation needs, on first use
 * ({@link lazyClient}) those only some invocations need. The CLI has its own factory (`src/aws/clients.ts`).
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

/**
 * What an adapter is given: an SDK client, or a function that returns it on first use ({@link lazyClient}). Each
 * adapter loads its SDK commands from its `sdk/<service>.js` module on first use too, so a client given lazily
 * brings no SDK code into a handler's start-up.
 */
export type ClientSource<T extends object> = T | (() => Promise<T>);

/** Returns the function an adapter calls for its client, whether it was given the client or a lazy one. */
export function clientGetter<T extends object>(source: ClientSource<T>): () => Promise<T> {
  if (typeof source === 'function') return source;
  const client = Promise.resolve(source);
  return () => client;
}

/**
 * Returns a function that creates a client on its first call and returns that same client on every later call
 * (once per container), for a client a handler needs on some invocations only. Load the SDK inside `create`
 * with a dynamic `import()` of the service's `sdk/<service>.js` module: the bundle then keeps that SDK code in a
 * chunk that is loaded, and compiled, only by the invocation that first needs it. A failed creation is tried
 * again on the next call.
 */
export function lazyClient<T extends object>(create: () => Promise<T>): () => Promise<T> {
  let client: Promise<T> | undefined;
  return () => {
    client ??= create().catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };
}
