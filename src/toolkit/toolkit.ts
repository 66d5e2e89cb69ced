import type { IIoHost, Toolkit } from '@aws-cdk/toolkit-lib';
import type { Io } from '../core/io.js';
import { type RequireApproval, SdlfIoHost, type SdlfIoHostOptions } from './io-host.js';

/** The `@aws-cdk/toolkit-lib` module. */
export type ToolkitLib = typeof import('@aws-cdk/toolkit-lib');

let loaded: Promise<ToolkitLib> | undefined;

/**
 * Imports `@aws-cdk/toolkit-lib` on first use. It costs most of a second, so only commands that talk to
 * CloudFormation load it, and `sdlf --help` stays fast.
 */
export function loadToolkitLib(): Promise<ToolkitLib> {
  // The toolkit reports usage to AWS unless told not to; sdlf never does.
  process.env.CDK_DISABLE_CLI_TELEMETRY ??= 'true';
  loaded ??= import('@aws-cdk/toolkit-lib');
  return loaded;
}

/** Options of {@link createToolkit}. */
export interface CreateToolkitOptions {
  /** Where progress goes. */
  readonly io: Io;
  /** Default region of the toolkit's SDK calls. */
  readonly region: string;
  /** Named AWS profile; @default the standard credential chain */
  readonly profile?: string;
  /** When deploys ask for approval. @default 'broadening' */
  readonly requireApproval?: RequireApproval;
  /** Replaces the IoHost, e.g. with a {@link RecordingIoHost} in tests. @default an {@link SdlfIoHost} on `io` */
  readonly ioHost?: IIoHost;
  /** Sees every toolkit message and request. */
  readonly tap?: SdlfIoHostOptions['tap'];
}

/** A toolkit and the module it came from (for its enums and helper classes). */
export interface LoadedToolkit {
  readonly toolkit: Toolkit;
  readonly lib: ToolkitLib;
}

/**
 * Creates the `@aws-cdk/toolkit-lib` Toolkit sdlf uses for bootstrap, diff, deploy and destroy: credentials as the
 * AWS CLI finds them (with `profile`), plain text (no colours or emojis), and an IoHost that forwards to `io`.
 * Like the SDK, it honours `AWS_ENDPOINT_URL`.
 */
export async function createToolkit(options: CreateToolkitOptions): Promise<LoadedToolkit> {
  const lib = await loadToolkitLib();
  const { ioHost: custom, tap } = options;
  // A replaced IoHost (tests) still feeds the tap, which services use to collect results such as diffs.
  const ioHost: IIoHost =
    custom && tap
      ? {
          notify: (message) => {
            tap(message);
            return custom.notify(message);
          },
          requestResponse: (request) => {
            tap(request);
            return custom.requestResponse(request);
          },
        }
      : (custom ?? new SdlfIoHost(options.io, { requireApproval: options.requireApproval, tap }));
  const toolkit = new lib.Toolkit({
    ioHost,
    color: false,
    emojis: false,
    sdkConfig: {
      baseCredentials: lib.BaseCredentials.awsCliCompatible({ profile: options.profile, defaultRegion: options.region }),
    },
  });
  return { toolkit, lib };
}
