import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { TableKind } from '../config/naming.js';
import { metadataKeyPatternOf } from '../runtime/contract.js';
import type { FoundationsReferences } from './foundations-references.js';

/** DynamoDB actions the runtime calls on one metadata table (see `DynamoMetadataStore`). */
export type MetadataAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'BatchGetItem';

/**
 * Grants a team pipeline role exactly the DynamoDB actions it calls on each metadata table, on the items of its team
 * only: every statement carries `ForAllValues:StringLike` `dynamodb:LeadingKeys` [`{team}/*`], so a request for any
 * key of another team (`sales-eu/…` for team `sales`) is denied, and every key of a batch read must be the team's.
 * Scan and Query are never granted: with `ForAllValues`, a request without keys (a Scan) would pass the condition.
 */
export function grantTeamMetadata(
  role: IRole,
  foundations: FoundationsReferences,
  team: string,
  grants: Partial<Record<TableKind, readonly MetadataAction[]>>,
): void {
  for (const [kind, actions] of Object.entries(grants) as Array<[TableKind, readonly MetadataAction[]]>) {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: actions.map((action) => `dynamodb:${action}`),
        resources: [foundations.table(kind).tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [metadataKeyPatternOf(team)] } },
      }),
    );
  }
}
