import { SdlfError } from '../core/errors.js';

/** Error names the SDK uses when credentials are missing, expired or wrong. */
const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);

/** Returns the AWS error name (`NoSuchBucket`, `ValidationError`…) of an SDK error, or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const named = error as { name?: unknown; Code?: unknown };
  if (typeof named.Code === 'string') return named.Code;
  return typeof named.name === 'string' ? named.name : undefined;
}

/** Tells whether an SDK error is one of `names`. */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  const name = awsErrorName(error);
  return name !== undefined && names.includes(name);
}

/**
 * Turns a missing/expired/invalid credentials error into an {@link SdlfError} that says how to log in; returns
 * any other error unchanged.
 */
export function explainCredentialsError(error: unknown, profile?: string): unknown {
  if (!CREDENTIAL_ERRORS.has(awsErrorName(error) ?? '')) return error;
  const using = profile ? `profile "${profile}"` : 'the default AWS credential chain';
  return new SdlfError(`No valid AWS credentials from ${using}: ${(error as Error).message}`, {
    code: 'NO_CREDENTIALS',
    suggestions: [
      profile
        ? `Log in with "aws sso login --profile ${profile}" (or fix the profile in ~/.aws/config), then re-run.`
        : 'Pass --profile <name> (or set AWS_PROFILE), or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then re-run.',
    ],
  });
}
