import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderTemplateString, renderTemplateTree, TEMPLATES_ROOT, templateHelpers } from '../../src/services/templates.js';
import { tempDir } from '../helpers/project.js';

/** Writes a template tree `tree` under a fresh templates root and returns the root. */
function templatesWith(files: Record<string, string | Uint8Array>): string {
  const root = tempDir('sdlf-templates-');
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(join(root, 'tree', path, '..'), { recursive: true });
    writeFileSync(join(root, 'tree', path), contents);
  }
  return root;
}

const text = (contents: string | Uint8Array) =>
  typeof contents === 'string' ? contents : Buffer.from(contents).toString('utf8');

describe('renderTemplateTree', () => {
  it('renders .hbs files without the suffix and copies other files byte for byte', async () => {
    // Given a template and a binary file
    const binary = new Uint8Array([0, 255, 10, 123, 123]);
    const templatesRoot = templatesWith({ 'README.md.hbs': '# {{name}}\n', 'logo.bin': binary });
    // When the tree is rendered
    const files = await renderTemplateTree('tree', { name: 'demo' }, { templatesRoot });
    // Then the template is rendered and the other file copied unchanged
    expect(files.map((f) => f.path)).toEqual(['README.md', 'logo.bin']);
    expect(files[0]?.contents).toBe('# demo\n');
    expect(Buffer.from(files[1]?.contents ?? '').equals(Buffer.from(binary))).toBe(true);
  });

  it('renders expressions in path segments, in folders and file names', async () => {
    const templatesRoot = templatesWith({
      'transforms/heavy/{{heavy}}/main.py': 'print("{{not rendered}}")\n',
      'transforms/light/{{light}}.ts.hbs': 'export const name = {{json light}};\n',
    });
    const files = await renderTemplateTree('tree', { heavy: 'sdlf_heavy', light: 'sdlf_light' }, { templatesRoot });
    expect(files.map((f) => [f.path, text(f.contents)])).toEqual([
      ['transforms/heavy/sdlf_heavy/main.py', 'print("{{not rendered}}")\n'],
      ['transforms/light/sdlf_light.ts', 'export const name = "sdlf_light";\n'],
    ]);
  });

  it('never HTML-escapes values', async () => {
    const templatesRoot = templatesWith({ 'a.ts.hbs': 'const s = "{{value}}";\n' });
    const [file] = await renderTemplateTree('tree', { value: `<a & 'b'>` }, { templatesRoot });
    expect(file?.contents).toBe(`const s = "<a & 'b'>";\n`);
  });

  it('returns the same files in the same order on every run', async () => {
    const templatesRoot = templatesWith({ 'b.hbs': '{{x}}', 'a/z.hbs': '{{x}}', 'a/b.txt': 'b', 'C.txt': 'c' });
    const first = await renderTemplateTree('tree', { x: 1 }, { templatesRoot });
    const second = await renderTemplateTree('tree', { x: 1 }, { templatesRoot });
    expect(first.map((f) => f.path)).toEqual(['C.txt', 'a/b.txt', 'a/z', 'b']);
    expect(second).toEqual(first);
  });

  it('throws naming the template when the view lacks a value', async () => {
    const templatesRoot = templatesWith({ 'x.hbs': 'hello {{missing}}' });
    await expect(renderTemplateTree('tree', {}, { templatesRoot })).rejects.toThrow(/tree\/x\.hbs.*"missing" not defined/);
  });

  it('throws when a path expression renders to an unsafe segment', async () => {
    const templatesRoot = templatesWith({ '{{name}}/x.txt': 'x' });
    await expect(renderTemplateTree('tree', { name: '..' }, { templatesRoot })).rejects.toThrow(/unsafe segment "\.\."/);
    await expect(renderTemplateTree('tree', { name: 'a/b' }, { templatesRoot })).rejects.toThrow(/unsafe segment "a\/b"/);
  });

  it('throws when the tree does not exist', async () => {
    await expect(renderTemplateTree('nope', {}, { templatesRoot: tempDir() })).rejects.toThrow(
      /Template tree .*nope does not exist/,
    );
  });

  it('reads the packaged trees from the templates folder next to the services by default', () => {
    expect(TEMPLATES_ROOT.replaceAll('\\', '/')).toMatch(/\/(src|dist)\/templates\/$/);
  });
});

describe('renderTemplateString', () => {
  it('renders with the same helpers and strictness', async () => {
    expect(await renderTemplateString('{{json list}}', { list: ['a', 1] })).toBe('["a",1]');
    await expect(renderTemplateString('{{nope}}', {})).rejects.toThrow(/"nope" not defined/);
  });
});

describe('templateHelpers.json', () => {
  it.each([
    ['a string', 'dev', '"dev"'],
    ['a number', 12, '12'],
    ['a boolean', false, 'false'],
    ['an object', { a: [1] }, '{"a":[1]}'],
  ])('prints %s as compact JSON', (_, value, expected) => {
    expect(templateHelpers.json(value, {})).toBe(expected);
  });

  it('indents when given a width', async () => {
    expect(await renderTemplateString('{{json value 2}}', { value: { a: 1 } })).toBe('{\n  "a": 1\n}');
  });

  it('throws on an undefined value', () => {
    expect(() => templateHelpers.json(undefined, {})).toThrow(/undefined/);
  });
});
