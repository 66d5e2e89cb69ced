/**
 * The embedded CDK app: builds a project's stacks from its configuration. The toolkit (`sdlf synth`, `diff`,
 * `deploy`) and the generated project's `cdk.json` (`bin/cdk-app.js`) both go through {@link buildApp}.
 */
export {
  type AddEnvironmentOptions,
  addEnvironmentStacks,
  allStacks,
  type BuildAppOptions,
  buildApp,
  type EnvironmentStacks,
  selectEnvironments,
} from './build-app.js';
export {
  checkPipelineModules,
  importPipelineModule,
  type LoadPipelineTypesOptions,
  loadPipelineTypes,
} from './load-pipelines.js';
export { checkPipelineType, PipelineTypeRegistry, type RegisteredPipelineType } from './registry.js';
