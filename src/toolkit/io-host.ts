import type { IIoHost, IoMessage, IoRequest } from '@aws-cdk/toolkit-lib';
import { SdlfError } from '../core/errors.js';
import type { Io } from '../core/io.js';
import { ownWording } from './wording.js';

/** When `sdlf deploy` asks before changing a stack, as in `cdk deploy --require-approval`. */
export const REQUIRE_APPROVAL = ['never', 'any-change', 'broadening'] as const;
/** One of {@link REQUIRE_APPROVAL}. */
export type RequireApproval = (typeof REQUIRE_APPROVAL)[number];

/** Message codes sdlf treats specially. https://docs.aws.amazon.com/cdk/api/toolkit-lib/message-registry/ */
export const TOOLKIT_CODES = {
  /** Confirm deploying security-sensitive (or any) changes. */
  confirmDeploy: 'CDK_TOOLKIT_I5060',
  /** Confirm destroying stacks. */
  confirmDestroy: 'CDK_TOOLKIT_I7010',
  /** Confirm a rollback before deploying. */
  confirmRollback: 'CDK_TOOLKIT_I5050',
  /** One stack's diff. */
  stackDiff: 'CDK_TOOLKIT_I4002',
  /** Activity of one resource while a stack deploys or is destroyed. */
  stackActivity: 'CDK_TOOLKIT_I5502',
} as const;

/** Options of {@link SdlfIoHost}. */
export interface SdlfIoHostOptions {
  /** When deploys ask for approval. @default 'broadening' */
  readonly requireApproval?: RequireApproval;
  /** Sees every message before it is forwarded, e.g. to collect diffs. */
  readonly tap?: (message: IoMessage<unknown>) => void;
}

/**
 * The toolkit's IoHost: forwards toolkit-lib messages to sdlf's {@link Io} (so progress lands on stderr and
 * `--verbose` shows the detail) and answers its questions. Errors and warnings are warnings, results and info are
 * progress, per-resource activity and debug/trace are verbose. Deploy approvals follow `requireApproval` and go
 * through {@link Io.confirm}, which refuses rather than prompts when there is no terminal.
 */
export class SdlfIoHost implements IIoHost {
  private readonly requireApproval: RequireApproval;

  constructor(
    private readonly io: Io,
    private readonly options: SdlfIoHostOptions = {},
  ) {
    this.requireApproval = options.requireApproval ?? 'broadening';
  }

  /** Forwards one message to the {@link Io}. */
  async notify(message: IoMessage<unknown>): Promise<void> {
    this.options.tap?.(message);
    const text = ownWording(message.message.trimEnd());
    if (text === undefined || text === '') return;
    switch (message.level) {
      case 'error':
      case 'warn':
        this.io.warn(text);
        return;
      case 'result':
      case 'info':
        if (message.code === TOOLKIT_CODES.stackActivity || message.code === TOOLKIT_CODES.stackDiff) this.io.debug(text);
        else this.io.info(text);
        return;
      default:
        this.io.debug(text);
    }
  }

  /** Answers a toolkit question: deploy approvals by policy, everything else with its default. */
  async requestResponse<T>(request: IoRequest<unknown, T>): Promise<T> {
    this.options.tap?.(request);
    if (request.code === TOOLKIT_CODES.confirmDeploy) return (await this.approveDeploy(request)) as T;
    if (request.code === TOOLKIT_CODES.confirmDestroy) {
      // sdlf asks before destroying (delete-all plans and confirms first); the toolkit never prompts on its own.
      return true as T;
    }
    return request.defaultResponse;
  }

  private async approveDeploy(request: IoRequest<unknown, unknown>): Promise<boolean> {
    const data = request.data as { permissionChangeType?: string };
    const needed =
      this.requireApproval === 'any-change' ||
      (this.requireApproval === 'broadening' && data.permissionChangeType === 'broadening');
    if (!needed) return true;
    this.io.info(request.message);
    const approved = await this.io.confirm('Deploy these changes?', { yesFlag: '--require-approval never' });
    if (!approved) {
      throw new SdlfError('Deployment cancelled: the changes were not approved. Nothing further was deployed.', {
        code: 'DEPLOY_NOT_APPROVED',
        suggestions: ['Review the changes with "sdlf diff", then re-run "sdlf deploy".'],
      });
    }
    return true;
  }
}
