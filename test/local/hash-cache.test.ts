import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openFileHashCache } from '../../src/local/hash-cache.js';
import { createLocalObjectStore } from '../../src/local/object-store.js';
import { tempDir } from '../helpers/project.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

function setup() {
  const dir = tempDir();
  const input = join(dir, 'persons.json');
  writeFileSync(input, '[{"id":"1"}]\n');
  const store = createLocalObjectStore({ buckets: { raw: { dir: join(dir, 'raw'), versioned: true } } });
  return { dir, input, store, cacheFile: join(dir, 'cache', 'input-md5.json') };
}

describe('putFile with a file hash cache', () => {
  it('copies the file as the object, with the ETag and version a put of the same bytes gets', async () => {
    const { dir, input, store, cacheFile } = setup();
    const hashes = await openFileHashCache(cacheFile);
    const copied = await store.putFile('raw', 't/d/persons.json', input, hashes);
    const streamed = await store.put('raw', 't/d/other.json', readFileSync(input));
    expect(readFileSync(join(dir, 'raw', 't', 'd', 'persons.json'), 'utf8')).toBe('[{"id":"1"}]\n');
    expect(copied).toMatchObject({ size: 13, etag: md5('[{"id":"1"}]\n'), versionId: streamed.versionId });
    expect(readdirSync(join(dir, 'raw', 't', 'd')).sort()).toEqual(['other.json', 'persons.json']);
  });

  it('keeps the hash for the next run, and hashes the file again once it is written to', async () => {
    // Given a file hashed by one run, whose cache was saved
    const { input, store, cacheFile } = setup();
    const first = await openFileHashCache(cacheFile);
    await store.putFile('raw', 't/d/persons.json', input, first);
    await first.save();
    // When the next run opens the cache, the unchanged file's hash is there
    const second = await openFileHashCache(cacheFile);
    expect(second.get(input, statSync(input))).toBe(md5('[{"id":"1"}]\n'));
    // And once the file is rewritten with other bytes of the same size, it is not
    writeFileSync(input, '[{"id":"2"}]\n');
    expect(second.get(input, statSync(input))).toBeUndefined();
    const info = await store.putFile('raw', 't/d/persons.json', input, second);
    expect(info.etag).toBe(md5('[{"id":"2"}]\n'));
  });

  it('starts afresh from a cache file that cannot be read', async () => {
    const { input, store, cacheFile } = setup();
    const first = await openFileHashCache(cacheFile);
    await store.putFile('raw', 't/d/persons.json', input, first);
    await first.save();
    writeFileSync(cacheFile, '{not json');
    const reopened = await openFileHashCache(cacheFile);
    expect(reopened.get(input, statSync(input))).toBeUndefined();
    expect((await store.putFile('raw', 't/d/persons.json', input, reopened)).etag).toBe(md5('[{"id":"1"}]\n'));
  });
});
