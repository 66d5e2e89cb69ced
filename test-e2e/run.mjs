// Opt-in end-to-end run against a real AWS account: init → bootstrap → deploy --direct → upload → wait for stage
// A and B → status → delete-all. Runs only when AWS credentials are available (AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO…);
// otherwise it says why it did nothing and exits 0. Usage: npm run build && npm run test:e2e
// Region: AWS_REGION (default us-east-1). Everything it creates carries a random prefix and is deleted at the end.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

const say = (line) => process.stdout.write(`${line}\n`);
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url));
const region = process.env.AWS_REGION ?? 'us-east-1';
let account;
try {
  account = (await new STSClient({ region }).send(new GetCallerIdentityCommand({}))).Account;
} catch (error) {
  say(`test:e2e did nothing: no usable AWS credentials (${error.name}: ${error.message.split('\n')[0]}).`);
  say('Set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and AWS_REGION for a sandbox account, then re-run.');
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'sdlf-e2e-'));
const prefix = `e2e${Math.random().toString(36).slice(2, 7)}`;
const project = join(dir, 'lake');
const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' };
const sdlf = (...args) => {
  say(`$ sdlf ${args.join(' ')}`);
  return execFileSync(process.execPath, [bin, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
};
const started = Date.now();
let deployed = false;
try {
  sdlf('init', 'lake', '--path', dir, '--yes', '--prefix', prefix, '--account', account, '--region', region, '--no-cicd');
  sdlf('bootstrap', '--path', project, '--env', 'dev');
  deployed = true;
  sdlf('deploy', '--path', project, '--env', 'dev', '--direct', '--require-approval', 'never');
  sdlf('upload', '--path', project, '--env', 'dev', '--team', 'demoteam', '--dataset', 'legislators');
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const status = JSON.parse(sdlf('status', '--path', project, '--env', 'dev', '--json'));
    const runs = status.datasets.flatMap((d) => d.executions);
    const failed = runs.find((e) => e.status === 'FAILED');
    if (failed) throw new Error(`stage ${failed.stage} failed: ${failed.failure?.error} ${failed.failure?.cause}`);
    const done = (stage) => runs.some((e) => e.stage === stage && e.status === 'SUCCEEDED');
    if (done('a') && done('b')) break;
    if (Date.now() > deadline) throw new Error('stage A and B did not both succeed within 30 minutes');
    await new Promise((r) => setTimeout(r, 30_000));
  }
  say(sdlf('status', '--path', project, '--env', 'dev'));
} finally {
  if (deployed) sdlf('delete-all', '--path', project, '--env', 'dev', '--yes');
  say(`test:e2e finished in ${((Date.now() - started) / 60_000).toFixed(1)} min (project kept in ${project}).`);
}
