import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { findNodeAtLocation, type Node, parseTree, type Segment } from 'jsonc-parser';
import type { Problem } from '../core/errors.js';

/** Line and column (both from 1) of a place in a text file. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * Splits a problem's JSON path as the loaders write it (`environments.dev.account`, `dev[2].min_items_process`)
 * into its segments (`['environments', 'dev', 'account']`, `['dev', 2, 'min_items_process']`).
 */
export function pathSegments(path: string): Segment[] {
  return [...path.matchAll(/\[(\d+)\]|[^.[\]]+/g)].map((match) => (match[1] === undefined ? match[0] : Number(match[1])));
}

/**
 * Where the value at `path` is written in the JSON `text`: the start of its `"key": value` member (or of the array
 * element). A path that is not in the text (a required key that is missing) resolves to the nearest enclosing
 * value that is, so the position still shows where to add it. `undefined` when the text is not JSON.
 */
export function locateJsonPath(text: string, path: string): Position | undefined {
  const root = parseTree(text);
  if (!root) return undefined;
  const segments = pathSegments(path);
  for (let length = segments.length; length >= 0; length--) {
    const node = findNodeAtLocation(root, segments.slice(0, length));
    if (node) return positionAt(text, memberOf(node).offset);
  }
  return undefined;
}

/**
 * Adds the line and column of each problem that names a JSON file of the project and a path in it. Files are read
 * once each; a problem whose file is missing or not JSON keeps no position.
 */
export function locateProblems(root: string, problems: readonly Problem[]): Problem[] {
  const texts = new Map<string, string | undefined>();
  const textOf = (file: string): string | undefined => {
    if (!texts.has(file)) {
      const absolute = isAbsolute(file) ? file : join(root, file);
      const text = file.endsWith('.json') && existsSync(absolute) ? readFileSync(absolute, 'utf8') : undefined;
      // A leading byte order mark is no column of the first line.
      texts.set(file, text?.replace(/^\uFEFF/, ''));
    }
    return texts.get(file);
  };
  return problems.map((problem) => {
    if (!problem.file || problem.path === undefined || problem.line !== undefined) return problem;
    const text = textOf(problem.file);
    const position = text === undefined ? undefined : locateJsonPath(text, problem.path);
    return position ? { ...problem, ...position } : problem;
  });
}

/** The `"key": value` member a value belongs to, or the value itself (an array element, the root). */
function memberOf(node: Node): Node {
  return node.parent?.type === 'property' ? node.parent : node;
}

function positionAt(text: string, offset: number): Position {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}
