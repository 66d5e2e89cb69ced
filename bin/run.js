#!/usr/bin/env node
import { answerWithoutOclif } from '../dist/cli/fast-start.js';
import { replaceSdkNodeWarning } from '../dist/cli/node-version.js';

replaceSdkNodeWarning();
if (!(await answerWithoutOclif(import.meta.url))) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
