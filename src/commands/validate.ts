import { Flags } from '@oclif/core';
import { SdlfCommand } from '../cli/base-command.js';
import { type ValidateProjectResult, validateProject } from '../services/validate-project.js';

/** `sdlf validate`: loads and checks the whole project. */
export default class Validate extends SdlfCommand<typeof Validate> {
  static override summary = 'Check the project: configuration, names, transforms and pipeline types.';
  static override description =
    'Loads ddk.json and parameters.json, checks every name against its AWS limit, checks that each dataset has its ' +
    'light transform and Glue script, checks every transform.sql with DuckDB and, where PySpark and Java are installed, ' +
    'with Spark SQL over the tables stage A stages from the sample data, and that custom pipeline types exist. Lists ' +
    'every problem at once and exits 2 ' +
    'when there is any.';
  static override examples = [
    '<%= config.bin %> validate',
    '<%= config.bin %> validate --path my-lake --json',
    '<%= config.bin %> validate --no-spark',
  ];
  static override flags = {
    spark: Flags.boolean({
      description:
        'Check transform.sql with Spark SQL too, where PySpark and Java are installed (--no-spark: DuckDB only, which skips starting Spark).',
      env: 'SDLF_VALIDATE_SPARK',
      allowNo: true,
      default: true,
    }),
  };

  public async run(): Promise<ValidateProjectResult> {
    const result = await validateProject({ root: this.flags.path, spark: this.flags.spark }, this.io);
    if (!this.jsonEnabled()) {
      this.log(`Project ${result.root} is valid.`);
      this.log(
        result.projectId === null
          ? '  project id: none (made before project ids; "sdlf deploy --adopt" gives it one)'
          : `  project id: ${result.projectId}`,
      );
      for (const e of result.environments) {
        this.log(
          `  environment ${e.id}: account ${e.account}, ${e.region}, prefix "${e.resourcePrefix}", ${e.datasets} dataset(s)`,
        );
      }
      for (const d of result.datasets) {
        this.log(
          `  dataset ${d.env}/${d.team}/${d.dataset}: pipeline ${d.pipeline}, transforms ${d.stageATransform} + ${d.stageBTransform}`,
        );
      }
      this.log(`  CI/CD: ${result.cicd.enabled ? 'on' : 'off'} (${result.cicd.source})`);
    }
    return result;
  }
}
