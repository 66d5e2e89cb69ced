import { describe, expect, it } from 'vitest';
import { parseTimeoutMinutes } from '../../src/cli/flags.js';
import { createRecordingIo } from '../../src/core/io.js';
import { DEFAULT_TIMEOUT_MINUTES, pollUntil, waitTimeoutError, withDeadline } from '../../src/core/wait.js';
import { fakeClock } from '../helpers/clock.js';

const timeout = (what: string) => (last: unknown, minutes: number) =>
  waitTimeoutError({ what, minutes, state: [`last: ${String(last)}`], resumeCommand: 'sdlf delete-all --env dev' });

describe('pollUntil', () => {
  it('returns the first value that is done, sleeping the interval between checks, after saying what it waits for', async () => {
    // Given a check that is done on its third call
    const clock = fakeClock();
    const io = createRecordingIo();
    let calls = 0;
    // When polling
    const value = await pollUntil(
      async () => ++calls,
      (n) => n === 3,
      { what: 'stack x to be deleted', io, clock, pollingIntervalMs: 500, onTimeout: timeout('stack x to be deleted') },
    );
    // Then
    expect(value).toBe(3);
    expect(clock.slept).toEqual([500, 500]);
    expect(io.lines).toEqual([{ level: 'info', message: 'waiting up to 30 min for stack x to be deleted…' }]);
  });

  it(`gives up after ${DEFAULT_TIMEOUT_MINUTES} minutes by default with WAIT_TIMEOUT, the state left and the command that continues`, async () => {
    const clock = fakeClock();
    const error = await pollUntil(
      async () => 'DELETE_IN_PROGRESS',
      () => false,
      {
        what: 'stack x to be deleted',
        io: createRecordingIo(),
        clock,
        onTimeout: timeout('stack x to be deleted'),
      },
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'WAIT_TIMEOUT',
      message: 'Gave up waiting for stack x to be deleted after 30 min.\n  last: DELETE_IN_PROGRESS',
      suggestions: [
        'Run "sdlf delete-all --env dev" to continue where it stopped; add --timeout <minutes> (or set SDLF_TIMEOUT) to wait longer.',
      ],
    });
    expect(clock.now()).toBe(30 * 60_000);
  });

  it('honours a timeout of a fraction of a minute, and never sleeps past it', async () => {
    const clock = fakeClock();
    const io = createRecordingIo();
    await expect(
      pollUntil(
        async () => 0,
        () => false,
        {
          what: 'y',
          io,
          clock,
          timeoutMinutes: 0.05,
          pollingIntervalMs: 2000,
          onTimeout: timeout('y'),
        },
      ),
    ).rejects.toMatchObject({ code: 'WAIT_TIMEOUT', message: expect.stringContaining('after 0.05 min') });
    expect(clock.slept).toEqual([2000, 1000]);
    expect(io.lines[0]?.message).toBe('waiting up to 0.05 min for y…');
  });
});

describe('withDeadline', () => {
  it('returns what the work returns when it ends in time', async () => {
    const io = createRecordingIo();
    const value = await withDeadline(async () => 'deployed', { what: 'z', io, onTimeout: timeout('z') });
    expect(value).toBe('deployed');
    expect(io.lines).toEqual([{ level: 'info', message: 'waiting up to 30 min for z…' }]);
  });

  it('throws WAIT_TIMEOUT when the work neither ends nor makes progress in time', async () => {
    const clock = fakeClock();
    const error = await withDeadline(() => new Promise<never>(() => {}), {
      what: 'the deployment',
      io: createRecordingIo(),
      clock,
      timeoutMinutes: 2,
      onTimeout: timeout('the deployment'),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'WAIT_TIMEOUT',
      message: expect.stringMatching(/^Gave up waiting for the deployment after 2 min\./),
    });
    expect(clock.slept).toEqual([120_000]);
  });

  it('restarts the timeout each time the work reports progress', async () => {
    // Given work that reports progress once, one minute into a 2-minute limit
    const clock = fakeClock();
    const sleep = clock.sleep;
    let progress = () => {};
    let woken = false;
    clock.sleep = async (ms, signal) => {
      if (woken) return sleep(ms, signal);
      woken = true;
      await sleep(60_000, signal);
      progress();
    };
    const error = await withDeadline(
      (control) => {
        progress = control.progress;
        return new Promise<never>(() => {});
      },
      { what: 'w', io: createRecordingIo(), clock, timeoutMinutes: 2, onTimeout: timeout('w') },
    ).catch((e: unknown) => e);
    // Then it gave up 2 minutes after that progress (minute 3), not at the first deadline (minute 2)
    expect(error).toMatchObject({ code: 'WAIT_TIMEOUT' });
    expect(clock.now()).toBe(180_000);
  });

  it('rethrows the failure of the work', async () => {
    await expect(
      withDeadline(() => Promise.reject(new Error('boom')), { what: 'v', io: createRecordingIo(), onTimeout: timeout('v') }),
    ).rejects.toThrow('boom');
  });
});

describe('parseTimeoutMinutes', () => {
  it.each([
    ['30', 30],
    ['0.5', 0.5],
  ])('reads %s as %s minutes', async (input, minutes) => {
    expect(await parseTimeoutMinutes(input)).toBe(minutes);
  });

  it.each(['0', '-1', 'abc', ''])('throws INVALID_TIMEOUT for "%s", naming the value and the flag', async (input) => {
    await expect(parseTimeoutMinutes(input)).rejects.toMatchObject({
      code: 'INVALID_TIMEOUT',
      message: `--timeout "${input}" is not a number of minutes above 0.`,
    });
  });
});
