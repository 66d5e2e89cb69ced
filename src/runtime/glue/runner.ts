import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The Glue job's script that ships with sdlf: it runs a dataset's `transform.sql` over each stage B batch (see its
 * docstring). Deployed for every heavy transform whose folder holds no `main.py` of the user's own, so upgrading
 * sdlf upgrades every dataset's job; `sdlf run --local --engine spark` runs the same file.
 */
export const GLUE_RUNNER = fileURLToPath(new URL('./main.py', import.meta.url));

/**
 * SHA-256 of the runners that earlier versions of sdlf copied into each heavy transform folder. A `main.py` with
 * one of these contents is an unmodified copy, not the user's own PySpark: the runner of the installed sdlf
 * replaces it.
 */
export const SCAFFOLDED_RUNNER_SHA256: ReadonlySet<string> = new Set([
  'e8652a95541db73d78b71ad8c4180bc4760acd66644b2eacb3f167f97f37130e',
  '37fcabd96c4aa1c11f8682f35e851f2862cd629c9b4ea0999a14f19fa7b35b43',
  '050e3fddb44b58e8856129fd21794d040c323fa78d7f8dec6593fe9f85130bb8',
]);

/** Which script a heavy transform's Glue job runs. */
export interface GlueScript {
  /** Absolute path of the script. */
  readonly path: string;
  /**
   * `runner`: the runner shipped with sdlf (the folder has no main.py); `own`: the folder's main.py, the user's own
   * PySpark; `scaffolded-copy`: the folder's main.py is an unmodified copy an earlier sdlf wrote, so the shipped
   * runner runs instead.
   */
  readonly source: 'runner' | 'own' | 'scaffolded-copy';
}

/** Decides the Glue script of the heavy transform in `dir` (`transforms/heavy/<name>/`). */
export function glueScriptOf(dir: string): GlueScript {
  const own = join(dir, 'main.py');
  if (!existsSync(own)) return { path: GLUE_RUNNER, source: 'runner' };
  const digest = createHash('sha256').update(readFileSync(own)).digest('hex');
  if (SCAFFOLDED_RUNNER_SHA256.has(digest)) return { path: GLUE_RUNNER, source: 'scaffolded-copy' };
  return { path: own, source: 'own' };
}
