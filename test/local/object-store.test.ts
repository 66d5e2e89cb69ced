import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLocalObjectStore } from '../../src/local/object-store.js';
import { ObjectNotFoundError } from '../../src/runtime/core/ports.js';
import { tempDir } from '../helpers/project.js';

async function text(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

function store(versioned = false) {
  const dir = tempDir();
  return {
    dir,
    store: createLocalObjectStore({ buckets: { raw: { dir: join(dir, 'raw'), versioned }, stage: { dir: join(dir, 'stage') } } }),
  };
}

describe('createLocalObjectStore', () => {
  it('stores an object as a file at its key and reads it back', async () => {
    const { dir, store: s } = store();
    const info = await s.put('stage', 'team/ds/t/a.jsonl', '{"a":1}\n');
    expect(readFileSync(join(dir, 'stage', 'team', 'ds', 't', 'a.jsonl'), 'utf8')).toBe('{"a":1}\n');
    expect(info).toMatchObject({
      bucket: 'stage',
      key: 'team/ds/t/a.jsonl',
      size: 8,
      etag: createHash('md5').update('{"a":1}\n').digest('hex'),
    });
    expect(await text(await s.get('stage', 'team/ds/t/a.jsonl'))).toBe('{"a":1}\n');
  });

  it('stores an object whose name is the 255 bytes a file name may have, leaving no temporary file', async () => {
    const { dir, store: s } = store();
    const name = `${'p'.repeat(250)}.json`;
    await s.put('raw', `team/ds/${name}`, '[]');
    expect(readdirSync(join(dir, 'raw', 'team', 'ds'))).toEqual([name]);
    expect(await text(await s.get('raw', `team/ds/${name}`))).toBe('[]');
  });

  it('streams a body and reports its size and MD5 ETag', async () => {
    const { store: s } = store();
    async function* body() {
      yield Buffer.from('hello ');
      yield Buffer.from('world');
    }
    const info = await s.put('stage', 'k.txt', body());
    expect(info.size).toBe(11);
    expect(info.etag).toBe(createHash('md5').update('hello world').digest('hex'));
    expect(await s.head('stage', 'k.txt')).toMatchObject({ size: 11, etag: info.etag });
  });

  it('names the version of an object of a versioned bucket after its bytes, also when read back by head', async () => {
    const { store: s } = store(true);
    const first = await s.put('raw', 'a.json', '[]');
    const again = await s.put('raw', 'a.json', '[]');
    const changed = await s.put('raw', 'a.json', '[1]');
    expect(first.versionId).toMatch(/^v[0-9a-f]{24}$/);
    expect(again.versionId).toBe(first.versionId);
    expect(changed.versionId).not.toBe(first.versionId);
    expect((await s.head('raw', 'a.json'))?.versionId).toBe(changed.versionId);
    expect((await s.put('stage', 'a.json', '[]')).versionId).toBeUndefined();
  });

  it('lists objects under a prefix in key order, skipping other prefixes', async () => {
    const { store: s } = store();
    await s.put('stage', 't/d/b/2.jsonl', 'x');
    await s.put('stage', 't/d/a/1.jsonl', 'y');
    await s.put('stage', 't/other/a/1.jsonl', 'z');
    const keys: string[] = [];
    for await (const info of s.list('stage', 't/d/')) keys.push(info.key);
    expect(keys).toEqual(['t/d/a/1.jsonl', 't/d/b/2.jsonl']);
  });

  it('returns undefined from head and lists nothing for a missing object or bucket folder', async () => {
    const { store: s } = store();
    expect(await s.head('stage', 'nope')).toBeUndefined();
    const keys: string[] = [];
    for await (const info of s.list('stage', '')) keys.push(info.key);
    expect(keys).toEqual([]);
  });

  it('rejects get of a missing object with ObjectNotFoundError', async () => {
    const { store: s } = store();
    await expect(s.get('stage', 'missing.json')).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  it('fails a put whose stream fails, leaving the previous object and no temporary file', async () => {
    const { dir, store: s } = store();
    await s.put('stage', 'a.txt', 'old');
    async function* failing() {
      yield Buffer.from('new');
      throw new Error('network gone');
    }
    await expect(s.put('stage', 'a.txt', failing())).rejects.toThrow('network gone');
    expect(readFileSync(join(dir, 'stage', 'a.txt'), 'utf8')).toBe('old');
    expect(readdirSync(join(dir, 'stage'))).toEqual(['a.txt']);
  });

  it('rejects a put whose stream is destroyed before it is read, leaving no file', async () => {
    const { dir, store: s } = store();
    const stream = new PassThrough();
    const stored = s.put('stage', 'late.txt', stream);
    stream.write('partial');
    stream.destroy(new Error('transform failed'));
    await expect(stored).rejects.toThrow('transform failed');
    expect(existsSync(join(dir, 'stage', 'late.txt'))).toBe(false);
  });

  it('throws for a key outside its bucket and for an unknown bucket', async () => {
    const { dir, store: s } = store();
    await expect(s.put('stage', '../escape.txt', 'x')).rejects.toThrow(/not a valid object key/);
    expect(existsSync(join(dir, 'escape.txt'))).toBe(false);
    await expect(s.put('nope', 'a', 'x')).rejects.toThrow(/Unknown local bucket "nope"/);
  });
});
