import { setTimeout as sleepFor } from 'node:timers/promises';
import { SdlfError } from './errors.js';
import type { Io } from './io.js';

/** Minutes a wait lasts before it gives up, unless `--timeout` / `SDLF_TIMEOUT` says otherwise. */
export const DEFAULT_TIMEOUT_MINUTES = 30;

/** Milliseconds between two checks of a polling wait. */
export const DEFAULT_POLLING_INTERVAL_MS = 2000;

/** Time as a wait sees it; tests replace it to reach a timeout without waiting. */
export interface WaitClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds, or at once when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock. */
export const systemClock: WaitClock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }).catch(() => undefined),
};

/** How long waits may last and how often they check; every service that waits takes these. */
export interface WaitLimits {
  /** Minutes one wait may last (without progress) before it gives up. @default 30 */
  readonly timeoutMinutes?: number;
  /** Milliseconds between two checks. @default 2000 */
  readonly pollingIntervalMs?: number;
  /** Replaces the clock (tests). @default systemClock */
  readonly clock?: WaitClock;
}

/** Options of {@link pollUntil} and {@link withDeadline}. */
export interface WaitOptions<T> extends WaitLimits {
  /** What is waited for, completing "waiting up to 30 min for …", e.g. `stack x to be deleted`. */
  readonly what: string;
  /** Where the wait says what it waits for and how long. */
  readonly io: Io;
  /**
   * Builds the error thrown on timeout from the last value seen (undefined when none was seen yet), usually
   * with {@link waitTimeoutError}; it may look up the state the timeout leaves.
   */
  readonly onTimeout: (last: T | undefined, minutes: number) => SdlfError | Promise<SdlfError>;
}

/**
 * Calls `check` until `done` accepts its value and returns that value, sleeping `pollingIntervalMs` between calls.
 * Says first what it waits for and for how long; throws the error of `onTimeout` once `timeoutMinutes` passed.
 */
export async function pollUntil<T>(check: () => Promise<T>, done: (value: T) => boolean, options: WaitOptions<T>): Promise<T> {
  const clock = options.clock ?? systemClock;
  const minutes = options.timeoutMinutes ?? DEFAULT_TIMEOUT_MINUTES;
  const interval = options.pollingIntervalMs ?? DEFAULT_POLLING_INTERVAL_MS;
  const deadline = clock.now() + minutes * 60_000;
  options.io.info(`waiting up to ${formatMinutes(minutes)} for ${options.what}…`);
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (done(last)) return last;
    const left = deadline - clock.now();
    if (left <= 0) throw await options.onTimeout(last, minutes);
    await clock.sleep(Math.min(interval, left));
  }
}

/** What {@link withDeadline} hands its work: a way to say it made progress, which restarts the timeout. */
export interface DeadlineControl {
  /** Restarts the timeout (e.g. one of several stacks finished). */
  progress(): void;
}

/**
 * Runs `work` (an operation that waits inside a library, e.g. a CDK deployment) with a timeout: when it neither
 * finishes nor reports progress for `timeoutMinutes`, throws the error of `onTimeout` (the work's own promise is
 * left to the process's exit). Says first what it waits for and for how long.
 */
export async function withDeadline<T>(
  work: (control: DeadlineControl) => Promise<T>,
  options: WaitOptions<undefined>,
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const minutes = options.timeoutMinutes ?? DEFAULT_TIMEOUT_MINUTES;
  const limit = minutes * 60_000;
  let lastProgress = clock.now();
  options.io.info(`waiting up to ${formatMinutes(minutes)} for ${options.what}…`);
  // One settled-value wrapper for every round, so that a failure after a timeout is never an unhandled rejection.
  const running = work({ progress: () => (lastProgress = clock.now()) }).then((value) => ({ value }));
  const stop = new AbortController();
  try {
    for (;;) {
      const left = lastProgress + limit - clock.now();
      if (left <= 0) throw await options.onTimeout(undefined, minutes);
      const outcome = await Promise.race([running, clock.sleep(left, stop.signal)]);
      if (outcome) return outcome.value;
    }
  } finally {
    stop.abort();
  }
}

/** Options of {@link waitTimeoutError}. */
export interface WaitTimeoutDetails {
  /** What was waited for, as in {@link WaitOptions.what}. */
  readonly what: string;
  readonly minutes: number;
  /** The state the timeout leaves, one line each (e.g. `gone: stack a`, `left: stack b (DELETE_IN_PROGRESS)`). */
  readonly state: readonly string[];
  /** The sdlf command that continues. */
  readonly resumeCommand: string;
}

/** Builds the `WAIT_TIMEOUT` error: what was waited for and how long, the state left, and the command that continues. */
export function waitTimeoutError(details: WaitTimeoutDetails): SdlfError {
  const state = details.state.map((line) => `\n  ${line}`).join('');
  return new SdlfError(`Gave up waiting for ${details.what} after ${formatMinutes(details.minutes)}.${state}`, {
    code: 'WAIT_TIMEOUT',
    suggestions: [
      `Run "${details.resumeCommand}" to continue where it stopped; add --timeout <minutes> (or set SDLF_TIMEOUT) to wait longer.`,
    ],
  });
}

/** Renders minutes for messages: `30 min`, `0.5 min`. */
export function formatMinutes(minutes: number): string {
  return `${Number(minutes.toFixed(2))} min`;
}
