import { describe, expect, it } from 'vitest';
import { createRecordingIo } from '../../src/core/io.js';
import { SdlfIoHost, TOOLKIT_CODES } from '../../src/toolkit/io-host.js';
import { RecordingIoHost } from '../../src/toolkit/recording-io-host.js';

const request = (permissionChangeType: string) => ({
  time: new Date(),
  level: 'info' as const,
  action: 'deploy' as const,
  code: TOOLKIT_CODES.confirmDeploy,
  message: 'IAM Statement Changes …',
  data: { permissionChangeType, motivation: 'x' },
  defaultResponse: true,
});

describe('SdlfIoHost', () => {
  it('forwards warnings, progress and per-resource activity to the matching Io levels', async () => {
    const io = createRecordingIo();
    const host = new SdlfIoHost(io);
    const base = { time: new Date(), action: 'deploy' as const, data: undefined };
    await host.notify({ ...base, level: 'warn', message: 'careful' });
    await host.notify({ ...base, level: 'info', code: 'CDK_TOOLKIT_I5100', message: 'stack: deploying... [1/3]' });
    await host.notify({ ...base, level: 'info', code: TOOLKIT_CODES.stackActivity, message: 'CREATE_COMPLETE AWS::S3::Bucket' });
    await host.notify({ ...base, level: 'trace', message: '[SDK info] …' });
    expect(io.lines).toEqual([
      { level: 'warn', message: 'careful' },
      { level: 'info', message: 'stack: deploying... [1/3]' },
      { level: 'debug', message: 'CREATE_COMPLETE AWS::S3::Bucket' },
      { level: 'debug', message: '[SDK info] …' },
    ]);
  });

  it("says nothing in the toolkit CLI's terms: no stack-id hint, no --method or --force sdlf lacks", async () => {
    const io = createRecordingIo();
    const host = new SdlfIoHost(io);
    const base = { time: new Date(), action: 'synth' as const, data: undefined, level: 'info' as const };
    // The toolkit's own messages, as it words them (synth without a stack id, diff, bootstrap over a newer stack)
    await host.notify({
      ...base,
      message:
        'Supply a stack id (\u001b[32mdemo-dev-foundations\u001b[39m, \u001b[32mdemo-dev-demoteam-standard\u001b[39m) to display its template.',
    });
    await host.notify({
      ...base,
      message:
        'Hold on while we create a read-only change set to get a diff with accurate replacement information (use --method=template to use a less accurate but faster template-only diff)\n',
    });
    await host.notify({
      ...base,
      level: 'warn',
      message: 'Bootstrap stack already at version 30. Not downgrading it to version 28 (use --force if you intend to downgrade)',
    });
    expect(io.lines).toEqual([
      {
        level: 'info',
        message: 'Hold on while we create a read-only change set to get a diff with accurate replacement information',
      },
      { level: 'warn', message: 'Bootstrap stack already at version 30. Not downgrading it to version 28' },
    ]);
  });

  it.each([
    ['broadening', 'none', false],
    ['broadening', 'non-broadening', false],
    ['broadening', 'broadening', true],
    ['any-change', 'none', true],
    ['never', 'broadening', false],
  ] as const)('with --require-approval %s asks for %s permission changes: %s', async (policy, change, asks) => {
    const io = createRecordingIo([true]);
    const host = new SdlfIoHost(io, { requireApproval: policy });
    await expect(host.requestResponse(request(change))).resolves.toBe(true);
    expect(io.lines.some((l) => l.level === 'confirm')).toBe(asks);
  });

  it('rejects the deployment with DEPLOY_NOT_APPROVED when the user says no', async () => {
    const host = new SdlfIoHost(createRecordingIo([false]));
    await expect(host.requestResponse(request('broadening'))).rejects.toMatchObject({ code: 'DEPLOY_NOT_APPROVED' });
  });

  it('answers destroy confirmations itself, because delete-all asks before', async () => {
    const io = createRecordingIo();
    const host = new SdlfIoHost(io);
    const answer = await host.requestResponse({ ...request('none'), code: TOOLKIT_CODES.confirmDestroy, defaultResponse: false });
    expect(answer).toBe(true);
    expect(io.lines).toEqual([]);
  });
});

describe('RecordingIoHost', () => {
  it('records messages and answers requests by code, else with their default', async () => {
    const host = new RecordingIoHost({ [TOOLKIT_CODES.confirmDeploy]: false });
    await host.notify({ time: new Date(), level: 'info', action: 'deploy', code: 'CDK_TOOLKIT_I5100', message: 'm', data: {} });
    await expect(host.requestResponse(request('none'))).resolves.toBe(false);
    await expect(host.requestResponse({ ...request('none'), code: TOOLKIT_CODES.confirmRollback })).resolves.toBe(true);
    expect(host.codes()).toEqual(['CDK_TOOLKIT_I5100', TOOLKIT_CODES.confirmDeploy, TOOLKIT_CODES.confirmRollback]);
  });
});
