// Builds the package: compiles TypeScript, copies templates, bundles each Lambda handler and writes the oclif
// manifest and the cached root help. Usage: node scripts/build.mjs [--no-manifest]
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleHandlers } from './bundle-handlers.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name) => join(root, 'node_modules', '.bin', name);
const started = Date.now();

rmSync(join(root, 'dist'), { recursive: true, force: true });
rmSync(join(root, 'oclif.manifest.json'), { force: true });
execFileSync(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (existsSync(join(root, 'src', 'templates'))) {
  cpSync(join(root, 'src', 'templates'), join(root, 'dist', 'templates'), { recursive: true });
}
// The Glue runner ships as the Python file it is, beside its module (src/runtime/glue/runner.ts), and so does the
// Spark SQL check of `sdlf validate`, which imports it.
for (const file of ['main.py', 'check_sql.py']) {
  cpSync(join(root, 'src', 'runtime', 'glue', file), join(root, 'dist', 'runtime', 'glue', file));
}
// The demo's name tables ship beside the sample generator that reads them (src/samples/legislators.ts).
cpSync(join(root, 'src', 'samples', 'legislators-names.json'), join(root, 'dist', 'samples', 'legislators-names.json'));
const handlers = await bundleHandlers({ root, outdir: join(root, 'dist', 'handlers') });
if (!process.argv.includes('--no-manifest')) {
  execFileSync(bin('oclif'), ['manifest'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  // The root help that bin/run.js prints without loading oclif; it is keyed by the manifest, so it comes after it.
  execFileSync(process.execPath, [join(root, 'scripts', 'help-cache.mjs')], { cwd: root, stdio: 'inherit' });
}
process.stderr.write(`built dist/ (${handlers.length} handler bundle(s)) in ${Date.now() - started} ms\n`);
