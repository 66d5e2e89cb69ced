// The Python environment of the tests: `.venv/` in the repository, with exactly python/requirements-dev.txt, and
// `.venv/checkov/` with exactly python/requirements-checkov.txt (checkov pins a boto3 that moto cannot use).
// `node scripts/python-env.mjs` makes or refreshes it (a stamp holds the hash of the requirements it was made from,
// so an unchanged environment costs nothing); `node scripts/python-env.mjs --lock` regenerates the pinned
// requirements from python/requirements-dev.in in a throw-away environment.
// Imported by scripts/test.mjs, which puts `.venv/bin` first on PATH so `python3`, `cfn-lint` and moto_server
// resolve there.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
export const venv = join(root, '.venv');
const requirementsIn = join(root, 'python', 'requirements-dev.in');
const requirements = join(root, 'python', 'requirements-dev.txt');
const stamp = join(venv, '.sdlf-requirements.sha256');
/** The environments made from pinned requirements: the tests' own, and checkov's beside it. */
const ENVIRONMENTS = [
  { dir: venv, requirementsIn, requirements },
  {
    dir: join(venv, 'checkov'),
    requirementsIn: join(root, 'python', 'requirements-checkov.in'),
    requirements: join(root, 'python', 'requirements-checkov.txt'),
  },
];
/** The checkov executable of `.venv/checkov`. */
export const checkovBin = join(venv, 'checkov', 'bin', 'checkov');
/** Where the jars that let the tests' Spark read and write s3:// on moto_server live (see {@link SPARK_JARS}). */
export const sparkJarsDir = join(venv, 'spark-jars');
/**
 * S3A for PySpark 3.5's Hadoop 3.3.4: hadoop-aws of the same version and the AWS SDK bundle it was built with,
 * from Maven Central. The moto launcher gives them to the Glue job runs it executes on real Spark.
 */
export const SPARK_JARS = ['org.apache.hadoop:hadoop-aws:3.3.4', 'com.amazonaws:aws-java-sdk-bundle:1.12.262'];
const jarFile = (coordinates) => {
  const [, artifact, version] = coordinates.split(':');
  return join(sparkJarsDir, `${artifact}-${version}.jar`);
};
/** The jar files of {@link SPARK_JARS}, comma-separated, as Spark's `spark.jars` takes them. */
export const sparkJars = () => SPARK_JARS.map(jarFile).join(',');

function run(command, args) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status}`);
}

function python() {
  for (const candidate of ['python3.11', 'python3']) {
    const probe = spawnSync(candidate, ['-c', 'import sys; print(sys.version_info[:2] >= (3, 9))'], { encoding: 'utf8' });
    if (probe.status === 0 && probe.stdout.trim() === 'True') return candidate;
  }
  throw new Error('Python 3.9 or later is needed for the tests (python3 on PATH); Glue 5.0 runs Python 3.11.');
}

/** Makes `.venv` hold exactly the pinned requirements; returns the PATH that puts its `bin` first. */
export function ensurePythonEnv() {
  const hash = createHash('sha256');
  for (const environment of ENVIRONMENTS) hash.update(readFileSync(environment.requirements));
  const wanted = hash.update(SPARK_JARS.join('\n')).digest('hex');
  const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
  if (have !== wanted) {
    const started = Date.now();
    for (const environment of ENVIRONMENTS) {
      process.stderr.write(
        `python: installing ${relativeName(environment.requirements)} into ${relativeName(environment.dir)} …\n`,
      );
      if (!existsSync(join(environment.dir, 'bin', 'python3'))) run(python(), ['-m', 'venv', environment.dir]);
      const pip = join(environment.dir, 'bin', 'pip');
      run(pip, ['install', '--quiet', '--disable-pip-version-check', '--no-input', '-r', environment.requirements]);
    }
    for (const coordinates of SPARK_JARS) {
      if (existsSync(jarFile(coordinates))) continue;
      run('mvn', [
        '-q',
        '-B',
        'org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy',
        `-Dartifact=${coordinates}`,
        `-DoutputDirectory=${sparkJarsDir}`,
      ]);
    }
    writeFileSync(stamp, `${wanted}\n`);
    process.stderr.write(`python: .venv ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return [join(venv, 'bin'), process.env.PATH ?? ''].join(delimiter);
}

/** A path of the repository, relative to its root, for messages. */
function relativeName(path) {
  return path.startsWith(root) ? path.slice(root.length) : path;
}

function lock() {
  for (const environment of ENVIRONMENTS) lockOne(environment);
}

function lockOne({ requirementsIn, requirements }) {
  const dir = mkdtempSync(join(tmpdir(), 'sdlf-python-lock-'));
  try {
    run(python(), ['-m', 'venv', dir]);
    run(join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', requirementsIn]);
    const frozen = spawnSync(join(dir, 'bin', 'pip'), ['freeze', '--all', '--exclude', 'pip', '--exclude', 'setuptools'], {
      encoding: 'utf8',
    });
    if (frozen.status !== 0) throw new Error(`pip freeze failed: ${frozen.stderr}`);
    const header = `# Generated from ${relativeName(requirementsIn)} by \`npm run python:lock\` (pip freeze of a fresh environment): do not edit.\n`;
    writeFileSync(requirements, header + frozen.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    if (process.argv.includes('--lock')) lock();
    ensurePythonEnv();
  } catch (error) {
    process.stderr.write(`python: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
