import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/project.js';

describe('package entry points', () => {
  it('maps every export of package.json to a source module that exists', async () => {
    // Given the exports map of package.json
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { default: string }>;
    };
    // Then each dist/ module has its src/ twin, which loads and exports something
    for (const [entry, target] of Object.entries(manifest.exports)) {
      if (entry === './package.json' || typeof target === 'string') continue;
      const source = target.default.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts');
      const module = (await import(join(repoRoot, source))) as Record<string, unknown>;
      expect(Object.keys(module).length, `${entry} → ${source}`).toBeGreaterThan(0);
    }
  });

  it('exports the config loader and the naming module from the main entry point', async () => {
    const sdlf = await import('../../src/index.js');
    const naming = new sdlf.Naming({ prefix: 'ddk', env: 'dev', account: '111111111111', region: 'us-east-1' });
    expect(naming.foundationsStack()).toBe('ddk-dev-foundations');
    expect(typeof sdlf.loadProject).toBe('function');
  });
});
