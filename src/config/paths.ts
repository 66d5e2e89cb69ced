/** Where things live inside a user's project, relative to its root, with `/` separators. */
export const projectPaths = {
  /** `transforms/light/<name>.ts`: a stage A light transform. */
  lightTransform: (name: string) => `transforms/light/${name}.ts`,
  /** `transforms/heavy/<name>/`: a stage B heavy transform folder. */
  heavyTransformDir: (name: string) => `transforms/heavy/${name}`,
  /** `transforms/heavy/<name>/main.py`: the Glue script of a heavy transform. */
  heavyTransformScript: (name: string) => `transforms/heavy/${name}/main.py`,
  /** `transforms/heavy/<name>/transform.sql`: the SQL the default Glue script (and the local run) executes. */
  heavyTransformSql: (name: string) => `transforms/heavy/${name}/transform.sql`,
  /** `pipelines/<type>.ts`: a custom pipeline type. */
  pipeline: (type: string) => `pipelines/${type}.ts`,
  /** `data/<team>/<dataset>/`: sample input of a dataset. */
  sampleData: (team: string, dataset: string) => `data/${team}/${dataset}`,
  /** `.sdlf/local/<env>/`: output of local runs. */
  localRun: (env: string) => `.sdlf/local/${env}`,
} as const;
