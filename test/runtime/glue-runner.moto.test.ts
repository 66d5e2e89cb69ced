import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/project.js';

const script = join(repoRoot, 'src', 'runtime', 'glue', 'main.py');
const harness = join(repoRoot, 'test', 'runtime', 'fixtures', 'glue_scenario.py');
// @ts-expect-error: a plain ES module of the repository's scripts
const { sparkJars } = await import('../../scripts/python-env.mjs');

/** Spark as the moto launcher runs Glue jobs: local[2], s3:// through S3A against moto_server. */
function sparkSubmitArgs(endpoint: string): string {
  const conf = {
    'spark.jars': sparkJars(),
    'spark.ui.enabled': 'false',
    'spark.ui.showConsoleProgress': 'false',
    'spark.sql.session.timeZone': 'UTC',
    'spark.hadoop.fs.s3.impl': 'org.apache.hadoop.fs.s3a.S3AFileSystem',
    'spark.hadoop.fs.s3a.endpoint': endpoint,
    'spark.hadoop.fs.s3a.path.style.access': 'true',
    'spark.hadoop.fs.s3a.connection.ssl.enabled': 'false',
    'spark.hadoop.fs.s3a.aws.credentials.provider': 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider',
    'spark.hadoop.fs.s3a.access.key': 'testing',
    'spark.hadoop.fs.s3a.secret.key': 'testing',
  };
  return ['--master local[2]', ...Object.entries(conf).map(([k, v]) => `--conf ${k}=${v}`), 'pyspark-shell'].join(' ');
}

interface Report {
  runs: Array<{ result?: { tables: Array<Record<string, unknown>> }; reads?: string[][]; error?: string }>;
  analytics: string[];
  artifacts: string[];
  tables: Record<
    string,
    { location: string; columns: string[]; types: Record<string, string>; partitionKeys: string[]; partitions: string[] }
  >;
}

let report: Report;
let names: { stage: string; artifacts: string; analytics: string; database: string };

/**
 * Runs the Glue runner four times on real PySpark against moto_server (S3 through S3A, and the Glue catalog).
 */
beforeAll(() => {
  const id = randomBytes(3).toString('hex');
  names = {
    stage: `g${id}-stage`,
    artifacts: `g${id}-artifacts`,
    analytics: `g${id}-analytics`,
    database: `g${id}_dev_demoteam_legislators`,
  };
  const staged = (table: string, file: string) => `s3://${names.stage}/demoteam/legislators/${table}/${file}`;
  const manifest = (executionId: string) => `s3://${names.artifacts}/manifests/demoteam/legislators/${executionId}.json`;
  const persons = staged('persons', 'persons.jsonl');
  const memberships = staged('memberships', 'memberships.jsonl');
  const args = (executionId: string) => [
    '--JOB_NAME',
    'job',
    '--manifest',
    manifest(executionId),
    '--team',
    'demoteam',
    '--dataset',
    'legislators',
    '--database',
    names.database,
    '--execution-id',
    executionId,
    '--analytics-bucket',
    names.analytics,
    '--stage-bucket',
    names.stage,
  ];
  const scenario = {
    buckets: [names.stage, names.artifacts, names.analytics],
    analytics: names.analytics,
    artifacts: names.artifacts,
    database: names.database,
    objects: {
      [persons]: '{"id":1,"name":"Ada"}\n{"id":2,"name":"Bo"}\n',
      [memberships]: '{"id":1,"org":"House"}\n{"id":2,"org":"Senate/Upper"}\n{"id":3,"org":"House"}\n',
      // staged, but in no manifest: never read
      [staged('persons', 'other.jsonl')]: '{"id":99,"name":"Nobody"}\n',
      // written by an earlier run: never deleted
      [`s3://${names.analytics}/demoteam/legislators/people/b-0-00000.parquet`]: '{"id":0,"name":"Old"}\n',
      [manifest('b-1')]: JSON.stringify([persons, memberships]),
      [manifest('b-2')]: JSON.stringify([persons]),
      [manifest('b-bad')]: JSON.stringify([`s3://${names.stage}/demoteam/other/persons/x.jsonl`]),
    },
    runs: [args('b-1'), args('b-1'), args('b-2'), args('b-bad')],
  };
  const dir = tempDir('sdlf-glue-');
  // Without --transform-sql, the runner reads transform.sql from its working directory.
  writeFileSync(
    join(dir, 'transform.sql'),
    '-- test\nCREATE TABLE people AS SELECT * FROM persons;\nCREATE TABLE membership PARTITIONED BY (org) AS SELECT * FROM memberships;\n',
  );
  writeFileSync(join(dir, 'scenario.json'), JSON.stringify(scenario));
  const stdout = execFileSync('python3', ['-B', harness, script, join(dir, 'scenario.json')], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: inject('motoEndpoint'),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_DEFAULT_REGION: 'us-east-1',
      PYSPARK_SUBMIT_ARGS: sparkSubmitArgs(inject('motoEndpoint')),
    },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  report = JSON.parse(stdout) as Report;
}, 180_000);

describe('Glue runner main.py (PySpark, moto_server)', () => {
  it('reads exactly the objects of the manifest, one view per table', () => {
    expect(report.runs[0]?.error).toBeUndefined();
    expect(report.runs[0]?.reads).toEqual([
      [`s3://${names.stage}/demoteam/legislators/persons/persons.jsonl`],
      [`s3://${names.stage}/demoteam/legislators/memberships/memberships.jsonl`],
    ]);
  });

  it('writes each table under analytics/{team}/{dataset}/<table>/ with partitions, and reports it', () => {
    expect(report.runs[0]?.result?.tables).toEqual([
      {
        table: 'people',
        location: `s3://${names.analytics}/demoteam/legislators/people/`,
        partitionBy: [],
        partitions: [],
        files: 1,
        records: 2,
      },
      {
        table: 'membership',
        location: `s3://${names.analytics}/demoteam/legislators/membership/`,
        partitionBy: ['org'],
        partitions: ['org=House', 'org=Senate%2FUpper'],
        files: 2,
        records: 3,
      },
    ]);
    expect(report.artifacts).toEqual(
      expect.arrayContaining([
        'manifests/demoteam/legislators/b-1.result.json',
        'manifests/demoteam/legislators/b-2.result.json',
      ]),
    );
  });

  it('skips a statement whose input table is not in the batch and runs the others', () => {
    // b-2 holds persons only: membership reads memberships
    expect(report.runs[2]?.error).toBeUndefined();
    expect(report.runs[2]?.result).toMatchObject({
      tables: [expect.objectContaining({ table: 'people', records: 2 })],
      skipped: [{ name: 'membership', reason: 'reads memberships, which this batch does not have' }],
    });
  });

  it("replaces only its own files on a rerun and never deletes another run's files", () => {
    // b-1 ran twice, b-2 once; b-0 was there before
    // (Spark writes one file per folder for batches this small; the staging folder is gone.)
    expect(report.analytics).toEqual([
      'demoteam/legislators/membership/org=House/b-1-00000.parquet',
      'demoteam/legislators/membership/org=Senate%2FUpper/b-1-00000.parquet',
      'demoteam/legislators/people/b-0-00000.parquet',
      'demoteam/legislators/people/b-1-00000.parquet',
      'demoteam/legislators/people/b-2-00000.parquet',
    ]);
  });

  it('registers the tables and their partitions in the Glue catalog', () => {
    expect(report.tables).toEqual({
      people: {
        location: `s3://${names.analytics}/demoteam/legislators/people/`,
        columns: ['id', 'name'],
        types: { id: 'bigint', name: 'string' },
        partitionKeys: [],
        partitions: [],
      },
      membership: {
        location: `s3://${names.analytics}/demoteam/legislators/membership/`,
        columns: ['id'],
        types: { id: 'bigint', org: 'string' },
        partitionKeys: ['org'],
        partitions: ['House', 'Senate/Upper'],
      },
    });
  });

  it('fails on a manifest naming another dataset, before writing anything', () => {
    expect(report.runs[3]?.error).toMatch(/ManifestError: .*not a staged object under demoteam\/legislators\/<table>\//);
    expect(report.artifacts).not.toContain('manifests/demoteam/legislators/b-bad.result.json');
  });
});
