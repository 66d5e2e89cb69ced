import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeLegislatorsSample } from '../../src/samples/legislators.js';
import { ddkJson, repoRoot, tempDir, writeJsonFiles } from '../helpers/project.js';

/** The default light transform a project gets: file name → table, nested objects flattened. */
export const DEFAULT_LIGHT_TRANSFORM = `import { defineLightTransform, flattenRecord, readRecords, tableNameOf } from 'sdlf/transform';

export default defineLightTransform(async function* (input) {
  const table = tableNameOf(input.key);
  for await (const record of readRecords(input)) {
    yield { table, record: flattenRecord(record) };
  }
});
`;

/** A Glue script that runs transform.sql, as the default main.py does. */
const DEFAULT_MAIN_PY = '# Runs transform.sql beside this file over the batch (see the sdlf transform.sql convention).\n';

/** The demo dataset's SQL. */
export const LEGISLATORS_SQL = readFileSync(join(repoRoot, 'src', 'templates', 'legislators', 'transform.sql'), 'utf8');

/** Options of {@link createLegislatorsProject}. */
export interface FixtureOptions {
  /** Contents of transforms/light/legislators_light.ts. @default DEFAULT_LIGHT_TRANSFORM */
  readonly lightTransform?: string;
  /** Contents of transform.sql, or null for none. @default LEGISLATORS_SQL */
  readonly sql?: string | null;
  /** Writes the generated sample into data/demoteam/legislators/. @default true */
  readonly sample?: boolean;
  /** Puts the real Glue runner (the main.py sdlf deploys) in the heavy transform folder. @default false */
  readonly glueRunner?: boolean;
}

/** The Glue runner that ships with sdlf: the main.py that runs transform.sql on AWS Glue and on `--engine spark`. */
export const GLUE_RUNNER = join(repoRoot, 'src', 'runtime', 'glue', 'main.py');

/** Creates a project with the demoteam/legislators dataset (standard pipeline) in a fresh temporary folder. */
export async function createLegislatorsProject(options: FixtureOptions = {}): Promise<string> {
  const root = tempDir('sdlf-local-');
  writeJsonFiles(root, {
    'ddk.json': ddkJson(),
    'parameters.json': {
      dev: [
        {
          team: 'demoteam',
          pipeline: 'standard',
          dataset: 'legislators',
          stage_a_transform: 'legislators_light',
          stage_b_transform: 'legislators_heavy',
        },
      ],
    },
  });
  mkdirSync(join(root, 'transforms', 'light'), { recursive: true });
  writeFileSync(join(root, 'transforms', 'light', 'legislators_light.ts'), options.lightTransform ?? DEFAULT_LIGHT_TRANSFORM);
  const heavy = join(root, 'transforms', 'heavy', 'legislators_heavy');
  mkdirSync(heavy, { recursive: true });
  writeFileSync(join(heavy, 'main.py'), options.glueRunner ? readFileSync(GLUE_RUNNER) : DEFAULT_MAIN_PY);
  if (options.sql !== null) writeFileSync(join(heavy, 'transform.sql'), options.sql ?? LEGISLATORS_SQL);
  const data = join(root, 'data', 'demoteam', 'legislators');
  mkdirSync(data, { recursive: true });
  if (options.sample ?? true) await writeLegislatorsSample(data);
  return root;
}
