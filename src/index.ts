/**
 * The `sdlf` package as a library: load and check a project's configuration, compute its physical names, and
 * the types of the light transform API. CDK constructs for custom pipeline types are in `sdlf/constructs`; the
 * light transform helpers in `sdlf/transform`.
 */
export { assertName, checkNameSyntax, DDK_FILE, loadProject, NAME_RULES, PARAMETERS_LOCATIONS } from './config/load.js';
export type { CicdEnvironment, DatasetConfig, DeploymentEnvironment, PipelineSource, Project } from './config/model.js';
export { BUILTIN_PIPELINE_TYPES } from './config/model.js';
export { checkProjectNames, NAME_LIMITS, Naming, type NamingContext, type PhysicalName } from './config/naming.js';
export { projectPaths } from './config/paths.js';
export { formatProblem, isSdlfError, type Problem, SdlfError } from './core/errors.js';
export type { LightTransform, OutputRecord, RawInput, TransformContext } from './runtime/transform/types.js';
