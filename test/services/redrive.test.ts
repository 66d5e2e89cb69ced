import { describe, expect, it } from 'vitest';
import { SdlfError } from '../../src/core/errors.js';
import { createRecordingIo } from '../../src/core/io.js';
import { redriveDataset } from '../../src/services/redrive.js';
import { ddkJson, tempDir, writeJsonFiles } from '../helpers/project.js';

describe('redriveDataset', () => {
  it('refuses stage B of a dataset whose pipeline has none, before any AWS call, and says to redrive stage A', async () => {
    // Given a dataset of the stage-A-only custom pipeline, and no AWS endpoint that could answer
    const root = tempDir();
    writeJsonFiles(root, {
      'ddk.json': ddkJson(),
      'parameters.json': { dev: [{ team: 'sales', pipeline: 'custom', dataset: 'orders' }] },
    });
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
    try {
      // When its stage B is redriven
      const error = await redriveDataset(
        { root, env: 'dev', team: 'sales', dataset: 'orders', stage: 'b' },
        createRecordingIo(),
      ).catch((e: unknown) => e);
      // Then it is refused as a user error naming the pipeline, with the command that does apply
      expect(error).toBeInstanceOf(SdlfError);
      expect(error).toMatchObject({ code: 'NO_STAGE_B' });
      expect((error as SdlfError).message).toContain('sales/orders uses the pipeline "custom", which has no stage B');
      expect(String((error as SdlfError).suggestions)).toContain(
        'sdlf redrive --team sales --dataset orders --stage a --env dev',
      );
    } finally {
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
    }
  });
});
