import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { createRecordingIo } from '../../src/core/io.js';
import { initProject } from '../../src/services/init-project.js';
import { tempDir } from './project.js';

/** `sdlf init` flags of a project with CI/CD in its own account and region, as the init tests answer them. */
export const ACME_INIT_FLAGS: readonly string[] = [
  '--prefix',
  'acme',
  '--account',
  '123456789012',
  '--region',
  'eu-west-1',
  '--cicd',
  '--cicd-account',
  '210987654321',
  '--cicd-region',
  'eu-central-1',
  '--repository',
  'acme-lake',
];

/**
 * Creates one project with `sdlf init --yes` and returns a function that copies it into a fresh folder per call,
 * so each test changes a project of its own without running init again.
 */
export async function initializedProjectCopies(): Promise<() => string> {
  const template = join(tempDir(), 'lake');
  await initProject({ install: false, directory: template, yes: true }, createRecordingIo());
  return () => {
    const root = join(tempDir(), 'lake');
    cpSync(template, root, { recursive: true });
    return root;
  };
}
