// The *Async variants run the same job as the sync functions on a libuv worker: same numbers,
// bit for bit, also when several run at once next to sync calls.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { firstDifference, gruBackwardArgs, gruForwardArgs, linearArgs, linearBackwardArgs } from './helpers.js';

const addon = native();

describe('async variants match the sync functions', () => {
  it('linearForwardAsync / linearBackwardAsync', async () => {
    const rng = new Rng(1);
    const f = linearArgs(rng, 37, 29, 23);
    expect(firstDifference(await addon.linearForwardAsync(f), addon.linearForward(f))).toBeNull();
    for (const needDx of [true, false]) {
      for (const bias of [true, false]) {
        const b = { ...linearBackwardArgs(rng, 37, 29, 23), needDx };
        if (!bias) b.bias = null;
        const s = addon.linearBackward(b);
        const a = await addon.linearBackwardAsync(b);
        expect(a.dx === null).toBe(!needDx);
        expect(a.dBias === null).toBe(!bias);
        if (s.dx && a.dx) expect(firstDifference(a.dx, s.dx)).toBeNull();
        if (s.dBias && a.dBias) expect(firstDifference(a.dBias, s.dBias)).toBeNull();
        expect(firstDifference(a.dWeight, s.dWeight)).toBeNull();
      }
    }
  });

  it('gruForwardAsync / gruBackwardAsync', async () => {
    const rng = new Rng(2);
    for (const training of [true, false]) {
      const f = gruForwardArgs(rng, 6, 3, 7, 9, training);
      const s = addon.gruForward(f);
      const a = await addon.gruForwardAsync(f);
      expect(firstDifference(a.y, s.y)).toBeNull();
      expect(firstDifference(a.cache, s.cache)).toBeNull();
      expect(a.cache.length === 0).toBe(!training);
    }
    const b = gruBackwardArgs(rng, (x) => addon.gruForward(x), 6, 3, 7, 9);
    const s = addon.gruBackward(b);
    const a = await addon.gruBackwardAsync(b);
    for (const k of ['dh0', 'dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const) {
      expect(firstDifference(a[k], s[k]), k).toBeNull();
    }
    expect(a.dx && s.dx ? firstDifference(a.dx, s.dx) : 'dx missing').toBeNull();
  });

  it('several async jobs in flight next to sync calls all return the sync numbers', async () => {
    const rng = new Rng(3);
    const f = gruForwardArgs(rng, 20, 8, 32, 48, true);
    const expected = addon.gruForward(f).y;
    const pending = [1, 2, 3, 4].map(() => addon.gruForwardAsync(f));
    const sync = addon.gruForward(f).y; // runs while the workers compute
    const results = await Promise.all(pending);
    expect(firstDifference(sync, expected)).toBeNull();
    for (const r of results) expect(firstDifference(r.y, expected)).toBeNull();
  });
});
