/** The oldest Node.js major version that sdlf supports: the AWS SDK's releases from January 2027 need it. */
export const MINIMUM_NODE_MAJOR = 22;

/**
 * The one line sdlf prints on a Node.js older than {@link MINIMUM_NODE_MAJOR}, or `undefined` on a supported one.
 * sdlf still runs there (its locked AWS SDK does), so this is a warning, not an error.
 */
export function oldNodeNotice(version: string = process.version): string | undefined {
  const major = Number.parseInt(version.replace(/^v/, ''), 10);
  if (!Number.isFinite(major) || major >= MINIMUM_NODE_MAJOR) return undefined;
  return (
    `Warning: Node.js ${version} is past its end of life and AWS SDK releases from January 2027 need Node.js ` +
    `${MINIMUM_NODE_MAJOR} or newer: install Node.js ${MINIMUM_NODE_MAJOR} or 24 (e.g. \`nvm install 24\`), then run ` +
    'npm ci in the project again.'
  );
}

/**
 * Called once per sdlf process, before anything loads the AWS SDK: turns off the SDK's own multi-line
 * NodeVersionSupportWarning (in this process and the processes it starts) and prints sdlf's one line instead.
 * `SDLF_NODE_WARNING=false` silences it.
 */
export function replaceSdkNodeWarning(
  env: NodeJS.ProcessEnv = process.env,
  write = (line: string) => process.stderr.write(line),
): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  if (env.SDLF_NODE_WARNING === 'false') return;
  const notice = oldNodeNotice();
  if (notice !== undefined) write(`${notice}\n`);
}
