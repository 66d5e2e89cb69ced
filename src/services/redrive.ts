import { type Message, SendMessageCommand } from '@aws-sdk/client-sqs';
import { findDataset } from '../aws/datasets.js';
import { moveMessages, queueUrl } from '../aws/queues.js';
import { type AwsCommandOptions, openSession } from '../aws/session.js';
import { namingOf, requireDeploymentEnvironment } from '../aws/target.js';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { stageBWakeBody } from '../runtime/contract.js';
import { pipelineHasStageB } from './heavy-transform.js';

/** Options of {@link redriveDataset}. */
export interface RedriveDatasetOptions extends AwsCommandOptions {
  readonly team: string;
  readonly dataset: string;
  /** `a` (the team pipeline's stage A DLQ, this dataset's messages) or `b` (the dataset's stage B DLQ). */
  readonly stage: 'a' | 'b';
}

/** What {@link redriveDataset} did. */
export interface RedriveDatasetResult {
  readonly env: string;
  readonly team: string;
  readonly dataset: string;
  readonly stage: 'a' | 'b';
  readonly from: string;
  readonly to: string;
  /** Messages moved back to the source queue. */
  readonly moved: number;
  /** Messages of other datasets left in a shared stage A DLQ. */
  readonly kept: number;
}

/**
 * Moves every message of a dataset's dead-letter queue back to its source queue after a fix, so the pipeline runs
 * them again: stage B from the dataset's own DLQ; stage A from the team pipeline's DLQ, which datasets share, so
 * only this dataset's messages move. FIFO group ids are kept; each copy gets a new deduplication id, so SQS does not
 * drop it as a duplicate of its first send.
 */
export async function redriveDataset(options: RedriveDatasetOptions, io: Io): Promise<RedriveDatasetResult> {
  const { project, target, clients } = await openSession(options, io, {
    check: async (project, target) => {
      const environment = requireDeploymentEnvironment(target, 'redrive');
      const config = findDataset(project, environment.id, options.team, options.dataset);
      if (options.stage === 'b' && !(await pipelineHasStageB(project, config.pipeline))) {
        throw new SdlfError(
          `${config.team}/${config.dataset} uses the pipeline "${config.pipeline}", which has no stage B: there is no stage B dead-letter queue to redrive.`,
          {
            code: 'NO_STAGE_B',
            suggestions: [
              `Redrive its stage A instead: "sdlf redrive --team ${config.team} --dataset ${config.dataset} --stage a --env ${environment.id}".`,
            ],
          },
        );
      }
    },
  });
  const environment = requireDeploymentEnvironment(target, 'redrive');
  const config = findDataset(project, environment.id, options.team, options.dataset);
  const naming = namingOf(target, environment);
  const [dlqName, sourceName] =
    options.stage === 'a'
      ? [naming.stageADeadLetterQueue(config.team, config.pipeline), naming.stageAQueue(config.team, config.pipeline)]
      : [naming.stageBDeadLetterQueue(config.team, config.dataset), naming.stageBQueue(config.team, config.dataset)];
  // Stage B's trigger runs when woken: after the move, its wake queue is told, as stage A does, that objects wait.
  const wakeName = options.stage === 'b' ? naming.stageBWakeQueue(config.team, config.pipeline) : undefined;
  const [from, to, wakeUrl] = [
    await queueUrl(clients, dlqName),
    await queueUrl(clients, sourceName),
    wakeName && (await queueUrl(clients, wakeName)),
  ];
  const wake = wakeName && wakeUrl ? { name: wakeName, url: wakeUrl } : undefined;
  if (!from || !to || (wakeName && !wake)) {
    const missing = !from ? dlqName : !to ? sourceName : wakeName;
    throw new SdlfError(`Queue ${missing} does not exist in environment "${environment.id}".`, {
      code: 'NOT_DEPLOYED',
      suggestions: [`Deploy the environment first: "sdlf deploy --env ${environment.id}".`],
    });
  }
  const filter = options.stage === 'a' ? (message: Message) => belongsTo(message, config.team, config.dataset) : undefined;
  io.info(`Moving messages of ${config.team}/${config.dataset} from ${dlqName} back to ${sourceName}…`);
  const { moved, kept } = await moveMessages(clients, {
    from,
    to,
    filter,
    onMoved: (n) => n % 100 === 0 && io.info(`  ${n} moved`),
  });
  io.info(`Moved ${moved} message(s)${kept ? `; left ${kept} message(s) of other datasets in ${dlqName}` : ''}.`);
  if (wake && moved > 0) {
    await clients.sqs.send(
      new SendMessageCommand({ QueueUrl: wake.url, MessageBody: stageBWakeBody(config, moved, 'sdlf redrive') }),
    );
    io.info(`Woke stage B of ${config.team}/${config.pipeline} (${wake.name}): it starts within its batching window.`);
  }
  return {
    env: environment.id,
    team: config.team,
    dataset: config.dataset,
    stage: options.stage,
    from: dlqName,
    to: sourceName,
    moved,
    kept,
  };
}

/** Tells whether a stage A message (a JSON `StageAMessage`) is about the given dataset. */
function belongsTo(message: Message, team: string, dataset: string): boolean {
  try {
    const body = JSON.parse(message.Body ?? '{}') as { team?: unknown; dataset?: unknown };
    return body.team === team && body.dataset === dataset;
  } catch {
    return false;
  }
}
