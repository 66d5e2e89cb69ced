import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  LEGISLATORS_COUNTS,
  LEGISLATORS_FILES,
  renderLegislatorsSample,
  writeLegislatorsSample,
} from '../../src/samples/legislators.js';
import { tempDir } from '../helpers/project.js';

type Row = Record<string, unknown>;

function parseArray(text: string): Row[] {
  return JSON.parse(text) as Row[];
}

function parseLines(text: string): Row[] {
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Row);
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

describe('renderLegislatorsSample', () => {
  const files = Object.fromEntries(renderLegislatorsSample().map((f) => [f.path, f.contents]));

  it('renders the four files in a stable order', () => {
    expect(renderLegislatorsSample().map((f) => f.path)).toEqual([...LEGISLATORS_FILES]);
  });

  it('gives the same bytes for the same seed and different bytes for another seed', () => {
    // Given two renders with the default seed and one with another seed
    const again = renderLegislatorsSample({ seed: 1961 });
    const other = renderLegislatorsSample({ seed: 7 });
    // Then the first two are byte-identical and the third differs in every randomised file
    expect(again.map((f) => digest(f.contents))).toEqual(LEGISLATORS_FILES.map((name) => digest(files[name] ?? '')));
    expect(digest(other[0]?.contents ?? '')).not.toBe(digest(files['persons.json'] ?? ''));
    expect(digest(other[1]?.contents ?? '')).not.toBe(digest(files['memberships.json'] ?? ''));
  });

  it('gives the pinned bytes for the default seed', () => {
    // Given the default render
    // Then each file has the digest pinned here, so a change to the generator or its name tables shows up
    expect(LEGISLATORS_FILES.map((name) => digest(files[name] ?? ''))).toEqual([
      '7a5ae5c039825d0172070204786b59302fb6d424878535542ebeb646b9cb0e75',
      '10777777c458e323587ecc98634697bfa01cbfb334202d5f10a1c2280b18214e',
      '60f72f318211f610aa8324a04e8d993a68e5ddbff9ce77922d1a11bad34d0b17',
      'f0ff1c85d2ca11b7546d87476ddfa145208eca6ebf9e61fea3a86d62f5e3547b',
    ]);
  });

  it('has exactly 1,961 persons, 10,439 memberships, 13 organizations and 554 regions', () => {
    expect(parseArray(files['persons.json'] ?? '')).toHaveLength(LEGISLATORS_COUNTS.persons);
    expect(parseArray(files['memberships.json'] ?? '')).toHaveLength(LEGISLATORS_COUNTS.memberships);
    expect(parseArray(files['organizations.json'] ?? '')).toHaveLength(LEGISLATORS_COUNTS.organizations);
    expect(parseLines(files['regions.json'] ?? '')).toHaveLength(LEGISLATORS_COUNTS.regions);
    expect(LEGISLATORS_COUNTS).toEqual({ persons: 1961, memberships: 10_439, organizations: 13, regions: 554 });
  });

  it('writes regions as JSON Lines and the other files as JSON arrays', () => {
    expect(files['regions.json']?.startsWith('{')).toBe(true);
    expect(files['regions.json']?.trimEnd().split('\n')).toHaveLength(554);
    for (const name of ['persons.json', 'memberships.json', 'organizations.json'])
      expect(files[name]?.startsWith('[\n{')).toBe(true);
  });

  it('gives persons unique ids and the nested links, identifiers, other_names and contact_details arrays', () => {
    const persons = parseArray(files['persons.json'] ?? '');
    expect(new Set(persons.map((p) => p.id)).size).toBe(persons.length);
    for (const person of persons.slice(0, 50)) {
      expect(Object.keys(person)).toEqual(
        expect.arrayContaining(['id', 'name', 'given_name', 'family_name', 'gender', 'birth_date', 'death_date']),
      );
      for (const key of ['links', 'identifiers', 'other_names', 'contact_details']) expect(Array.isArray(person[key])).toBe(true);
    }
    expect(persons.some((p) => (p.contact_details as unknown[]).length > 0)).toBe(true);
    expect(persons.some((p) => p.death_date === null)).toBe(true);
  });

  it('has two legislatures and eleven parties with nested arrays', () => {
    const organizations = parseArray(files['organizations.json'] ?? '');
    expect(organizations.filter((o) => o.classification === 'legislature').map((o) => o.name)).toEqual(['House', 'Senate']);
    expect(organizations.filter((o) => o.classification === 'party')).toHaveLength(11);
    for (const o of organizations)
      for (const key of ['identifiers', 'other_names', 'links']) expect(Array.isArray(o[key])).toBe(true);
  });

  it('makes most but not all memberships match a person and an organization', () => {
    // Given the ids of persons, organizations and regions
    const personIds = new Set(parseArray(files['persons.json'] ?? '').map((p) => p.id));
    const organizations = parseArray(files['organizations.json'] ?? '');
    const chamberIds = new Set(organizations.filter((o) => o.classification === 'legislature').map((o) => o.id));
    const partyIds = new Set(organizations.filter((o) => o.classification === 'party').map((o) => o.id));
    const regionIds = new Set(parseLines(files['regions.json'] ?? '').map((r) => r.id));
    const memberships = parseArray(files['memberships.json'] ?? '');
    // When memberships are matched like the history join
    const matching = memberships.filter((m) => personIds.has(m.person_id) && chamberIds.has(m.organization_id));
    // Then between 90 % and 99.5 % match, and party and area always resolve
    expect(matching.length).toBeGreaterThan(memberships.length * 0.9);
    expect(matching.length).toBeLessThan(memberships.length * 0.995);
    expect(memberships.every((m) => partyIds.has(m.on_behalf_of_id) && regionIds.has(m.area_id))).toBe(true);
    expect(memberships.every((m) => String(m.start_date) < String(m.end_date))).toBe(true);
  });

  it('multiplies only the memberships rows with scale', () => {
    const scaled = Object.fromEntries(renderLegislatorsSample({ scale: 3 }).map((f) => [f.path, f.contents]));
    expect(parseArray(scaled['memberships.json'] ?? '')).toHaveLength(3 * 10_439);
    expect(scaled['persons.json']).toBe(files['persons.json']);
    expect(scaled['organizations.json']).toBe(files['organizations.json']);
    expect(scaled['regions.json']).toBe(files['regions.json']);
  });

  it.each([0, -1, 1.5, Number.NaN, 1001])('throws INVALID_SCALE for scale %s', (scale) => {
    expect(() => renderLegislatorsSample({ scale })).toThrow(expect.objectContaining({ code: 'INVALID_SCALE' }));
  });

  it.each([-1, 0.5])('throws INVALID_SEED for seed %s', (seed) => {
    expect(() => renderLegislatorsSample({ seed })).toThrow(expect.objectContaining({ code: 'INVALID_SEED' }));
  });
});

describe('writeLegislatorsSample', () => {
  it('writes the same bytes as the in-memory render and returns the paths', async () => {
    const dir = tempDir();
    const paths = await writeLegislatorsSample(join(dir, 'data'), { seed: 42 });
    expect(paths).toEqual(LEGISLATORS_FILES.map((name) => join(dir, 'data', name)));
    const rendered = renderLegislatorsSample({ seed: 42 });
    for (const [index, file] of rendered.entries()) expect(readFileSync(paths[index] ?? '', 'utf8')).toBe(file.contents);
  });

  it('replaces an earlier sample and leaves no temporary files', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'persons.json'), '[]\n');
    await writeLegislatorsSample(dir);
    expect(parseArray(readFileSync(join(dir, 'persons.json'), 'utf8'))).toHaveLength(1961);
    expect(readdirSync(dir).sort()).toEqual([...LEGISLATORS_FILES].sort());
  });

  it('rejects a bad scale before writing anything', async () => {
    const dir = join(tempDir(), 'never');
    await expect(writeLegislatorsSample(dir, { scale: 0 })).rejects.toMatchObject({ code: 'INVALID_SCALE' });
    expect(existsSync(dir)).toBe(false);
  });
});
