import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { datasetFlags } from '../cli/flags.js';
import { SdlfError } from '../core/errors.js';
import type { RunLocalResult } from '../services/run-local.js';

/** `sdlf run --local`: runs a dataset's pipeline on local files. */
export default class Run extends SdlfCommand<typeof Run> {
  static override summary = "Run a dataset's pipeline locally on sample files, with the same pipeline logic as on AWS.";
  static override description =
    'Puts the input files (default: data/<team>/<dataset>/) in a local raw bucket and runs routing, stage A (your ' +
    "light transform, bundled as synth bundles it) and stage B (the heavy transform's transform.sql, run by " +
    'DuckDB) with the pipeline code the Lambda functions run. Writes raw/, stage/, analytics/<table>/ (Parquet) and ' +
    'the metadata tables under .sdlf/local/<env>/, and prints each object with its status and outputs and each ' +
    'table with its row count. A failing object is reported with its reason and the others go on; the exit code ' +
    'is then 2. As on AWS, each new batch adds to the tables and running the same inputs again changes nothing; ' +
    '--engine spark runs the Glue job itself on local PySpark; --fresh starts from an empty local lake; ' +
    '"sdlf status --local" lists the runs.';
  static override examples = [
    '<%= config.bin %> run --local --team demoteam --dataset legislators',
    '<%= config.bin %> run --local --team demoteam --dataset legislators --input data/demoteam/legislators/persons.json --input more.jsonl',
    '<%= config.bin %> run --local --team demoteam --dataset legislators --path demo --json',
  ];
  static override flags = {
    local: Flags.boolean({
      description: 'Run on this machine (required: on AWS, "sdlf upload" starts the deployed pipeline).',
      env: 'SDLF_LOCAL',
      default: false,
    }),
    ...datasetFlags('run'),
    input: Flags.string({
      char: 'i',
      description: 'Input file or folder; repeat for several (default: data/<team>/<dataset>/).',
      env: 'SDLF_INPUT',
      multiple: true,
      delimiter: ',',
    }),
    fresh: Flags.boolean({
      description: 'Start from an empty local lake: delete the outputs and run history in .sdlf/local/<env>/ first.',
      env: 'SDLF_FRESH',
      default: false,
    }),
    env: Flags.string({
      description: 'Environment from ddk.json whose names and folder the local run uses (default: the first).',
      env: 'SDLF_ENV',
    }),
    engine: Flags.string({
      description:
        "What runs stage B: duckdb (transform.sql with DuckDB) or spark (the Glue job's main.py on local PySpark 3.5, as Glue 5.0 runs it; needs python3 with pyspark and Java 17).",
      env: 'SDLF_ENGINE',
      options: ['duckdb', 'spark'],
      default: 'duckdb',
    }),
  };

  public async run(): Promise<RunLocalResult> {
    const { flags } = this;
    if (!flags.local) {
      throw new SdlfError('"sdlf run" runs locally only: pass --local.', {
        code: 'LOCAL_FLAG_REQUIRED',
        suggestions: [
          `Run "sdlf run --local --team ${flags.team} --dataset ${flags.dataset}" to run on this machine.`,
          `To run on AWS, upload files to the raw bucket with "sdlf upload --team ${flags.team} --dataset ${flags.dataset} <files>"; "sdlf trigger --team ${flags.team} --dataset ${flags.dataset}" starts its stage B at once.`,
        ],
      });
    }
    const { resolve } = await import('node:path');
    const { formatRunLocalSummary, runLocal } = await import('../services/run-local.js');
    const result = await runLocal(
      {
        root: flags.path,
        team: flags.team,
        dataset: flags.dataset,
        ...(flags.env ? { env: flags.env } : {}),
        fresh: flags.fresh,
        engine: flags.engine as 'duckdb' | 'spark',
        // Relative to where the command runs, as a shell user expects; the service reads no working directory.
        ...(flags.input ? { inputs: flags.input.map((input) => resolve(input)) } : {}),
      },
      this.io,
    );
    if (!this.jsonEnabled()) for (const line of formatRunLocalSummary(result, { verbose: flags.verbose })) this.log(line);
    if (result.failed > 0) process.exitCode = 2;
    return result;
  }
}
