import { synthesizeProject } from '../app/synthesize.js';
import type { Io } from '../core/io.js';
import type { ProjectAppBuilder } from '../toolkit/assembly.js';

/** The app builder that services hand to the toolkit: the package's embedded CDK app, reporting to `io`. */
export function embeddedApp(io?: Io): ProjectAppBuilder {
  return (project, props) => synthesizeProject(project, props, io);
}
