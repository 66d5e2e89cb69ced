import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of the moto_server started for this run. */
    motoEndpoint: string;
  }
}

let moto: ChildProcess | undefined;

/** Starts one moto_server on 127.0.0.1 for the whole run and stops it afterwards. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    execFileSync('moto_server', ['--help'], { stdio: 'ignore' });
  } catch {
    throw new Error('moto_server is not installed: the integration tests need it (pip install "moto[server]").');
  }
  const port = await freePort();
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor(endpoint);
  project.provide('motoEndpoint', endpoint);
  return async () => {
    moto?.kill('SIGTERM');
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

async function waitFor(endpoint: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
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
