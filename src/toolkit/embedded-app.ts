import type { AssemblyBuilder } from '@aws-cdk/toolkit-lib';
import { cdkJsonContext } from '../config/cdk-json.js';
import type { Project } from '../config/model.js';
import type { Io } from '../core/io.js';
import type { ProjectAssemblyProps } from './assembly.js';

/**
 * Builds the package's embedded CDK app (`src/app`) for a project and synthesizes it into the toolkit's outdir,
 * cdk-nag included. aws-cdk-lib's built-in template validation is off here: cdk-nag and `sdlf synth` cover it, and
 * it costs ~1.7 s per run.
 */
export async function synthesizeProject(project: Project, props: ProjectAssemblyProps, io?: Io): ReturnType<AssemblyBuilder> {
  const { buildApp } = await import('../app/index.js');
  const app = await buildApp(project, {
    outdir: props.outdir,
    // The feature flags of the project's cdk.json, as plain `cdk` passes them, so `sdlf synth` and `npx cdk synth`
    // build the same templates.
    context: { ...(await cdkJsonContext(project.root)), ...props.context },
    env: props.environment,
    cicd: props.cicd,
    validation: false,
    io,
  });
  return app.synth();
}
