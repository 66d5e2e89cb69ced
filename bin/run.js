#!/usr/bin/env node
// Node.js 22.1 and later keep compiled modules on disk between runs (NODE_DISABLE_COMPILE_CACHE=1 turns it off), so
// the modules are imported after it is on. `sdlf`, `--help` and `--version` are answered without loading oclif when
// dist/cli/fast-start.js can give oclif's answer byte for byte; everything else goes to oclif.
import module from 'node:module';

module.enableCompileCache?.();
const { replaceSdkNodeWarning } = await import('../dist/cli/node-version.js');
const { answerWithoutOclif } = await import('../dist/cli/fast-start.js');

replaceSdkNodeWarning();
if (!(await answerWithoutOclif(import.meta.url))) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
