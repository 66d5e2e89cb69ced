import { describe, expect, it } from 'vitest';
import { oldNodeNotice, replaceSdkNodeWarning } from '../../src/cli/node-version.js';

describe('the Node.js version notice', () => {
  it('names the running version and the fix on a Node.js older than 22, and nothing on 22 or 24', () => {
    expect(oldNodeNotice('v21.7.3')).toContain('Node.js v21.7.3 is past its end of life');
    expect(oldNodeNotice('v20.20.2')).toBe(
      'Warning: Node.js v20.20.2 is past its end of life and AWS SDK releases from January 2027 need Node.js 22 or ' +
        'newer: install Node.js 22 or 24 (e.g. `nvm install 24`), then run npm ci in the project again.',
    );
    expect(oldNodeNotice('v22.0.0')).toBeUndefined();
    expect(oldNodeNotice('v24.11.1')).toBeUndefined();
  });

  it("turns the SDK's warning off and writes sdlf's line once, unless SDLF_NODE_WARNING=false", () => {
    const lines: string[] = [];
    const env: NodeJS.ProcessEnv = {};
    replaceSdkNodeWarning(env, (line) => lines.push(line));
    expect(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
    expect(lines).toEqual(oldNodeNotice() === undefined ? [] : [`${oldNodeNotice()}\n`]);

    const quiet: string[] = [];
    replaceSdkNodeWarning({ SDLF_NODE_WARNING: 'false' }, (line) => quiet.push(line));
    expect(quiet).toEqual([]);
  });
});
