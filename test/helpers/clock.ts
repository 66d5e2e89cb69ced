import type { WaitClock } from '../../src/core/wait.js';

/** A clock whose sleeps return at once and move its time on by what they slept; `slept` records them. */
export function fakeClock(start = 0): WaitClock & { readonly slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}
