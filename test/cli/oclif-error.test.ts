import { Errors } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { toOclifError } from '../../src/cli/oclif-error.js';
import { SdlfError } from '../../src/core/errors.js';

/** What oclif prints under `--json` for an error (`Command.toErrorJson`). */
function errorJson(error: Error): string {
  return JSON.stringify({ error: { ...error, message: error.message, name: error.name } });
}

describe('toOclifError', () => {
  it('translates an SdlfError into an oclif error with exit code 2, its code, suggestions and problems', () => {
    // Given a user error with two suggestions and one problem
    const problem = { code: 'BAD_NAME', message: 'Name "X" is invalid.' };
    const error = new SdlfError('Something is wrong.', {
      code: 'BAD_NAME',
      suggestions: ['Do this.', 'Or that.'],
      problems: [problem],
    });

    // When it is handed to oclif
    const translated = toOclifError(error);

    // Then oclif sees its own error, printed and serialised as before
    expect(translated).toBeInstanceOf(Errors.CLIError);
    expect(errorJson(translated)).toBe(
      JSON.stringify({
        error: {
          code: 'BAD_NAME',
          oclif: { exit: 2 },
          suggestions: ['Do this.', 'Or that.'],
          problems: [problem],
          name: 'SdlfError',
          message: 'Something is wrong.',
        },
      }),
    );
    expect(translated.stack).toBe(error.stack);
  });

  it('keeps an error without suggestions free of them', () => {
    const translated = toOclifError(new SdlfError('No project here.', { code: 'NO_PROJECT' }));
    expect(errorJson(translated)).toBe(
      '{"error":{"code":"NO_PROJECT","oclif":{"exit":2},"problems":[],"name":"SdlfError","message":"No project here."}}',
    );
  });

  it('returns any other error unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(toOclifError(bug)).toBe(bug);
  });
});
