import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, oneLine, sdlf } from '../helpers/cli.js';
import { initializedProjectCopies } from '../helpers/init.js';
import { tempDir } from '../helpers/project.js';

describe('the project a command acts on', () => {
  let freshProject: () => string;

  beforeAll(async () => {
    ensureBuilt();
    freshProject = await initializedProjectCopies();
  });

  it('is found from any subfolder without --path, as git finds its repository', async () => {
    // Given a project and a folder deep inside it
    const root = freshProject();
    const deep = join(root, 'data', 'demoteam', 'legislators');
    // When validate and status --local (before any local run) run there
    const validate = await sdlf(['validate', '--no-spark'], { cwd: deep });
    const status = await sdlf(['status', '--local'], { cwd: deep });
    // Then both act on the project root
    expect(validate.exitCode).toBe(0);
    expect(validate.stdout).toContain(`Project ${root} is valid.`);
    expect(oneLine(status.stderr)).toContain(`${join(root, '.sdlf', 'local', 'dev', 'metadata')} does not exist.`);
  });

  it('is the --path folder when it is given, wherever the command runs', async () => {
    const here = freshProject();
    const other = freshProject();
    const validate = await sdlf(['validate', '--no-spark', '--path', other], { cwd: join(here, 'transforms') });
    expect(validate.exitCode).toBe(0);
    expect(validate.stdout).toContain(`Project ${other} is valid.`);
  });

  it('is refused outside every project with exit 2, naming the folder and the ways to name a project', async () => {
    const outside = join(tempDir(), 'not-a-project', 'sub');
    mkdirSync(outside, { recursive: true });
    const validate = await sdlf(['validate', '--no-spark'], { cwd: outside });
    expect(validate.exitCode).toBe(2);
    expect(oneLine(validate.stderr)).toContain(`${outside} is not an sdlf project: it has no ddk.json.`);
    expect(oneLine(validate.stderr)).toContain(
      'Run the command in the project folder or one of its subfolders, pass the project folder with --path',
    );
  });

  it('is not looked for by init, which creates the project in the current folder', async () => {
    // Given the transforms folder of a project, init creates a new project there instead of acting on the outer one
    const root = freshProject();
    const inner = join(root, 'transforms', 'nested');
    mkdirSync(inner);
    const init = await sdlf(['init', '--yes', '--dry-run'], { cwd: inner });
    expect(init.exitCode).toBe(0);
    expect(oneLine(`${init.stdout} ${init.stderr}`)).toContain(inner);
  });
});
