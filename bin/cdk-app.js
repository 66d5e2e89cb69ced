#!/usr/bin/env node
// The CDK app of an sdlf project, for plain `npx cdk synth|diff|deploy`: the project's cdk.json runs
// `node node_modules/sdlf/bin/cdk-app.js`. Builds the app from the project in the current folder; the CDK CLI
// passes the output folder and context through CDK_OUTDIR and CDK_CONTEXT_JSON, which the app reads.
// SDLF_ENV limits the app to one environment.
import { buildApp } from '../dist/app/index.js';
import { loadProject } from '../dist/config/load.js';
import { isSdlfError } from '../dist/core/errors.js';

try {
  const project = await loadProject(process.cwd());
  const app = await buildApp(project, { env: process.env.SDLF_ENV || undefined });
  app.synth();
} catch (error) {
  if (!isSdlfError(error)) throw error;
  process.stderr.write(`Error: ${error.message}\n`);
  for (const suggestion of error.suggestions ?? []) process.stderr.write(`  ${suggestion}\n`);
  process.exitCode = 2;
}
