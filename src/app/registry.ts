import { RESOURCE_NAME_PATTERN } from '../config/schema.js';
import { customPipelineType } from '../constructs/custom-pipeline.js';
import type { PipelineType } from '../constructs/pipeline.js';
import { standardPipelineType } from '../constructs/standard-pipeline.js';
import { SdlfError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';

/** A registered pipeline type and where it came from. */
export interface RegisteredPipelineType {
  readonly type: PipelineType;
  /** `built-in`, or the project file that defines it (`pipelines/fast.ts`). */
  readonly source: string;
}

/**
 * The pipeline types a project can use, by name: the built-in `standard` and `custom`, then the project's
 * `pipelines/*.ts`. Built-ins and user types go through the same checks.
 */
export class PipelineTypeRegistry {
  private readonly types = new Map<string, RegisteredPipelineType>();

  /** Creates a registry holding the built-in types. */
  static withBuiltIns(): PipelineTypeRegistry {
    const registry = new PipelineTypeRegistry();
    registry.register(standardPipelineType, 'built-in');
    registry.register(customPipelineType, 'built-in');
    return registry;
  }

  /** Adds a type; throws an {@link SdlfError} when it is malformed or its name is taken. */
  register(type: unknown, source: string): void {
    const checked = checkPipelineType(type, source);
    const existing = this.types.get(checked.pipelineType);
    if (existing) {
      throw new SdlfError(`Pipeline type "${checked.pipelineType}" of ${source} is already defined by ${existing.source}.`, {
        code: 'DUPLICATE_PIPELINE',
        suggestions: [`Rename the type in ${source} (and its file) to a name that is not taken.`],
      });
    }
    this.types.set(checked.pipelineType, { type: checked, source });
  }

  /** Returns a type by name; throws an {@link SdlfError} with the nearest name when there is none. */
  get(name: string): PipelineType {
    const found = this.types.get(name);
    if (found) return found.type;
    throw new SdlfError(`Pipeline type "${name}" does not exist; ${didYouMean(name, this.names())}`, {
      code: 'UNKNOWN_PIPELINE',
      suggestions: [`Use one of ${this.names().join(', ')}, or create it with "sdlf add-pipeline ${name}".`],
    });
  }

  /** Names of the registered types, built-ins first. */
  names(): string[] {
    return [...this.types.keys()];
  }

  /** Whether datasets of a type have a stage B (see {@link PipelineType.stageB}); throws for an unknown type. */
  hasStageB(name: string): boolean {
    return this.get(name).stageB ?? true;
  }

  /** Every registered type with its source. */
  list(): RegisteredPipelineType[] {
    return [...this.types.values()];
  }
}

/** Checks that a value implements {@link PipelineType}; throws an {@link SdlfError} naming what is wrong. */
export function checkPipelineType(value: unknown, source: string): PipelineType {
  const fail = (what: string) =>
    new SdlfError(`${source} does not define a valid pipeline type: ${what}.`, {
      code: 'INVALID_PIPELINE_TYPE',
      suggestions: [
        'Export it as the default export: `export default definePipelineType({ pipelineType: "<name>", create(scope, context) { … } })`, with definePipelineType from "sdlf/constructs".',
      ],
    });
  if (typeof value !== 'object' || value === null)
    throw fail(`expected an object, got ${value === null ? 'null' : typeof value}`);
  const candidate = value as Partial<PipelineType>;
  if (typeof candidate.pipelineType !== 'string') throw fail('"pipelineType" must be a string');
  if (!RESOURCE_NAME_PATTERN.test(candidate.pipelineType) || candidate.pipelineType.length > 20) {
    throw fail(
      `"pipelineType" is "${candidate.pipelineType}"; use 2-20 lowercase letters, digits or dashes, starting with a letter`,
    );
  }
  if (typeof candidate.create !== 'function') throw fail('"create" must be a function (scope, context) => Pipeline');
  if (candidate.stageB !== undefined && typeof candidate.stageB !== 'boolean') {
    throw fail(`"stageB" must be true or false, got ${JSON.stringify(candidate.stageB)}`);
  }
  return candidate as PipelineType;
}
