// How many worker processes `mmsa tune` and `mmsa worker` start and with how many native threads each: the cores
// divided by a run's threads (--threads, else MMSA_THREADS), never oversubscribed by default.
import { describe, expect, it } from 'vitest';
import { planPool } from '../../src/tune/local-pool.js';

describe('worker processes and threads on this machine', () => {
  it('without --jobs: as many processes as the cores allow with each run\'s threads', () => {
    expect(planPool({ env: {}, cores: 8 })).toEqual({ jobs: 8, threads: 1 });
    expect(planPool({ threads: 2, env: {}, cores: 8 })).toEqual({ jobs: 4, threads: 2 });
    expect(planPool({ threads: 3, env: {}, cores: 8 })).toEqual({ jobs: 2, threads: 3 });
    expect(planPool({ env: { MMSA_THREADS: '4' }, cores: 8 })).toEqual({ jobs: 2, threads: 4 });
    // --threads wins over the environment; more threads than cores still runs one process.
    expect(planPool({ threads: 1, env: { MMSA_THREADS: '4' }, cores: 8 })).toEqual({ jobs: 8, threads: 1 });
    expect(planPool({ threads: 16, env: {}, cores: 8 })).toEqual({ jobs: 1, threads: 16 });
    // A malformed MMSA_THREADS counts as unset.
    expect(planPool({ env: { MMSA_THREADS: 'many' }, cores: 2 })).toEqual({ jobs: 2, threads: 1 });
  });

  it('with --jobs (or --concurrency): the cores are shared among the processes unless the threads are given', () => {
    expect(planPool({ jobs: 1, env: {}, cores: 8 })).toEqual({ jobs: 1, threads: 8 });
    expect(planPool({ jobs: 3, env: {}, cores: 8 })).toEqual({ jobs: 3, threads: 2 });
    expect(planPool({ jobs: 16, env: {}, cores: 8 })).toEqual({ jobs: 16, threads: 1 });
    expect(planPool({ jobs: 2, threads: 4, env: {}, cores: 8 })).toEqual({ jobs: 2, threads: 4 });
    expect(planPool({ jobs: 2, env: { MMSA_THREADS: '3' }, cores: 8 })).toEqual({ jobs: 2, threads: 3 });
  });
});
