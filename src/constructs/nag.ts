import { Aspects, type IAspect, Stack, Validations } from 'aws-cdk-lib';
import { CfnPolicy, CfnRole } from 'aws-cdk-lib/aws-iam';
import { rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** Acknowledges one cdk-nag finding on one construct (and its children), with the reason it is acceptable. */
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}

/**
 * Acknowledges the `AwsSolutions-IAM5` wildcard findings of the IAM policies under `scope` whose finding matches
 * one of `allowed` (e.g. `/^Resource::arn:<AWS::Partition>:lambda:.*:function:ddk-dev-team-\*-light-transform$/`).
 * Any other wildcard still fails the synth, so a new grant is reviewed rather than silently accepted. A finding
 * whose ARN has a literal partition (the `@aws-cdk/core:enablePartitionLiterals` feature flag) is compared as if
 * it had the `<AWS::Partition>` token, so the patterns hold with and without that flag.
 */
export function acknowledgeWildcards(scope: IConstruct, reason: string, allowed: readonly RegExp[]): void {
  Aspects.of(scope).add(new WildcardAcknowledger(reason, allowed));
}

class WildcardAcknowledger implements IAspect {
  constructor(
    private readonly reason: string,
    private readonly allowed: readonly RegExp[],
  ) {}

  visit(node: IConstruct): void {
    if (!(node instanceof CfnPolicy || node instanceof CfnRole)) return;
    // The same rule cdk-nag runs, so the acknowledged ids are exactly the ones it reports.
    const findings = rules.iam.IAMNoWildcardPermissions(node);
    if (!Array.isArray(findings)) return;
    for (const finding of findings) {
      const comparable = withPartitionToken(finding);
      if (this.allowed.some((pattern) => pattern.test(comparable))) {
        Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: this.reason });
      }
    }
  }
}

/**
 * Acknowledges the `AwsSolutions-IAM5[Resource::*]` finding of the IAM policies and roles (their inline policies)
 * under `scope` only while every
 * statement that allows `Resource: "*"` lists nothing but `actions` (actions that have no resource-level
 * permissions): a grant on `*` of any other action, added later under the same scope, still fails the synth.
 */
export function acknowledgeAnyResource(scope: IConstruct, reason: string, actions: readonly string[]): void {
  Aspects.of(scope).add(new AnyResourceAcknowledger(reason, new Set(actions)));
}

class AnyResourceAcknowledger implements IAspect {
  constructor(
    private readonly reason: string,
    private readonly actions: ReadonlySet<string>,
  ) {}

  visit(node: IConstruct): void {
    const statements = policyStatementsOf(node);
    if (!statements) return;
    const onAny = statements.filter((s) => s.Effect === 'Allow' && asList(s.Resource).includes('*'));
    if (
      onAny.length === 0 ||
      !onAny.every((s) => asList(s.Action).every((action) => typeof action === 'string' && this.actions.has(action)))
    )
      return;
    Validations.of(node).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: this.reason });
  }
}

/** The statements of an IAM policy, or of a role's inline policies together; `undefined` for any other node. */
function policyStatementsOf(node: IConstruct): readonly PolicyStatementJson[] | undefined {
  type Document = { Statement?: PolicyStatementJson[] };
  if (node instanceof CfnPolicy) return (Stack.of(node).resolve(node.policyDocument) as Document).Statement ?? [];
  if (!(node instanceof CfnRole)) return undefined;
  const policies = (Stack.of(node).resolve(node.policies) ?? []) as { policyDocument?: Document }[];
  return policies.flatMap((policy) => policy.policyDocument?.Statement ?? []);
}

interface PolicyStatementJson {
  readonly Effect?: string;
  readonly Action?: string | readonly string[];
  readonly Resource?: unknown;
}

function asList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** `Resource::arn:aws:…` (a literal partition) → `Resource::arn:<AWS::Partition>:…`; other findings as they are. */
export function withPartitionToken(finding: string): string {
  return finding.replace(/^Resource::arn:aws(?:-[a-z]+)*:/, 'Resource::arn:<AWS::Partition>:');
}

/**
 * Matches the finding of a grant on the objects of the named buckets whose keys start with `keyPrefix` (an
 * `IAM5` finding for `arn:…:s3:::{bucket}/{keyPrefix}*`): the bucket names are exact, as the naming gives them.
 */
export function objectsUnder(bucketNames: readonly string[], keyPrefix: string): RegExp {
  const buckets = bucketNames.map(escapeRegExp).join('|');
  return new RegExp(`^Resource::arn:<AWS::Partition>:s3:::(?:${buckets})/${escapeRegExp(keyPrefix)}\\*$`);
}

/** Matches a nag finding for an ARN ending in `name`, where `name` holds the one `*` that scopes it to a team. */
export function wildcardName(name: string): RegExp {
  return new RegExp(`^Resource::arn:<AWS::Partition>:[a-z]+:[^:]*:[^:]*:.*${escapeRegExp(name)}$`);
}

/** Matches the finding of a grant on the indexes of the named DynamoDB tables (`…:table/{name}/index/*`). */
export function indexesOf(tableNames: readonly string[]): RegExp {
  const tables = tableNames.map(escapeRegExp).join('|');
  return new RegExp(`^Resource::arn:<AWS::Partition>:dynamodb:[^:]*:[^:]*:table/(?:${tables})/index/\\*$`);
}

/** Matches the finding of a grant on the streams of the named log group (`…:log-group:{name}:*`). */
export function streamsOf(logGroupName: string): RegExp {
  return new RegExp(`^Resource::arn:<AWS::Partition>:logs:[^:]*:[^:]*:log-group:${escapeRegExp(logGroupName)}:\\*$`);
}

function escapeRegExp(text: string): string {
  return text.replaceAll(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
