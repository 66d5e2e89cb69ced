import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlannedFile } from '../core/files.js';

/** Suffix that marks a file as a handlebars template; it is removed from the output path. */
export const TEMPLATE_SUFFIX = '.hbs';

/**
 * Folder holding the template trees: `dist/templates` when running the built package (the build copies
 * `src/templates` there), `src/templates` when running from source.
 */
export const TEMPLATES_ROOT = fileURLToPath(new URL('../templates/', import.meta.url));

/** Options of {@link renderTemplateTree}. */
export interface RenderTemplateTreeOptions {
  /** Folder holding the template trees. @default {@link TEMPLATES_ROOT} */
  readonly templatesRoot?: string;
}

/** The handlebars entry points sdlf uses, compiled on a private instance. */
interface Renderer {
  render(source: string, view: object, origin: string): string;
}

let renderer: Promise<Renderer> | undefined;

/**
 * Renders the template tree `name` (a folder under `src/templates`) with `view` into a list of files for
 * `writeFiles`, sorted by output path.
 *
 * - A file named `<output>.hbs` is rendered with handlebars and written as `<output>`; any other file is copied
 *   byte for byte.
 * - Path segments may contain expressions (`transforms/light/{{stageATransform}}.ts.hbs`); they are rendered too.
 * - Rendering is strict and unescaped: a missing view value throws (the view builder is wrong, not the user),
 *   and TypeScript, JSON or Python are never HTML-escaped.
 *
 * The same tree and view always give the same bytes.
 */
export async function renderTemplateTree(
  name: string,
  view: object,
  options: RenderTemplateTreeOptions = {},
): Promise<PlannedFile[]> {
  const root = join(options.templatesRoot ?? TEMPLATES_ROOT, name);
  const { render } = await getRenderer();
  const files: PlannedFile[] = [];
  for (const source of await listFiles(root)) {
    const origin = `${name}/${source}`;
    const segments = source.split('/').map((segment) => (segment.includes('{{') ? render(segment, view, origin) : segment));
    for (const segment of segments) {
      if (segment === '' || segment === '.' || segment === '..' || segment.includes('/') || segment.includes('\\')) {
        throw new Error(`Template path ${origin} renders to the unsafe segment "${segment}".`);
      }
    }
    let path = segments.join('/');
    const bytes = await readFile(join(root, source));
    if (path.endsWith(TEMPLATE_SUFFIX)) {
      path = path.slice(0, -TEMPLATE_SUFFIX.length);
      files.push({ path, contents: render(bytes.toString('utf8'), view, origin) });
    } else {
      files.push({ path, contents: new Uint8Array(bytes) });
    }
  }
  return files.sort((a, b) => compare(a.path, b.path));
}

/** Renders one template string with the same private handlebars instance and helpers as {@link renderTemplateTree}. */
export async function renderTemplateString(source: string, view: object, origin = 'inline template'): Promise<string> {
  return (await getRenderer()).render(source, view, origin);
}

/**
 * The template helpers. Templates only print and loop; these format values the view builder computed.
 * - `{{json value}}` prints a value as compact JSON (a quoted string, a number, an array…).
 * - `{{json value 2}}` prints it indented by 2 spaces (use for nested objects, e.g. CDK context).
 */
export const templateHelpers = {
  json(value: unknown, ...rest: unknown[]): string {
    // Handlebars passes its options object last; a number before it is the indentation.
    const indent = rest.length > 1 && typeof rest[0] === 'number' ? rest[0] : undefined;
    if (value === undefined) throw new Error('json helper: the value is undefined.');
    return JSON.stringify(value, null, indent);
  },
} as const;

async function getRenderer(): Promise<Renderer> {
  renderer ??= (async () => {
    // Imported lazily: handlebars is only needed when a command scaffolds something.
    const { default: Handlebars } = await import('handlebars');
    const instance = Handlebars.create();
    for (const [helperName, helper] of Object.entries(templateHelpers)) instance.registerHelper(helperName, helper);
    const cache = new Map<string, HandlebarsTemplateDelegate>();
    return {
      render(source, view, origin) {
        let template = cache.get(source);
        if (!template) {
          template = instance.compile(source, { strict: true, noEscape: true });
          cache.set(source, template);
        }
        try {
          return template(view);
        } catch (error) {
          throw new Error(`Cannot render template ${origin}: ${(error as Error).message}`, { cause: error });
        }
      },
    };
  })();
  return renderer;
}

/** Lists the files under `root` recursively as `/`-separated relative paths. */
async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(join(root, prefix), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new Error(`Template tree ${join(root, prefix)} does not exist; was the package built?`);
    throw error;
  });
  const files: string[] = [];
  for (const entry of entries) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await listFiles(root, relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files.sort(compare);
}

/** Orders paths by code unit, independent of the locale, so output is byte-stable everywhere. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
