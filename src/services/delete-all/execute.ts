import { UpdateTerminationProtectionCommand } from '@aws-sdk/client-cloudformation';
import { DeleteRepositoryCommand } from '@aws-sdk/client-codecommit';
import {
  DeleteTableCommand,
  DescribeTableCommand,
  type DescribeTableCommandOutput,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { DeleteParameterCommand } from '@aws-sdk/client-ssm';
import { bucketExists, deleteBucket, emptyBucket } from '../../aws/buckets.js';
import type { AwsClients } from '../../aws/clients.js';
import { isAwsError } from '../../aws/errors.js';
import { planAdminRemoval, readDataLakeSettings, writeDataLakeSettings } from '../../aws/lake-formation.js';
import { type DeleteStackOptions, deleteStack, describeStack } from '../../aws/stacks.js';
import type { Io } from '../../core/io.js';
import type { DeleteStep } from './plan.js';

/** How a step ended. */
export type StepOutcome = 'done' | 'skipped';

/** Options of {@link runStep}. */
export type RunStepOptions = DeleteStackOptions;

/**
 * Runs one delete-all step. Each step first checks whether its target still exists and is `skipped` when it is
 * gone, so a re-run after a failure continues where the last run stopped.
 */
export async function runStep(clients: AwsClients, step: DeleteStep, io: Io, options: RunStepOptions): Promise<StepOutcome> {
  switch (step.kind) {
    case 'empty-bucket': {
      if (!(await bucketExists(clients, step.bucket))) return 'skipped';
      const count = await emptyBucket(clients, step.bucket);
      io.info(`emptied bucket ${step.bucket} (${count} object version(s) and delete marker(s))`);
      return 'done';
    }
    case 'delete-stack':
      return deleteStack(clients, step.stack, io, options);
    case 'delete-bucket': {
      if (!(await bucketExists(clients, step.bucket))) return 'skipped';
      await emptyBucket(clients, step.bucket);
      await deleteBucket(clients, step.bucket);
      io.info(`deleted bucket ${step.bucket}`);
      return 'done';
    }
    case 'delete-table':
      return deleteTable(clients, step.table, io);
    case 'schedule-key-deletion': {
      const meta = await clients.kms
        .send(new DescribeKeyCommand({ KeyId: step.keyId }))
        .then((r) => r.KeyMetadata)
        .catch((error: unknown) => {
          if (isAwsError(error, 'NotFoundException')) return undefined;
          throw error;
        });
      if (!meta || meta.KeyState === 'PendingDeletion') return 'skipped';
      await clients.kms.send(new ScheduleKeyDeletionCommand({ KeyId: step.keyId, PendingWindowInDays: step.days }));
      io.info(`scheduled deletion of KMS key ${meta.KeyId ?? step.keyId} in ${step.days} days`);
      return 'done';
    }
    case 'remove-lake-formation-admins': {
      const { next, removed } = planAdminRemoval(await readDataLakeSettings(clients), step.admins);
      if (removed.length > 0) {
        await writeDataLakeSettings(clients, next);
        io.info(`removed Lake Formation admins ${removed.join(', ')}`);
      }
      await clients.ssm.send(new DeleteParameterCommand({ Name: step.parameter })).catch((error: unknown) => {
        if (!isAwsError(error, 'ParameterNotFound')) throw error;
      });
      return removed.length > 0 ? 'done' : 'skipped';
    }
    case 'delete-repository': {
      const reply = await clients.codeCommit.send(new DeleteRepositoryCommand({ repositoryName: step.repository }));
      if (!reply.repositoryId) return 'skipped';
      io.info(`deleted repository ${step.repository}`);
      return 'done';
    }
    case 'delete-bootstrap': {
      if (step.stagingBucket && (await bucketExists(clients, step.stagingBucket))) await emptyBucket(clients, step.stagingBucket);
      const stack = await describeStack(clients, step.stack);
      if (stack) {
        await clients.cloudFormation.send(
          new UpdateTerminationProtectionCommand({ StackName: step.stack, EnableTerminationProtection: false }),
        );
      }
      const outcome = await deleteStack(clients, step.stack, io, options);
      // The bootstrap template retains its staging bucket.
      if (step.stagingBucket && (await bucketExists(clients, step.stagingBucket))) {
        await emptyBucket(clients, step.stagingBucket);
        await deleteBucket(clients, step.stagingBucket);
        io.info(`deleted bucket ${step.stagingBucket}`);
      }
      return outcome;
    }
  }
}

async function deleteTable(clients: AwsClients, table: string, io: Io): Promise<StepOutcome> {
  let described: DescribeTableCommandOutput;
  try {
    described = await clients.dynamoDb.send(new DescribeTableCommand({ TableName: table }));
  } catch (error) {
    if (isAwsError(error, 'ResourceNotFoundException')) return 'skipped';
    throw error;
  }
  if (described.Table?.TableStatus === 'DELETING') return 'skipped';
  if (described.Table?.DeletionProtectionEnabled) {
    await clients.dynamoDb.send(new UpdateTableCommand({ TableName: table, DeletionProtectionEnabled: false }));
  }
  await clients.dynamoDb.send(new DeleteTableCommand({ TableName: table }));
  io.info(`deleted table ${table}`);
  return 'done';
}
