import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { cdkJsonContext } from '../config/cdk-json.js';
import type { Project } from '../config/model.js';
import type { Io } from '../core/io.js';

/** What {@link synthesizeProject} builds: where the assembly goes, the context, and which stacks. */
export interface SynthesizeProjectProps {
  /** Folder the cloud assembly is written to. @default a temporary folder (CDK's default) */
  readonly outdir?: string;
  /** Context on top of the project's cdk.json (e.g. from the toolkit). @default none */
  readonly context?: Readonly<Record<string, unknown>>;
  /** Builds only this deployment environment. @default every environment */
  readonly environment?: string;
  /** Builds the CI/CD pipeline stack (which holds the environments) instead of the environments' stacks. */
  readonly cicd: boolean;
}

/**
 * Builds the package's embedded CDK app for a project and synthesizes it, cdk-nag included: the app builder that
 * services hand to the toolkit. aws-cdk-lib's built-in template validation is off here: cdk-nag and `sdlf synth`
 * cover it, and it costs ~1.7 s per run.
 */
export async function synthesizeProject(project: Project, props: SynthesizeProjectProps, io?: Io): Promise<CloudAssembly> {
  // Imported on first use: aws-cdk-lib costs most of a second, and services that fail a preflight never need it.
  const { buildApp } = await import('./build-app.js');
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
