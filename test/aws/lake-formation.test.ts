import { describe, expect, it } from 'vitest';
import {
  cdkExecutionRoleArn,
  IAM_ALLOWED_PRINCIPALS,
  isDataLakeAdmin,
  planAdminRemoval,
  planLakeFormationAdmins,
} from '../../src/aws/lake-formation.js';

const iamOnly = [{ Principal: { DataLakePrincipalIdentifier: IAM_ALLOWED_PRINCIPALS }, Permissions: ['ALL' as const] }];
const execRole = cdkExecutionRoleArn('123456789012', 'eu-west-1');
const caller = 'arn:aws:iam::123456789012:role/Admin';

describe('planLakeFormationAdmins', () => {
  it('appends the admins and turns off the IAM-only defaults, keeping every other setting', () => {
    // Given an account with one admin of its own, IAM-only defaults and other settings
    const current = {
      DataLakeAdmins: [{ DataLakePrincipalIdentifier: 'arn:aws:iam::123456789012:role/Existing' }],
      CreateDatabaseDefaultPermissions: iamOnly,
      CreateTableDefaultPermissions: iamOnly,
      TrustedResourceOwners: ['210987654321'],
      AllowExternalDataFiltering: true,
    };
    // When sdlf plans its settings
    const plan = planLakeFormationAdmins(current, [execRole, caller]);
    // Then the admins are appended, the defaults cleared and the rest kept
    expect(plan.next.DataLakeAdmins?.map((a) => a.DataLakePrincipalIdentifier)).toEqual([
      'arn:aws:iam::123456789012:role/Existing',
      execRole,
      caller,
    ]);
    expect(plan.next.CreateDatabaseDefaultPermissions).toEqual([]);
    expect(plan.next.CreateTableDefaultPermissions).toEqual([]);
    expect(plan.next.TrustedResourceOwners).toEqual(['210987654321']);
    expect(plan.next.AllowExternalDataFiltering).toBe(true);
    expect(plan).toMatchObject({
      addedAdmins: [execRole, caller],
      clearedDatabaseDefaults: true,
      clearedTableDefaults: true,
      changed: true,
    });
  });

  it('changes nothing when the settings are already in place', () => {
    const first = planLakeFormationAdmins({ CreateDatabaseDefaultPermissions: iamOnly }, [execRole, caller]);
    const second = planLakeFormationAdmins(first.next, [execRole, caller]);
    expect(second.changed).toBe(false);
    expect(second.addedAdmins).toEqual([]);
    expect(second.next).toEqual(first.next);
  });

  it('keeps default permissions granted to principals other than IAM_ALLOWED_PRINCIPALS', () => {
    const custom = {
      Principal: { DataLakePrincipalIdentifier: 'arn:aws:iam::123456789012:role/Analyst' },
      Permissions: ['DESCRIBE' as const],
    };
    const plan = planLakeFormationAdmins({ CreateTableDefaultPermissions: [...iamOnly, custom] }, [execRole]);
    expect(plan.next.CreateTableDefaultPermissions).toEqual([custom]);
  });
});

describe('planAdminRemoval', () => {
  it('removes only the given admins', () => {
    const current = {
      DataLakeAdmins: [execRole, caller, 'arn:aws:iam::123456789012:role/Other'].map((a) => ({ DataLakePrincipalIdentifier: a })),
    };
    const { next, removed } = planAdminRemoval(current, [execRole, 'arn:aws:iam::123456789012:role/NotThere']);
    expect(removed).toEqual([execRole]);
    expect(isDataLakeAdmin(next, execRole)).toBe(false);
    expect(isDataLakeAdmin(next, caller)).toBe(true);
  });
});

describe('cdkExecutionRoleArn', () => {
  it.each([
    ['123456789012', 'us-east-1', 'aws', 'arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1'],
    [
      '123456789012',
      'cn-north-1',
      'aws-cn',
      'arn:aws-cn:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-cn-north-1',
    ],
  ])('names the bootstrap execution role of %s in %s', (account, region, partition, expected) => {
    expect(cdkExecutionRoleArn(account, region, partition)).toBe(expected);
  });
});
