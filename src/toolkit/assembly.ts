import type { AssemblyBuilder, AssemblyBuilderProps, ICloudAssemblySource } from '@aws-cdk/toolkit-lib';
import type { Project } from '../config/model.js';
import type { LoadedToolkit } from './toolkit.js';

/** What a {@link ProjectAppBuilder} builds: the toolkit's outdir and context, and which stacks. */
export interface ProjectAssemblyProps extends AssemblyBuilderProps {
  /** Builds only this deployment environment; @default every environment */
  readonly environment?: string;
  /** Builds the CI/CD pipeline stack (which holds the environments) instead of the environments' stacks. */
  readonly cicd: boolean;
}

/**
 * Builds the project's CDK app and returns its synthesized assembly. The toolkit knows no app: services pass one
 * (the package's embedded app is `synthesizeProject` of src/app).
 */
export type ProjectAppBuilder = (project: Project, props: ProjectAssemblyProps) => ReturnType<AssemblyBuilder>;

/** Options of {@link projectAssemblySource}. */
export interface ProjectAssemblyOptions {
  /** The app builder. */
  readonly app: ProjectAppBuilder;
  /** Folder the assembly is written to; @default a temporary folder removed afterwards */
  readonly outdir?: string;
  /** Builds only this deployment environment; @default every environment */
  readonly env?: string;
  /** Builds the CI/CD pipeline stack instead of the environments' stacks. @default false */
  readonly cicd?: boolean;
}

/**
 * Creates the toolkit's cloud assembly source for a project: the given app, built in-process from the loaded
 * configuration, with the project's CDK context. No context lookups and no default-environment look-up: every stack
 * names its account and region.
 */
export async function projectAssemblySource(
  { toolkit }: LoadedToolkit,
  project: Project,
  options: ProjectAssemblyOptions,
): Promise<ICloudAssemblySource> {
  return toolkit.fromAssemblyBuilder(
    (props) => options.app(project, { ...props, environment: options.env, cicd: options.cicd ?? false }),
    {
      outdir: options.outdir,
      lookups: false,
      resolveDefaultEnvironment: false,
      clobberEnv: false,
    },
  );
}
