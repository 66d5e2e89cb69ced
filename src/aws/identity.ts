import { GetRoleCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { SdlfError } from '../core/errors.js';
import type { AwsClients } from './clients.js';
import { explainCredentialsError } from './errors.js';

/** Who the CLI runs as. */
export interface CallerIdentity {
  /** 12-digit account id. */
  readonly account: string;
  /** The caller's ARN as STS reports it (an `assumed-role` ARN for role sessions). */
  readonly arn: string;
  /** The IAM principal behind the caller: the role ARN for role sessions, else the user ARN. */
  readonly principalArn: string;
}

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;

/**
 * Maps an STS caller ARN to the IAM principal that Lake Formation and IAM policies accept: an assumed-role session
 * (`arn:aws:sts::123456789012:assumed-role/Admin/jane`) becomes its role (`arn:aws:iam::123456789012:role/Admin`);
 * users and roles are returned unchanged.
 */
export function principalArnOf(callerArn: string): string {
  const match = ASSUMED_ROLE.exec(callerArn);
  if (!match) return callerArn;
  const [, partition, account, role] = match;
  return `arn:${partition}:iam::${account}:role/${role}`;
}

/**
 * Asks STS who the caller is. For a role session it looks the role up in IAM to keep its path
 * (`role/service-role/Admin`); without `iam:GetRole` permission it uses the path-less ARN.
 */
export async function getCallerIdentity(clients: AwsClients): Promise<CallerIdentity> {
  let reply: { Account?: string; Arn?: string };
  try {
    reply = await clients.sts.send(new GetCallerIdentityCommand({}));
  } catch (error) {
    throw explainCredentialsError(error, clients.profile);
  }
  if (!reply.Account || !reply.Arn) {
    throw new SdlfError('STS did not say which account the credentials belong to.', {
      code: 'NO_CREDENTIALS',
      suggestions: ['Check the credentials with "aws sts get-caller-identity", then re-run.'],
    });
  }
  let principalArn = principalArnOf(reply.Arn);
  const role = ASSUMED_ROLE.exec(reply.Arn)?.[3];
  if (role) {
    try {
      const found = await clients.iam.send(new GetRoleCommand({ RoleName: role }));
      principalArn = found.Role?.Arn ?? principalArn;
    } catch {
      // Without iam:GetRole the path-less ARN is the best we know; Lake Formation accepts it for path-less roles.
    }
  }
  return { account: reply.Account, arn: reply.Arn, principalArn };
}

/** Fails with an {@link SdlfError} when the credentials belong to another account than `expected`. */
export function assertAccount(identity: CallerIdentity, expected: string, where: string): void {
  if (identity.account === expected) return;
  throw new SdlfError(
    `The AWS credentials belong to account ${identity.account} (${identity.arn}), but ${where} is account ${expected}.`,
    {
      code: 'WRONG_ACCOUNT',
      suggestions: [
        `Use credentials for account ${expected} (e.g. --profile <profile-of-${expected}>), or fix the account in ddk.json.`,
      ],
    },
  );
}
