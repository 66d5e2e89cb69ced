import { describe, expect, it } from 'vitest';
import { assertOwnStack, foreignStackReason, hasOwnProjectId } from '../../src/aws/ownership.js';
import type { StackInfo } from '../../src/aws/stacks.js';
import { isSdlfError } from '../../src/core/errors.js';

const stack = (tags: Record<string, string>): StackInfo => ({
  name: 'demo-dev-foundations',
  id: 'arn:aws:cloudformation:us-east-1:123456789012:stack/demo-dev-foundations/1',
  status: 'CREATE_COMPLETE',
  tags: { 'sdlf:project': 'demo', 'sdlf:environment': 'dev', ...tags },
  parameters: {},
});
const first = '11111111-1111-4111-8111-111111111111';
const second = '22222222-2222-4222-8222-222222222222';

function refusal(work: () => void) {
  try {
    work();
  } catch (error) {
    if (isSdlfError(error)) return error;
    throw error;
  }
  throw new Error('expected an SdlfError');
}

describe('assertOwnStack', () => {
  it('throws STACK_OF_ANOTHER_PROJECT (exit 2) naming both ids and another prefix as the way out', () => {
    const error = refusal(() =>
      assertOwnStack(stack({ 'sdlf:project-id': first }), { projectId: second }, false, 'environments.dev.resource_prefix'),
    );
    expect(error.code).toBe('STACK_OF_ANOTHER_PROJECT');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(`carries sdlf:project-id=${first}, and this project's id is ${second}`);
    expect(error.suggestions?.[0]).toContain('another prefix (environments.dev.resource_prefix in ddk.json)');
  });

  it('throws STACK_OF_ANOTHER_PROJECT even with --adopt, and for a project without an id', () => {
    expect(refusal(() => assertOwnStack(stack({ 'sdlf:project-id': first }), { projectId: second }, true, 'p')).code).toBe(
      'STACK_OF_ANOTHER_PROJECT',
    );
    expect(refusal(() => assertOwnStack(stack({ 'sdlf:project-id': first }), {}, false, 'p')).message).toContain(
      'missing (ddk.json has no project_id)',
    );
  });

  it('throws STACK_NOT_ADOPTED for a stack without an id, pointing to sdlf deploy --adopt', () => {
    const error = refusal(() => assertOwnStack(stack({}), { projectId: second }, false, 'p'));
    expect(error.code).toBe('STACK_NOT_ADOPTED');
    expect(error.suggestions?.[0]).toContain(`run "sdlf deploy --adopt" once: it tags the stack with sdlf:project-id=${second}`);
  });

  it.each([
    ['its own id', { 'sdlf:project-id': second }, { projectId: second }, false],
    ['no id under --adopt', {}, { projectId: second }, true],
    ['no id in a project made before ids', {}, {}, false],
  ])('accepts a stack with %s', (_label, tags, project, adopt) => {
    expect(() => assertOwnStack(stack(tags), project, adopt, 'p')).not.toThrow();
  });
});

describe('foreignStackReason and hasOwnProjectId', () => {
  it('tells stacks and tags of another project apart from the project’s own', () => {
    expect(foreignStackReason(stack({ 'sdlf:project-id': first }), first)).toBeUndefined();
    expect(foreignStackReason(stack({ 'sdlf:project-id': first }), second)).toContain(`belongs to project ${first}`);
    expect(foreignStackReason(stack({}), second)).toContain('carries no sdlf:project-id');
    expect(hasOwnProjectId({ 'sdlf:project-id': first }, undefined)).toBe(false);
    expect(hasOwnProjectId({}, undefined)).toBe(true);
  });
});
