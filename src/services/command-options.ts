/**
 * What commands take from below the services to build a service's options: the AWS target every AWS-facing
 * service takes, and the values of `--require-approval`. Commands import them from here, never from src/aws or
 * src/toolkit, and this module loads neither the AWS SDK nor the toolkit.
 */
export type { AwsCommandOptions } from '../aws/session.js';
export { REQUIRE_APPROVAL, type RequireApproval } from '../toolkit/io-host.js';
