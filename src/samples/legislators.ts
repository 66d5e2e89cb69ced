import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { replaceFiles } from '../core/atomic.js';
import { SdlfError } from '../core/errors.js';

/**
 * A deterministic generator of legislators-shaped data, as in the public AWS Glue "us-legislators" sample the SDLF
 * seed uses: people with nested links / identifiers / other names / contact details, their memberships in the two
 * chambers on behalf of a party, the 13 organisations (2 legislatures + 11 parties) and the 554 regions.
 *
 * Most memberships match a person and an organisation; a few deliberately do not (a person missing from
 * `persons.json`, a committee missing from `organizations.json`), so that the demo's `history` join is a real test.
 */

/** Rows of the generated sample at scale 1. */
export const LEGISLATORS_COUNTS = {
  persons: 1961,
  memberships: 10_439,
  organizations: 13,
  regions: 554,
} as const;

/** Seed used when none is given. @default 1961 */
export const LEGISLATORS_DEFAULT_SEED = 1961;

/** The files of the sample, relative to its folder. */
export const LEGISLATORS_FILES = ['persons.json', 'memberships.json', 'organizations.json', 'regions.json'] as const;

/** Options of {@link writeLegislatorsSample} and {@link renderLegislatorsSample}. */
export interface LegislatorsSampleOptions {
  /** Multiplies the memberships rows (10,439 × scale), for benchmarks; a positive integer. @default 1 */
  readonly scale?: number;
  /** PRNG seed: the same seed gives the same bytes. A non-negative integer. @default 1961 */
  readonly seed?: number;
}

/** One generated file: its name relative to the sample folder and its full contents. */
export interface LegislatorsSampleFile {
  readonly path: (typeof LEGISLATORS_FILES)[number];
  readonly contents: string;
}

/**
 * Renders the sample in memory, e.g. for a `writeFiles` plan. Byte-identical to what
 * {@link writeLegislatorsSample} writes with the same options.
 */
export function renderLegislatorsSample(options: LegislatorsSampleOptions = {}): LegislatorsSampleFile[] {
  return sampleChunks(options).map(({ path, chunks }) => ({ path, contents: [...chunks()].join('') }));
}

/**
 * Writes `persons.json`, `memberships.json`, `organizations.json` (JSON arrays, one record per line) and
 * `regions.json` (JSON Lines) into `dir`, streaming, so 100× the memberships stays in flat memory. Each file is
 * written to a temporary sibling and renamed into place, so a failure never leaves a half-written file. Existing
 * sample files are replaced. Returns the absolute paths written, in {@link LEGISLATORS_FILES} order.
 */
export async function writeLegislatorsSample(dir: string, options: LegislatorsSampleOptions = {}): Promise<string[]> {
  const root = resolve(dir);
  const plan = sampleChunks(options);
  await mkdir(root, { recursive: true });
  const targets = plan.map(({ path }) => join(root, path));
  await replaceFiles(plan.map(({ chunks }, index) => ({ target: targets[index] as string, body: utf8Stream(chunks()) })));
  return targets;
}

/** The chunks as UTF-8 bytes, joined into pieces of 64 KiB or more so the write stream gets few, large writes. */
async function* utf8Stream(chunks: Iterable<string>): AsyncIterable<Uint8Array> {
  let buffer = '';
  for (const chunk of chunks) {
    buffer += chunk;
    if (buffer.length >= 1 << 16) {
      yield Buffer.from(buffer, 'utf8');
      buffer = '';
    }
  }
  yield Buffer.from(buffer, 'utf8');
}

function checkOptions(options: LegislatorsSampleOptions): { scale: number; seed: number } {
  const scale = options.scale ?? 1;
  const seed = options.seed ?? LEGISLATORS_DEFAULT_SEED;
  if (!Number.isInteger(scale) || scale < 1 || scale > 1000) {
    throw new SdlfError(`Sample scale ${String(scale)} is invalid: it must be a whole number from 1 to 1000.`, {
      code: 'INVALID_SCALE',
      suggestions: ['Pass a whole number, e.g. --scale 10 for 10× the memberships rows.'],
    });
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new SdlfError(`Sample seed ${String(seed)} is invalid: it must be a non-negative whole number.`, {
      code: 'INVALID_SEED',
      suggestions: [`Pass a whole number such as ${LEGISLATORS_DEFAULT_SEED}.`],
    });
  }
  return { scale, seed };
}

interface ChunkedFile {
  readonly path: LegislatorsSampleFile['path'];
  readonly chunks: () => Iterable<string>;
}

/** Builds the four files as lazily generated chunks; the small tables are computed once, memberships on demand. */
function sampleChunks(options: LegislatorsSampleOptions): ChunkedFile[] {
  const { scale, seed } = checkOptions(options);
  // Independent streams per table, so that scaling the memberships never changes the other files.
  const regions = generateRegions();
  const organizations = generateOrganizations(createRandom(seed, 1));
  const persons = generatePersons(createRandom(seed, 2));
  const memberships = () =>
    generateMemberships(createRandom(seed, 3), LEGISLATORS_COUNTS.memberships * scale, persons, organizations.chambers, regions);
  return [
    { path: 'persons.json', chunks: () => jsonArray(persons.map((person) => person.record)) },
    { path: 'memberships.json', chunks: () => jsonArray(memberships()) },
    { path: 'organizations.json', chunks: () => jsonArray(organizations.records) },
    { path: 'regions.json', chunks: () => jsonLines(regions) },
  ];
}

function* jsonArray(records: Iterable<unknown>): Iterable<string> {
  let first = true;
  yield '[';
  for (const record of records) {
    yield `${first ? '\n' : ',\n'}${JSON.stringify(record)}`;
    first = false;
  }
  yield '\n]\n';
}

function* jsonLines(records: Iterable<unknown>): Iterable<string> {
  for (const record of records) yield `${JSON.stringify(record)}\n`;
}

/**
 * The tables the generator draws from, read from `legislators-names.json` beside this module (the build copies it
 * into dist/ with the module).
 */
interface LegislatorsNames {
  /** The 56 states and territories with their congressional districts; 0 or 1 means one seat for the whole state. */
  readonly states: ReadonlyArray<{ readonly code: string; readonly name: string; readonly districts: number }>;
  /** The 11 parties; `weight` is a party's share of the memberships: the two big parties dominate, as in the real data. */
  readonly parties: ReadonlyArray<{ readonly id: string; readonly name: string; readonly weight: number }>;
  /** Given names by gender. */
  readonly givenNames: { readonly male: readonly string[]; readonly female: readonly string[] };
  readonly familyNames: readonly string[];
  /** Name suffixes such as `Jr.`. */
  readonly suffixes: readonly string[];
}

const NAMES = JSON.parse(readFileSync(new URL('./legislators-names.json', import.meta.url), 'utf8')) as LegislatorsNames;

/** A seeded pseudo-random source (sfc32 seeded through splitmix32); never `Math.random`. */
interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** True with probability p. */
  chance(p: number): boolean;
  /** A version-4-shaped UUID. */
  uuid(): string;
  /** `length` hex digits. */
  hex(length: number): string;
}

function createRandom(seed: number, stream: number): Random {
  let state = (seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
  const splitmix = () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const nextUint = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) nextUint();
  const next = () => nextUint() / 4294967296;
  const hex = (length: number) => {
    let out = '';
    while (out.length < length) out += nextUint().toString(16).padStart(8, '0');
    return out.slice(0, length);
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p) => next() < p,
    hex,
    uuid: () => {
      const h = hex(32);
      const variant = ((Number.parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Regions: 56 states and territories + 498 congressional districts, past and present = 554 (JSON Lines).

interface Region {
  readonly id: string;
  readonly name: string;
  readonly type: 'state' | 'constituency';
  readonly parent_id: string | null;
}

function generateRegions(): Region[] {
  const states: Region[] = [];
  const districts: Region[] = [];
  for (const { code, name, districts: count } of NAMES.states) {
    const id = `ocd-division/country:us/state:${code}`;
    states.push({ id, name, type: 'state', parent_id: null });
    // At-large seats and the delegates of DC and the territories sit for the whole state (`cd:at-large`).
    if (count <= 1) districts.push({ id: `${id}/cd:at-large`, name: `${name} at-large`, type: 'constituency', parent_id: id });
    for (let n = 1; count > 1 && n <= count; n++) {
      districts.push({ id: `${id}/cd:${n}`, name: `${name} ${ordinal(n)}`, type: 'constituency', parent_id: id });
    }
  }
  const regions = [...states, ...districts];
  if (regions.length !== LEGISLATORS_COUNTS.regions) throw new Error(`regions: ${regions.length} generated`);
  return regions;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix} congressional district`;
}

// ---------------------------------------------------------------------------------------------------------------
// Organizations: the two chambers and 11 parties.

interface Chamber {
  readonly id: string;
  readonly name: 'House' | 'Senate';
  readonly role: 'representative' | 'senator';
}

interface Organizations {
  readonly records: ReadonlyArray<Record<string, unknown>>;
  readonly chambers: readonly [Chamber, Chamber];
}

function generateOrganizations(random: Random): Organizations {
  const house: Chamber = { id: random.uuid(), name: 'House', role: 'representative' };
  const senate: Chamber = { id: random.uuid(), name: 'Senate', role: 'senator' };
  const legislature = (chamber: Chamber, seats: number, wikidata: string) => ({
    id: chamber.id,
    name: chamber.name,
    classification: 'legislature',
    type: 'legislature',
    seats,
    identifiers: [
      { scheme: 'wikidata', identifier: wikidata },
      { scheme: 'everypolitician_legacy', identifier: random.hex(8) },
    ],
    other_names: [
      { name: `United States ${chamber.name === 'House' ? 'House of Representatives' : 'Senate'}`, lang: 'en', note: 'official' },
    ],
    links: [
      {
        url: `https://en.wikipedia.org/wiki/United_States_${chamber.name === 'House' ? 'House_of_Representatives' : 'Senate'}`,
        note: 'Wikipedia',
      },
    ],
    legislative_period_ids: Array.from({ length: 35 }, (_, i) => `term/${80 + i}`),
  });
  const parties = NAMES.parties.map(({ id, name }) => ({
    id,
    name,
    classification: 'party',
    type: 'party',
    seats: null,
    identifiers: [
      { scheme: 'everypolitician_legacy', identifier: random.hex(8) },
      ...(random.chance(0.6) ? [{ scheme: 'wikidata', identifier: `Q${random.int(1000, 999_999)}` }] : []),
    ],
    other_names: random.chance(0.5) ? [{ name: `${name} Party`, lang: 'en', note: 'alternate' }] : [],
    links: [{ url: `https://en.wikipedia.org/wiki/${name.replaceAll(' ', '_')}_Party_(United_States)`, note: 'Wikipedia' }],
    legislative_period_ids: [],
  }));
  const records = [legislature(house, 435, 'Q11701'), legislature(senate, 100, 'Q66096'), ...parties];
  if (records.length !== LEGISLATORS_COUNTS.organizations) throw new Error(`organizations: ${records.length} generated`);
  return { records, chambers: [house, senate] };
}

// ---------------------------------------------------------------------------------------------------------------
// Persons.

interface Person {
  readonly id: string;
  readonly record: Record<string, unknown>;
}

function generatePersons(random: Random): Person[] {
  const persons: Person[] = [];
  for (let i = 0; i < LEGISLATORS_COUNTS.persons; i++) {
    const gender = random.chance(0.82) ? 'male' : 'female';
    const given = random.pick(NAMES.givenNames[gender]);
    const family = random.pick(NAMES.familyNames);
    const suffix = random.chance(0.04) ? ` ${random.pick(NAMES.suffixes)}` : '';
    const name = `${given} ${family}${suffix}`;
    const id = random.uuid();
    const born = random.int(1880, 1985);
    const birthDate = `${born}-${pad(random.int(1, 12))}-${pad(random.int(1, 28))}`;
    const deathDate =
      born < 1935 && random.chance(0.7)
        ? `${born + random.int(55, 95)}-${pad(random.int(1, 12))}-${pad(random.int(1, 28))}`
        : null;
    const bioguide = `${family[0]}${String(random.int(0, 1299)).padStart(6, '0')}`;
    const identifiers = [
      { scheme: 'bioguide', identifier: bioguide },
      { scheme: 'govtrack', identifier: String(random.int(300_000, 412_999)) },
      ...(random.chance(0.6)
        ? [{ scheme: 'opensecrets', identifier: `N${String(random.int(1, 99_999_999)).padStart(8, '0')}` }]
        : []),
      ...(random.chance(0.9) ? [{ scheme: 'wikidata', identifier: `Q${random.int(1000, 29_999_999)}` }] : []),
    ];
    const links = [{ note: 'Wikipedia (en)', url: `https://en.wikipedia.org/wiki/${name.replaceAll(' ', '_')}` }];
    if (random.chance(0.25)) links.push({ note: 'facebook', url: `https://facebook.com/${given}${family}` });
    if (random.chance(0.2))
      links.push({ note: 'youtube', url: `https://youtube.com/${given.toLowerCase()}${family.toLowerCase()}` });
    const otherNames: Array<{ name: string; note: string; lang: string | null }> = [];
    if (random.chance(0.35)) otherNames.push({ name: `${given[0]}. ${family}`, note: 'alternate', lang: null });
    if (random.chance(0.15)) otherNames.push({ name: `${family}, ${given}`, note: 'alternate', lang: 'en' });
    const contactDetails: Array<{ type: string; value: string }> = [];
    if (random.chance(0.3)) contactDetails.push({ type: 'twitter', value: `Rep${family}${random.int(1, 99)}` });
    if (random.chance(0.2))
      contactDetails.push({ type: 'phone', value: `202-225-${String(random.int(0, 9999)).padStart(4, '0')}` });
    const image = `https://theunitedstates.io/images/congress/original/${bioguide}.jpg`;
    persons.push({
      id,
      record: {
        id,
        name,
        given_name: given,
        family_name: family,
        sort_name: `${family}, ${given}`,
        gender,
        birth_date: birthDate,
        death_date: deathDate,
        image,
        images: [{ url: image }],
        identifiers,
        links,
        other_names: otherNames,
        contact_details: contactDetails,
      },
    });
  }
  return persons;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

// ---------------------------------------------------------------------------------------------------------------
// Memberships: one row per person, chamber and legislative period (term/80 … term/114).

/** Share of rows whose person is not in persons.json. */
const UNKNOWN_PERSON_RATE = 0.02;
/** Share of rows whose organisation (a joint committee) is not in organizations.json. */
const UNKNOWN_ORGANIZATION_RATE = 0.01;

function* generateMemberships(
  random: Random,
  count: number,
  persons: readonly Person[],
  [house, senate]: readonly [Chamber, Chamber],
  regions: readonly Region[],
): Iterable<Record<string, unknown>> {
  const states = regions.filter((r) => r.type === 'state');
  const districts = regions.filter((r) => r.type === 'constituency');
  const committees = [random.uuid(), random.uuid()];
  const cumulative: number[] = [];
  for (const { weight } of NAMES.parties) cumulative.push((cumulative.at(-1) ?? 0) + weight);
  const total = cumulative.at(-1) ?? 1;
  for (let i = 0; i < count; i++) {
    const person = random.chance(UNKNOWN_PERSON_RATE) ? random.uuid() : random.pick(persons).id;
    const inSenate = random.chance(0.19);
    const chamber = inSenate ? senate : house;
    const organization = random.chance(UNKNOWN_ORGANIZATION_RATE) ? random.pick(committees) : chamber.id;
    const draw = random.next() * total;
    const partyIndex = cumulative.findIndex((c) => draw < c);
    const party = NAMES.parties[partyIndex === -1 ? NAMES.parties.length - 1 : partyIndex]?.id ?? 'party/independent';
    const term = random.int(80, 114);
    const start = 1789 + 2 * (term - 1);
    const early = random.chance(0.05);
    yield {
      person_id: person,
      organization_id: organization,
      on_behalf_of_id: party,
      area_id: random.pick(inSenate ? states : districts).id,
      legislative_period_id: `term/${term}`,
      role: chamber.role,
      start_date: `${start}-01-03`,
      end_date: early ? `${start + 1}-${pad(random.int(1, 12))}-${pad(random.int(1, 28))}` : `${start + 2}-01-03`,
    };
  }
}
