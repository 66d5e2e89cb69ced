import { describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { bootstrapEnvironment } from '../../src/services/bootstrap.js';
import { deployProject } from '../../src/services/deploy.js';
import { diffProject } from '../../src/services/diff.js';
import { RecordingIoHost } from '../../src/toolkit/recording-io-host.js';
import { initDemoProject, useMoto } from './moto.js';

describe('diffProject', () => {
  it('lists every stack of a new demo project as changed, with the toolkit diff text, and changes nothing', async () => {
    useMoto();
    const root = await initDemoProject({ region: 'eu-north-1', prefix: 'dif' });
    await bootstrapEnvironment({ root, env: 'dev' }, createRecordingIo());
    const host = new RecordingIoHost();
    const result = await diffProject({ root, env: 'dev', ioHost: host }, createRecordingIo());
    expect(result.stacks.map((s) => [s.name, s.changed])).toEqual([
      ['dif-dev-foundations', true],
      ['dif-dev-demoteam-standard', true],
      ['dif-dev-demoteam-legislators', true],
    ]);
    expect(result.stacks[0]?.diff).toContain('AWS::S3::Bucket');
    expect(host.codes()).toContain('CDK_TOOLKIT_I4002');
    // Nothing was deployed: a deploy afterwards still creates all three stacks.
    const deployed = await deployProject(
      { root, env: 'dev', direct: true, requireApproval: 'never', pollingIntervalMs: 100 },
      createRecordingIo(),
    );
    expect(deployed.stacks.every((s) => s.status === 'deployed')).toBe(true);
  }, 180_000);
});
