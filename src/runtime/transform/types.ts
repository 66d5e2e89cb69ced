/**
 * The light transform API, as user projects import it from `sdlf/transform`.
 *
 * A light transform is the default export of `transforms/light/<name>.ts`: an async generator that receives one
 * raw object and yields records, each tagged with the table it belongs to. The runtime writes each table's
 * records as JSON Lines to `stage/{team}/{dataset}/{table}/{source key}-{hash}.jsonl`, streaming, so an object
 * of any size runs in flat memory.
 */

/** One raw object handed to a light transform. */
export interface RawInput {
  /** Bucket of the object (the raw bucket on AWS, a folder name locally). */
  readonly bucket: string;
  /** Full key, e.g. `demoteam/legislators/persons.json`. */
  readonly key: string;
  /** Size in bytes, when known. */
  readonly size?: number;
  /** Opens the object's bytes as a stream; may be called once. */
  body(): AsyncIterable<Uint8Array>;
}

/** Who the object belongs to and where it runs. */
export interface TransformContext {
  readonly team: string;
  readonly dataset: string;
  /** Environment id (`dev`), or `local` for `sdlf run --local`. */
  readonly env: string;
  /** The stage A execution this call is part of. */
  readonly executionId: string;
}

/** One output record and the table it goes to. */
export interface OutputRecord {
  /** Table name: lowercase letters, digits and underscores (becomes a folder and a SQL view name). */
  readonly table: string;
  readonly record: Readonly<Record<string, unknown>>;
}

/** A light transform: yields the records to stage for one raw object. Throwing fails that object only. */
export type LightTransform = (input: RawInput, context: TransformContext) => AsyncIterable<OutputRecord>;
