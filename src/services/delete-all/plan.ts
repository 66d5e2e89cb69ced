import type { StackRole } from '../../aws/project-stacks.js';
import { isInProgress, REVIEW_IN_PROGRESS } from '../../aws/stacks.js';

/** One step of a delete-all plan, in the order steps run. */
export type DeleteStep =
  | {
      readonly kind: 'empty-bucket';
      readonly bucket: string;
      /** True for the second round, after the dataset and pipeline stacks are gone. */
      readonly again?: boolean;
    }
  | {
      readonly kind: 'delete-stack';
      readonly stack: string;
      readonly role: StackRole;
      /** The stack's status when planned, when it is not a finished operation (e.g. `REVIEW_IN_PROGRESS`). */
      readonly status?: string;
    }
  | { readonly kind: 'delete-bucket'; readonly bucket: string }
  | { readonly kind: 'delete-table'; readonly table: string }
  | { readonly kind: 'schedule-key-deletion'; readonly keyId: string; readonly days: number }
  | { readonly kind: 'remove-lake-formation-admins'; readonly admins: readonly string[]; readonly parameter: string }
  | { readonly kind: 'delete-repository'; readonly repository: string }
  | { readonly kind: 'delete-bootstrap'; readonly stack: string; readonly stagingBucket?: string };

/** What a project owns in one account and region, as discovered before deleting anything. */
export interface Inventory {
  /** The project's stacks: name and tags both match. */
  readonly stacks: ReadonlyArray<{
    readonly name: string;
    readonly role: StackRole;
    readonly status: string;
    /** `REVIEW_IN_PROGRESS` without resources: a change set created and never executed. */
    readonly unexecuted?: boolean;
  }>;
  /** Buckets of those stacks, and leftover buckets with the project's names and tags. */
  readonly buckets: readonly string[];
  /** Tables of those stacks, and leftover tables with the project's names and tags. */
  readonly tables: readonly string[];
  /** Customer-managed keys of those stacks, and leftover keys with the project's tags, not yet pending deletion. */
  readonly keys: readonly string[];
  /** Lake Formation admins bootstrap added for this environment, with the SSM parameter that records them. */
  readonly lakeFormation?: { readonly admins: readonly string[]; readonly parameter: string };
  /** The CodeCommit repository, when asked for and it exists. */
  readonly repository?: string;
  /** The CDK bootstrap stack, when asked for and it exists. */
  readonly bootstrap?: { readonly stack: string; readonly stagingBucket?: string };
  /** What was found and is left alone, with the reason; printed with the plan. */
  readonly untouched: readonly string[];
}

/** The minimum waiting period of a KMS key deletion, in days. */
export const KEY_DELETION_DAYS = 7;

const ROLE_ORDER: Record<StackRole, number> = { dataset: 0, pipeline: 1, foundations: 2, cicd: 3 };

/**
 * Orders what an inventory holds into the steps of delete-all: empty the buckets (every version and delete
 * marker), delete the dataset and pipeline stacks (which stops the pipelines), empty the buckets again (objects
 * that arrived meanwhile), delete foundations and the CI/CD stack, delete the buckets and tables the stacks
 * retained, schedule the deletion of the keys that encrypted them (only now that their data is gone), remove the
 * Lake Formation admins bootstrap added, and finally the repository and the bootstrap stack when asked. Stacks
 * that only hold a change set never executed (`REVIEW_IN_PROGRESS`, no resources) go first: nothing depends on
 * them, and no wait ever ends them.
 */
export function planDeletion(inventory: Inventory): DeleteStep[] {
  const stacks = [...inventory.stacks].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
  const unexecuted = stacks.filter((s) => s.unexecuted);
  const executed = stacks.filter((s) => !s.unexecuted);
  const early = executed.filter((s) => s.role === 'dataset' || s.role === 'pipeline');
  const late = executed.filter((s) => s.role === 'foundations' || s.role === 'cicd');
  const empty = (again: boolean) =>
    inventory.buckets.map((bucket): DeleteStep => ({ kind: 'empty-bucket', bucket, ...(again ? { again } : {}) }));
  const deleteStack = (s: Inventory['stacks'][number]): DeleteStep => ({
    kind: 'delete-stack',
    stack: s.name,
    role: s.role,
    ...(isInProgress(s.status) ? { status: s.status } : {}),
  });
  const steps: DeleteStep[] = [
    ...unexecuted.map(deleteStack),
    ...empty(false),
    ...early.map(deleteStack),
    ...(early.length > 0 ? empty(true) : []),
    ...late.map(deleteStack),
    ...inventory.buckets.map((bucket): DeleteStep => ({ kind: 'delete-bucket', bucket })),
    ...inventory.tables.map((table): DeleteStep => ({ kind: 'delete-table', table })),
    ...inventory.keys.map((keyId): DeleteStep => ({ kind: 'schedule-key-deletion', keyId, days: KEY_DELETION_DAYS })),
  ];
  if (inventory.lakeFormation && inventory.lakeFormation.admins.length > 0) {
    steps.push({ kind: 'remove-lake-formation-admins', ...inventory.lakeFormation });
  }
  if (inventory.repository) steps.push({ kind: 'delete-repository', repository: inventory.repository });
  if (inventory.bootstrap) steps.push({ kind: 'delete-bootstrap', ...inventory.bootstrap });
  return steps;
}

/** Renders one step as a line of the printed plan. */
export function describeStep(step: DeleteStep): string {
  switch (step.kind) {
    case 'empty-bucket':
      return step.again
        ? `empty bucket again  ${step.bucket} (objects that arrived while the pipelines were being deleted)`
        : `empty bucket        ${step.bucket} (every object version and delete marker)`;
    case 'delete-stack':
      return `delete stack        ${step.stack} (${step.role}${stackNote(step.status)})`;
    case 'delete-bucket':
      return `delete bucket       ${step.bucket} (if its stack retained it)`;
    case 'delete-table':
      return `delete table        ${step.table} (if its stack retained it)`;
    case 'schedule-key-deletion':
      return `schedule deletion   KMS key ${step.keyId} (in ${step.days} days)`;
    case 'remove-lake-formation-admins':
      return `remove LF admins    ${step.admins.join(', ')}`;
    case 'delete-repository':
      return `delete repository   ${step.repository} (CodeCommit, with its history)`;
    case 'delete-bootstrap':
      return `delete stack        ${step.stack} (CDK bootstrap${step.stagingBucket ? `, with its bucket ${step.stagingBucket}` : ''})`;
  }
}

function stackNote(status: string | undefined): string {
  if (status === undefined) return '';
  if (status === REVIEW_IN_PROGRESS) return `; ${status}: a change set created and never executed, no resources`;
  if (status === 'DELETE_IN_PROGRESS') return `; ${status}: waits for the deletion under way`;
  return `; ${status}: deleted once that operation ends`;
}
