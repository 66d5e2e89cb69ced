import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';

/** The Spark of AWS Glue 5.0: what `--engine spark` is checked against and what the install advice names. */
export const GLUE_SPARK_VERSION = '3.5.4';

/** The Python that runs a local Spark job: `SDLF_PYTHON`, else `python3` on PATH. */
export function sparkPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.SDLF_PYTHON ?? 'python3';
}

/** What {@link checkSparkEnvironment} found. */
export interface SparkEnvironment {
  readonly python: string;
  readonly pysparkVersion: string;
}

/**
 * Checks that python3, PySpark and Java are there for a local Spark job, before anything runs. Throws an
 * {@link SdlfError} (exit 2) naming what is missing and the exact command that installs it; `purpose` (what
 * needs Spark) starts its message.
 */
export function checkSparkEnvironment(env: NodeJS.ProcessEnv = process.env, purpose = '--engine spark'): SparkEnvironment {
  const python = sparkPython(env);
  const probe = spawnSync(python, ['-c', 'import pyspark; print(pyspark.__version__)'], { encoding: 'utf8', env });
  if (probe.error) {
    throw new SdlfError(`${purpose} needs Python 3 ("${python}" could not be started: ${probe.error.message}).`, {
      code: 'SPARK_PYTHON_MISSING',
      suggestions: [
        'Install Python 3.11 (the Python of Glue 5.0), e.g. "sudo apt-get install python3 python3-pip" or "brew install python@3.11",',
        `then "${python} -m pip install pyspark==${GLUE_SPARK_VERSION}"; or set SDLF_PYTHON to a python that has PySpark.`,
      ],
    });
  }
  if (probe.status !== 0) {
    throw new SdlfError(`${purpose} needs PySpark, which "${python}" cannot import.`, {
      code: 'SPARK_PYSPARK_MISSING',
      suggestions: [
        `Install Glue 5.0's Spark: "${python} -m pip install pyspark==${GLUE_SPARK_VERSION}" (in a virtual environment if you use one),`,
        'or set SDLF_PYTHON to a python that has PySpark.',
      ],
    });
  }
  const java = spawnSync(env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java', ['-version'], { encoding: 'utf8', env });
  if (java.error || java.status !== 0) {
    throw new SdlfError(`${purpose} needs Java 17 (Spark runs on the JVM), and none was found.`, {
      code: 'SPARK_JAVA_MISSING',
      suggestions: [
        'Install Java 17 (Glue 5.0\'s), e.g. "sudo apt-get install openjdk-17-jre-headless" or "brew install openjdk@17",',
        'or set JAVA_HOME to a Java 17 installation.',
      ],
    });
  }
  return { python, pysparkVersion: probe.stdout.trim() };
}

/** Options of {@link runSparkJob}. */
export interface RunSparkJobOptions {
  /** The job's `main.py`, absolute. */
  readonly script: string;
  /** Working directory of the job: the heavy transform folder (where `transform.sql` is found). */
  readonly workdir: string;
  /** Job arguments as Glue passes them, without the leading `--` (`manifest`, `team`, …). */
  readonly args: Readonly<Record<string, string>>;
  /** Bucket folders and catalog folder of the local lake. */
  readonly lake: { readonly buckets: Readonly<Record<string, string>>; readonly catalog: string };
  /** Spark's own output goes here. */
  readonly logFile: string;
  /** Scratch space of the job (Spark's local dir, the lake description). */
  readonly tmpDir: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** A local Spark job that ended with an error; `reason` is the job's last error line, `logFile` has the rest. */
export class SparkJobError extends Error {
  readonly code = 'SPARK_JOB_FAILED';

  constructor(
    readonly reason: string,
    readonly logFile: string,
  ) {
    super(`${reason} (Spark's log: ${logFile})`);
    this.name = 'SparkJobError';
  }
}

/**
 * Runs a heavy transform's `main.py` on local Spark (`local[2]`, UTC, no UI) against the local lake, as Glue
 * runs it on AWS: the same job arguments, the manifest of the batch, and `--sdlf-local-lake` so that the job
 * reads and writes the lake's folders instead of S3 and the Glue catalog. The job's own `sdlf:` lines are
 * progress; everything Spark prints goes to `logFile`.
 */
export async function runSparkJob(options: RunSparkJobOptions, io: Io): Promise<void> {
  const env = options.env ?? process.env;
  await mkdir(options.tmpDir, { recursive: true });
  await mkdir(dirname(options.logFile), { recursive: true });
  const lakeFile = join(options.tmpDir, 'lake.json');
  await writeFile(lakeFile, `${JSON.stringify(options.lake, null, 1)}\n`);
  const argv = [options.script, '--JOB_NAME', 'sdlf-local'];
  for (const [name, value] of Object.entries({ ...options.args, 'sdlf-local-lake': lakeFile })) argv.push(`--${name}`, value);
  const submit = [
    '--master local[2]',
    '--conf spark.ui.enabled=false',
    '--conf spark.ui.showConsoleProgress=false',
    '--conf spark.sql.session.timeZone=UTC',
    `--conf spark.local.dir=${join(options.tmpDir, 'spark')}`,
    `--conf spark.driver.extraJavaOptions=-Djava.io.tmpdir=${options.tmpDir}`,
    'pyspark-shell',
  ].join(' ');
  const log = createWriteStream(options.logFile);
  const child = spawn(sparkPython(env), ['-B', ...argv], {
    cwd: options.workdir,
    env: { ...env, PYSPARK_SUBMIT_ARGS: submit, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('sdlf: ')) io.info(`stage B (spark): ${line.slice('sdlf: '.length)}`);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-64 * 1024);
  });
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve(status ?? 1));
  });
  await new Promise<void>((resolve) => log.end(resolve));
  if (code !== 0) throw new SparkJobError(lastErrorLine(tail) ?? `the Spark job exited with code ${code}`, options.logFile);
}

/** The exception line a Python traceback ends with (`TransformSqlError: transform.sql:3: …`), without its module. */
export function lastErrorLine(stderr: string): string | undefined {
  const line = stderr
    .split('\n')
    .filter((l) => /^[A-Za-z_][\w.]*(Error|Exception)\b: /.test(l))
    .at(-1);
  return line?.replace(/^(?:[a-z_]\w*\.)+/, '');
}
