import {
  type DataLakeSettings,
  GetDataLakeSettingsCommand,
  type PrincipalPermissions,
  PutDataLakeSettingsCommand,
} from '@aws-sdk/client-lakeformation';
import type { AwsClients } from './clients.js';

/** The principal Lake Formation uses for "Use only IAM access control" defaults. */
export const IAM_ALLOWED_PRINCIPALS = 'IAM_ALLOWED_PRINCIPALS';

/** The CloudFormation execution role `cdk bootstrap` creates with the default qualifier. */
export function cdkExecutionRoleArn(account: string, region: string, partition = 'aws'): string {
  return `arn:${partition}:iam::${account}:role/cdk-hnb659fds-cfn-exec-role-${account}-${region}`;
}

/** What {@link planLakeFormationAdmins} would change. */
export interface LakeFormationPlan {
  /** The settings to write; equal to the current ones when nothing changes. */
  readonly next: DataLakeSettings;
  /** Admin ARNs appended. */
  readonly addedAdmins: readonly string[];
  /** Whether "Use only IAM access control for new databases" is turned off by this plan. */
  readonly clearedDatabaseDefaults: boolean;
  /** Whether "Use only IAM access control for new tables in new databases" is turned off by this plan. */
  readonly clearedTableDefaults: boolean;
  /** Whether anything changes. */
  readonly changed: boolean;
}

const withoutIamAllowed = (permissions: readonly PrincipalPermissions[] | undefined): PrincipalPermissions[] =>
  (permissions ?? []).filter((p) => p.Principal?.DataLakePrincipalIdentifier !== IAM_ALLOWED_PRINCIPALS);

/**
 * Plans the Lake Formation settings sdlf needs, from the current ones: appends `admins` to `DataLakeAdmins` (never
 * replacing who is there) and removes the `IAM_ALLOWED_PRINCIPALS` grants from the default permissions of new
 * databases and tables (the console's two "Use only IAM access control" boxes). Every other setting is kept.
 */
export function planLakeFormationAdmins(current: DataLakeSettings, admins: readonly string[]): LakeFormationPlan {
  const existing = current.DataLakeAdmins ?? [];
  const known = new Set(existing.map((a) => a.DataLakePrincipalIdentifier));
  const addedAdmins = [...new Set(admins)].filter((arn) => !known.has(arn));
  const databaseDefaults = withoutIamAllowed(current.CreateDatabaseDefaultPermissions);
  const tableDefaults = withoutIamAllowed(current.CreateTableDefaultPermissions);
  const clearedDatabaseDefaults = databaseDefaults.length !== (current.CreateDatabaseDefaultPermissions ?? []).length;
  const clearedTableDefaults = tableDefaults.length !== (current.CreateTableDefaultPermissions ?? []).length;
  const next: DataLakeSettings = {
    ...current,
    DataLakeAdmins: [...existing, ...addedAdmins.map((arn) => ({ DataLakePrincipalIdentifier: arn }))],
    CreateDatabaseDefaultPermissions: databaseDefaults,
    CreateTableDefaultPermissions: tableDefaults,
  };
  return {
    next,
    addedAdmins,
    clearedDatabaseDefaults,
    clearedTableDefaults,
    changed: addedAdmins.length > 0 || clearedDatabaseDefaults || clearedTableDefaults,
  };
}

/** Removes `admins` from the settings' `DataLakeAdmins`, keeping everything else; returns the removed ARNs. */
export function planAdminRemoval(
  current: DataLakeSettings,
  admins: readonly string[],
): { next: DataLakeSettings; removed: string[] } {
  const drop = new Set(admins);
  const existing = current.DataLakeAdmins ?? [];
  const kept = existing.filter((a) => !drop.has(a.DataLakePrincipalIdentifier ?? ''));
  const removed = existing.flatMap((a) =>
    a.DataLakePrincipalIdentifier && drop.has(a.DataLakePrincipalIdentifier) ? [a.DataLakePrincipalIdentifier] : [],
  );
  return { next: { ...current, DataLakeAdmins: kept }, removed };
}

/** Reads the account's data lake settings in the client's region. */
export async function readDataLakeSettings(clients: AwsClients): Promise<DataLakeSettings> {
  const reply = await clients.lakeFormation.send(new GetDataLakeSettingsCommand({}));
  return reply.DataLakeSettings ?? {};
}

/** Writes the account's data lake settings (the whole object: read, modify, then write). */
export async function writeDataLakeSettings(clients: AwsClients, settings: DataLakeSettings): Promise<void> {
  await clients.lakeFormation.send(new PutDataLakeSettingsCommand({ DataLakeSettings: settings }));
}

/** Tells whether `arn` is a data lake administrator. */
export function isDataLakeAdmin(settings: DataLakeSettings, arn: string): boolean {
  return (settings.DataLakeAdmins ?? []).some((a) => a.DataLakePrincipalIdentifier === arn);
}
