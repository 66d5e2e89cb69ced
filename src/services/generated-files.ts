import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SdlfError } from '../core/errors.js';
import type { PlannedFile } from '../core/files.js';
import { parseJson } from '../core/json.js';

/**
 * File of a project, committed with it, that records what sdlf generated: the hash of each file it owns while
 * nobody edits it, and the values it wrote into files the user shares with it (`package.json`, `cdk.json`).
 * `sdlf upgrade` reads it to tell a file the user edited (kept unless they agree) from one it may replace.
 */
export const GENERATED_MANIFEST = '.sdlf-generated.json';

/** Files of the project template that sdlf replaces on upgrade while they are as it generated them. */
export const OWNED_FILES = ['.gitignore', 'README.md', 'tsconfig.json'] as const;

/** Development dependencies sdlf writes; upgrade moves one only while it holds the version sdlf wrote. */
export const MANAGED_DEV_DEPENDENCIES = ['@types/node', 'typescript'] as const;

/** What {@link GENERATED_MANIFEST} holds. */
export interface GeneratedManifest {
  /** Version of the sdlf that generated the files. */
  readonly sdlf: string;
  /** `sha256:<hex>` of each of {@link OWNED_FILES} as sdlf generated it. */
  readonly files: Readonly<Record<string, string>>;
  /** The versions sdlf wrote for {@link MANAGED_DEV_DEPENDENCIES}. */
  readonly devDependencies: Readonly<Record<string, string>>;
  /** The `app` sdlf wrote into cdk.json. */
  readonly cdkApp: string;
}

/** `sha256:<hex>` of a file's bytes. */
export function contentHash(contents: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(contents).digest('hex')}`;
}

/** The manifest of a freshly rendered `project` template tree. */
export function generatedManifest(
  version: string,
  project: readonly PlannedFile[],
  view: {
    readonly versions: { readonly typescript: string; readonly typesNode: string };
    readonly cdkJson: { readonly app: string };
  },
): GeneratedManifest {
  const files: Record<string, string> = {};
  for (const path of OWNED_FILES) {
    const file = project.find((f) => f.path === path);
    if (file) files[path] = contentHash(file.contents);
  }
  return {
    sdlf: version,
    files,
    devDependencies: { '@types/node': view.versions.typesNode, typescript: view.versions.typescript },
    cdkApp: view.cdkJson.app,
  };
}

/** {@link generatedManifest} as the file to write. */
export function generatedManifestFile(...args: Parameters<typeof generatedManifest>): PlannedFile {
  return manifestFile(generatedManifest(...args));
}

/** A manifest as the file to write. */
export function manifestFile(manifest: GeneratedManifest): PlannedFile {
  return { path: GENERATED_MANIFEST, contents: `${JSON.stringify(manifest, null, 2)}\n`, update: true };
}

/**
 * Reads a project's manifest; undefined when it has none (made by an sdlf before manifests). A manifest that is
 * not valid JSON, or not of this shape, is an error naming the file and the way out.
 */
export async function readGeneratedManifest(root: string): Promise<GeneratedManifest | undefined> {
  const file = join(root, GENERATED_MANIFEST);
  if (!existsSync(file)) return undefined;
  const value = parseJson(await readFile(file, 'utf8'), GENERATED_MANIFEST) as Partial<GeneratedManifest> | null;
  const isRecord = (v: unknown): v is Record<string, string> =>
    typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof value.sdlf !== 'string' ||
    !isRecord(value.files) ||
    !isRecord(value.devDependencies) ||
    typeof value.cdkApp !== 'string'
  ) {
    throw new SdlfError(
      `${GENERATED_MANIFEST} is not a manifest of generated files (it needs sdlf, files, devDependencies and cdkApp).`,
      {
        code: 'INVALID_MANIFEST',
        suggestions: [
          `Restore ${GENERATED_MANIFEST} from git ("git checkout -- ${GENERATED_MANIFEST}"), or delete it: sdlf upgrade then treats every generated file that differs as edited by you and asks before replacing it.`,
        ],
      },
    );
  }
  return value as GeneratedManifest;
}
