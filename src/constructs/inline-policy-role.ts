import { Lazy } from 'aws-cdk-lib';
import {
  type AddToPrincipalPolicyResult,
  type CfnRole,
  PolicyDocument,
  type PolicyStatement,
  Role,
  type RoleProps,
} from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** Name of the inline policy that holds an {@link InlinePolicyRole}'s grants. */
export const INLINE_POLICY_NAME = 'Permissions';

/**
 * Defines a role whose grants (`addToPrincipalPolicy`, and so every `grant*` of aws-cdk-lib) go to one inline
 * policy of the role itself instead of a separate `AWS::IAM::Policy` (the `DefaultPolicy`): one resource per role,
 * not two. The role carries no inline policy while it has no statement. A role's inline policies may hold 10,240
 * characters in all; unlike the `DefaultPolicy` this one is not split into managed policies when it grows past
 * that, so it suits roles whose grants do not grow with the number of datasets.
 */
export class InlinePolicyRole extends Role {
  /** The statements of the role's inline policy {@link INLINE_POLICY_NAME}. */
  readonly permissions = new PolicyDocument();

  constructor(scope: Construct, id: string, props: RoleProps) {
    super(scope, id, props);
    const role = this.node.defaultChild as CfnRole;
    const inline = role.policies;
    role.policies = Lazy.any(
      {
        produce: () => [
          ...(Array.isArray(inline) ? inline : []),
          ...(this.permissions.isEmpty ? [] : [{ policyName: INLINE_POLICY_NAME, policyDocument: this.permissions }]),
        ],
      },
      { omitEmptyArray: true },
    );
    this.node.addValidation({ validate: () => this.permissions.validateForIdentityPolicy() });
  }

  /** Adds `statement` to the role's inline policy. */
  override addToPrincipalPolicy(statement: PolicyStatement): AddToPrincipalPolicyResult {
    this.permissions.addStatements(statement);
    return { statementAdded: true, policyDependable: this };
  }
}
