// A local Lambda runtime for the moto_server integration tests: moto has no Lambda executor without Docker, so
// the moto launcher (server.py) forwards each invocation here. Every function runs in processes of its own
// ("containers", kept warm between invocations) with the function's environment variables, its AWS SDK pointed at
// moto_server, and the deployed code: the same bundle, handler and event a real Lambda would run. As in Lambda, a
// container handles one event at a time: a concurrent invocation gets another container.
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./lambda-worker.mjs', import.meta.url));

/**
 * Starts the runtime on 127.0.0.1 and returns its URL and a stop function. `motoEndpoint`: where the functions'
 * AWS SDK calls go; `logDir`: where each function's output (its CloudWatch log) is appended, as
 * `<function name>.log`.
 */
export async function startLambdaRuntime({ motoEndpoint, logDir = join(tmpdir(), 'sdlf-moto-lambda-logs') }) {
  mkdirSync(logDir, { recursive: true });
  /** Containers by function configuration; each is busy with at most one invocation. */
  const pools = new Map();
  let counter = 0;

  const containerFor = (request) => {
    const key = createHash('sha256')
      .update(JSON.stringify([request.functionName, request.codeDir, request.handler, request.environment]))
      .digest('hex');
    const pool = pools.get(key) ?? [];
    pools.set(key, pool);
    let container = pool.find((c) => !c.busy);
    if (!container) {
      const child = fork(WORKER, [request.codeDir, request.handler], {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...request.environment,
          AWS_REGION: request.region,
          AWS_DEFAULT_REGION: request.region,
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_ENDPOINT_URL: motoEndpoint,
          AWS_LAMBDA_FUNCTION_NAME: request.functionName,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
          POWERTOOLS_LOG_LEVEL: request.environment.POWERTOOLS_LOG_LEVEL ?? 'INFO',
        },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      const log = createWriteStream(join(logDir, `${request.functionName}.log`), { flags: 'a' });
      child.stdout.pipe(log);
      const stderr = [];
      child.stderr.on('data', (chunk) => {
        stderr.push(chunk);
        log.write(chunk);
      });
      const pending = new Map();
      child.on('message', (message) => {
        pending.get(message.id)?.(message);
        pending.delete(message.id);
      });
      child.on('exit', (code) => {
        const at = pool.indexOf(container);
        if (at >= 0) pool.splice(at, 1);
        for (const resolve of pending.values()) {
          resolve({
            ok: false,
            payload: JSON.stringify({
              errorType: 'Runtime.ExitError',
              errorMessage: `exited with ${code}: ${Buffer.concat(stderr).toString()}`,
            }),
          });
        }
      });
      container = { child, pending, busy: false };
      pool.push(container);
    }
    container.busy = true;
    return container;
  };

  const invoke = (request) =>
    new Promise((resolve) => {
      const container = containerFor(request);
      const id = ++counter;
      const timeoutMs = Number(request.timeout ?? 30) * 1000;
      const timer = setTimeout(() => {
        container.pending.delete(id);
        container.child.kill('SIGKILL');
        resolve({
          ok: false,
          payload: JSON.stringify({
            errorType: 'Sandbox.Timedout',
            errorMessage: `Task timed out after ${timeoutMs / 1000} seconds`,
          }),
        });
      }, timeoutMs);
      container.pending.set(id, (message) => {
        clearTimeout(timer);
        container.busy = false;
        resolve(message);
      });
      container.child.send({
        id,
        event: request.event,
        context: {
          functionName: request.functionName,
          functionVersion: '$LATEST',
          invokedFunctionArn: request.functionArn,
          memoryLimitInMB: String(request.memory ?? 128),
          awsRequestId: `local-${id}`,
          logGroupName: `/aws/lambda/${request.functionName}`,
          logStreamName: 'local',
          timeoutMs,
        },
      });
    });

  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const request = JSON.parse(body);
    const outcome = await invoke(request);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ payload: outcome.payload, errored: !outcome.ok }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/invoke`,
    logDir,
    async stop() {
      for (const pool of pools.values()) for (const { child } of pool) child.kill('SIGKILL');
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
