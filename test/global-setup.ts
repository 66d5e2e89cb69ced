import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
// @ts-expect-error: a plain ES module, run by the setup only
import { startLambdaRuntime } from './moto/lambda-runtime.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of the moto_server started for this run. */
    motoEndpoint: string;
  }
}

let moto: ChildProcess | undefined;

/** moto_server with the moto defects the tests hit patched (see the file). */
const server = fileURLToPath(new URL('./moto/server.py', import.meta.url));

/** The jars that give the Glue job runs' Spark `s3://` on moto_server (S3A), installed by scripts/python-env.mjs. */
// @ts-expect-error: a plain ES module of the repository's scripts
const { sparkJars } = await import('../scripts/python-env.mjs');

/** Seconds a Glue "minute" of a job's Timeout lasts on moto_server, so that a test can reach a TIMEOUT. */
export const GLUE_SECONDS_PER_MINUTE = 4;

/**
 * Starts one moto_server on 127.0.0.1 for the whole run, with a local Lambda runtime that runs the functions moto
 * invokes (see test/moto/lambda-runtime.mjs) and Glue job runs executed on real PySpark, and stops both afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    execFileSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' });
  } catch {
    throw new Error('moto is not installed for python3: the integration tests need it (pip install "moto[server]").');
  }
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const lambdaRuntime = await startLambdaRuntime({ motoEndpoint: endpoint });
  const child = spawn('python3', [server, String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      SDLF_LAMBDA_RUNTIME_URL: lambdaRuntime.url,
      SDLF_SPARK_JARS: sparkJars(),
      SDLF_GLUE_SECONDS_PER_MINUTE: String(GLUE_SECONDS_PER_MINUTE),
    },
  });
  moto = child;
  // Keep the last of stderr: the launcher explains there why it could not start (e.g. another moto version).
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited: string | undefined;
  child.on('exit', (code, signal) => {
    exited = `exited (${signal ?? code})`;
  });
  await waitFor(endpoint, () => (exited ? `moto_server ${exited}: ${stderr.trim()}` : undefined));
  project.provide('motoEndpoint', endpoint);
  return async () => {
    moto?.kill('SIGTERM');
    await lambdaRuntime.stop();
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(endpoint: string, failure: () => string | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const reason = failure();
    if (reason) throw new Error(reason);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok || response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s`);
}
