import { describe, expect, it } from 'vitest';
import { isSdlfError, SdlfError } from '../../src/core/errors.js';

describe('SdlfError', () => {
  it('is a plain Error with an UPPER_SNAKE code, suggestions, problems and exit code 2', () => {
    const error = new SdlfError('Dataset name "Orders!" is invalid.', { code: 'INVALID_NAME', suggestions: ['Use lowercase.'] });
    expect(Object.getPrototypeOf(SdlfError.prototype)).toBe(Error.prototype);
    expect(error).toMatchObject({ name: 'SdlfError', code: 'INVALID_NAME', suggestions: ['Use lowercase.'], problems: [] });
    expect(error.exitCode).toBe(2);
    expect(isSdlfError(error)).toBe(true);
  });

  it('leaves the suggestions undefined when none are given', () => {
    expect(new SdlfError('No.', { code: 'NO' }).suggestions).toBeUndefined();
  });
});
