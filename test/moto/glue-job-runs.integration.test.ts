import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { GLUE_SECONDS_PER_MINUTE } from '../global-setup.js';
import { motoGlue } from '../helpers/moto-glue.js';
import { tempDir } from '../helpers/project.js';

// The moto launcher's Glue job runs (test/moto/server.py): asynchronous, on real PySpark, ending in each terminal
// state Glue has. The stage B state machine's .sync wait is exercised by test/runtime/aws/state-machine.integration.test.ts.

type JobRun = { JobRunState: string; ErrorMessage?: string };
const bucket = 'sdlf-glue-harness-scripts';
const endpoint = () => inject('motoEndpoint');
const glue = (operation: string, parameters: Record<string, unknown>) => motoGlue(endpoint(), operation, parameters);

async function job(name: string, script: string, timeoutMinutes?: number): Promise<string> {
  const s3 = new S3Client({
    endpoint: endpoint(),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${name}.py`, Body: script }));
  glue('create_job', {
    Name: name,
    Role: 'arn:aws:iam::123456789012:role/glue',
    Command: { Name: 'glueetl', ScriptLocation: `s3://${bucket}/${name}.py`, PythonVersion: '3' },
    GlueVersion: '5.0',
    ...(timeoutMinutes ? { Timeout: timeoutMinutes } : {}),
  });
  return (glue('start_job_run', { JobName: name }) as { JobRunId: string }).JobRunId;
}

const state = (name: string, id: string) => (glue('get_job_run', { JobName: name, RunId: id }) as { JobRun: JobRun }).JobRun;

/** Tells whether a process is still running (a zombie awaiting its parent counts as ended). */
function alive(pid: number | undefined): boolean {
  if (pid === undefined || !Number.isInteger(pid)) throw new Error(`no process id: ${pid}`);
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const status = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^State:\s+(\S)/m)?.[1];
  return status !== 'Z';
}

async function finished(name: string, id: string, withinMs: number): Promise<JobRun> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const run = state(name, id);
    if (!['STARTING', 'RUNNING', 'STOPPING'].includes(run.JobRunState)) return run;
    if (Date.now() > deadline) throw new Error(`job run ${id} still ${run.JobRunState} after ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Glue job runs on moto_server', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    const s3 = new S3Client({
      endpoint: endpoint(),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    const { CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it('returns from StartJobRun at once and runs the script on Spark: RUNNING, then SUCCEEDED', async () => {
    const id = await job(
      'harness-spark',
      'from pyspark.sql import SparkSession\nassert SparkSession.builder.getOrCreate().sql("SELECT 1 + 1 AS two").first().two == 2\n',
    );
    expect(state('harness-spark', id).JobRunState).toBe('RUNNING');
    expect((await finished('harness-spark', id, 90_000)).JobRunState).toBe('SUCCEEDED');
  });

  it('ends a script that raises FAILED, with its error as ErrorMessage', async () => {
    const id = await job('harness-fails', 'raise ValueError("the batch is not what the job expects")\n');
    const run = await finished('harness-fails', id, 30_000);
    expect(run).toMatchObject({ JobRunState: 'FAILED', ErrorMessage: 'ValueError: the batch is not what the job expects' });
  });

  it('stops a running run on BatchStopJobRun: STOPPING, then STOPPED, its Python and Spark processes killed', async () => {
    // Given a run whose script starts Spark, writes its own and the JVM's process ids, and then waits
    const pids = join(tempDir('sdlf-glue-stop-'), 'pids');
    const id = await job(
      'harness-stopped',
      [
        'import os, time',
        'from pyspark.sql import SparkSession',
        'jvm = SparkSession.builder.getOrCreate()._jvm.ProcessHandle.current().pid()',
        `open(${JSON.stringify(`${pids}.tmp`)}, "w").write("%d %d" % (os.getpid(), jvm))`,
        `os.rename(${JSON.stringify(`${pids}.tmp`)}, ${JSON.stringify(pids)})`,
        'time.sleep(120)',
      ].join('\n'),
    );
    const deadline = Date.now() + 90_000;
    while (!existsSync(pids)) {
      if (Date.now() > deadline)
        throw new Error(`the run ${id} did not start Spark: ${JSON.stringify(state('harness-stopped', id))}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const [python, jvm] = readFileSync(pids, 'utf8').split(' ').map(Number);
    expect(alive(python) && alive(jvm)).toBe(true);
    // When it is stopped
    const reply = glue('batch_stop_job_run', { JobName: 'harness-stopped', JobRunIds: [id, 'jr_unknown'] }) as {
      SuccessfulSubmissions: unknown[];
      Errors: Array<{ JobRunId: string; ErrorDetail: { ErrorCode: string } }>;
    };
    // Then Glue accepts the running run, not the unknown one, and the run goes STOPPING → STOPPED
    expect(reply.SuccessfulSubmissions).toEqual([{ JobName: 'harness-stopped', JobRunId: id }]);
    expect(reply.Errors).toEqual([
      expect.objectContaining({
        JobRunId: 'jr_unknown',
        ErrorDetail: expect.objectContaining({ ErrorCode: 'InvalidInputException' }),
      }),
    ]);
    expect(['STOPPING', 'STOPPED']).toContain(state('harness-stopped', id).JobRunState);
    expect((await finished('harness-stopped', id, 20_000)).JobRunState).toBe('STOPPED');
    // And the script and the Spark JVM it started are gone
    expect(alive(python)).toBe(false);
    expect(alive(jvm)).toBe(false);
    // And a run that has ended cannot be stopped again
    const again = glue('batch_stop_job_run', { JobName: 'harness-stopped', JobRunIds: [id] }) as { Errors: unknown[] };
    expect(again.Errors).toHaveLength(1);
  });

  it("ends a run that outlives the job's Timeout TIMEOUT", async () => {
    // One Glue minute lasts GLUE_SECONDS_PER_MINUTE seconds on the test server.
    const id = await job('harness-slow', 'import time\ntime.sleep(60)\n', 1);
    const run = await finished('harness-slow', id, (GLUE_SECONDS_PER_MINUTE + 20) * 1000);
    expect(run.JobRunState).toBe('TIMEOUT');
    expect(run.ErrorMessage).toMatch(/timed out after 1 minute/);
  });
});
