import type { Project } from '../config/model.js';
import { SDLF_TAG_KEYS } from '../config/naming.js';
import { SdlfError } from '../core/errors.js';
import type { StackInfo } from './stacks.js';

type Tags = Readonly<Record<string, string>>;

/**
 * Tells whether tags (of a stack or a resource) are this project's by its id: they carry the project's
 * `sdlf:project-id`, or, for a project made before ids, carry none.
 */
export function hasOwnProjectId(tags: Tags, projectId: string | undefined): boolean {
  return tags[SDLF_TAG_KEYS.projectId] === projectId;
}

/** Why a stack is not the project's by its id, for the "untouched" lists; undefined when it is. */
export function foreignStackReason(stack: StackInfo, projectId: string | undefined): string | undefined {
  const other = stack.tags[SDLF_TAG_KEYS.projectId];
  if (other === projectId) return undefined;
  return other === undefined
    ? `stack ${stack.name}: it carries no ${SDLF_TAG_KEYS.projectId}, and this project's id is ${projectId}`
    : `stack ${stack.name}: it belongs to project ${other} (${SDLF_TAG_KEYS.projectId}), not to this project (${projectId ?? 'no project_id in ddk.json'})`;
}

/**
 * Refuses to deploy over an existing stack of the same name that is not this project's: one tagged with another
 * project's id, or (unless `adopt`) one with no id while this project has one. The message names both projects and
 * the way out, another resource_prefix.
 */
export function assertOwnStack(stack: StackInfo, project: Pick<Project, 'projectId'>, adopt: boolean, prefixPath: string): void {
  const other = stack.tags[SDLF_TAG_KEYS.projectId];
  const own = project.projectId;
  if (other !== undefined && other !== own) {
    throw new SdlfError(
      `Stack ${stack.name} belongs to another project: it carries ${SDLF_TAG_KEYS.projectId}=${other}, and this project's id is ${own ?? 'missing (ddk.json has no project_id)'}. sdlf does not deploy over another project's stacks.`,
      {
        code: 'STACK_OF_ANOTHER_PROJECT',
        suggestions: [
          `Give this project another prefix (${prefixPath} in ddk.json), or, if ${stack.name} really is this project's, set "project_id": "${other}" in ddk.json.`,
        ],
      },
    );
  }
  if (other === undefined && own !== undefined && !adopt) {
    throw new SdlfError(
      `Stack ${stack.name} exists without ${SDLF_TAG_KEYS.projectId}: it was deployed by a project made before project ids, which may not be this one (${own}).`,
      {
        code: 'STACK_NOT_ADOPTED',
        suggestions: [
          `If ${stack.name} is this project's, run "sdlf deploy --adopt" once: it tags the stack with ${SDLF_TAG_KEYS.projectId}=${own}. Otherwise give this project another prefix (${prefixPath} in ddk.json).`,
        ],
      },
    );
  }
}
