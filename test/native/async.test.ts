// The *Async variants run the same job as the sync functions on a libuv worker: same numbers,
// bit for bit, also when several run at once next to sync calls. Backward passes add into their
// gradient buffers, so each call gets its own fresh ones.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import {
  egruBackwardArgs, egruForwardArgs, egruGrads, firstDifference, gruBackwardArgs, gruForwardArgs, gruGrads, linearArgs,
  linearBackwardArgs, linearGrads, lstmBackwardArgs, lstmForwardArgs, lstmGrads, savedClass,
} from './helpers.js';

const addon = native();

describe('async variants match the sync functions', () => {
  it('linearForwardAsync / linearBackwardAsync', async () => {
    const rng = new Rng(1);
    const f = linearArgs(rng, 37, 29, 23);
    expect(firstDifference((await addon.linearForwardAsync(f)).y, addon.linearForward(f).y)).toBeNull();
    for (const needDx of [true, false]) {
      for (const bias of [true, false]) {
        const b = { ...linearBackwardArgs(rng, 37, 29, 23), needDx };
        const sb = { ...b, ...linearGrads(29, 23, bias) };
        const ab = { ...b, ...linearGrads(29, 23, bias) };
        const s = addon.linearBackward(sb);
        const a = await addon.linearBackwardAsync(ab);
        expect(Object.keys(a)).toEqual(['dx']);
        expect(a.dx === null).toBe(!needDx);
        if (s.dx && a.dx) expect(firstDifference(a.dx, s.dx)).toBeNull();
        expect(ab.dBias === null).toBe(!bias);
        if (sb.dBias && ab.dBias) expect(firstDifference(ab.dBias, sb.dBias)).toBeNull();
        expect(firstDifference(ab.dWeight, sb.dWeight)).toBeNull();
        expect(sb.dWeight.some((v) => v !== 0)).toBe(true);
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
      expect(a.saved === null).toBe(!training);
      expect(s.saved === null).toBe(!training);
      if (a.saved && s.saved) {
        expect(a.saved).toBeInstanceOf(savedClass());
        expect(a.saved.madeBy).toBe('gruForward');
        expect(a.saved.bytes).toBe(s.saved.bytes);
        expect(a.saved.bytes).toBe(6 * 3 * 4 * 9 * 4); // the engine-owned cache, T·N·4H floats
      }
    }
    const b = gruBackwardArgs(rng, (x) => addon.gruForward(x), 6, 3, 7, 9);
    const sb = { ...b, ...gruGrads(7, 9) };
    const ab = { ...b, ...gruGrads(7, 9) };
    const s = addon.gruBackward(sb);
    const a = await addon.gruBackwardAsync(ab);
    expect(firstDifference(a.dh0, s.dh0), 'dh0').toBeNull();
    for (const k of ['dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const) {
      expect(firstDifference(ab[k], sb[k]), k).toBeNull();
    }
    expect(a.dx && s.dx ? firstDifference(a.dx, s.dx) : 'dx missing').toBeNull();
  });

  it('lstmForwardAsync / lstmBackwardAsync', async () => {
    const rng = new Rng(4);
    for (const training of [true, false]) {
      const f = lstmForwardArgs(rng, 5, 3, 7, 9, training);
      const s = addon.lstmForward(f);
      const a = await addon.lstmForwardAsync(f);
      expect(firstDifference(a.y, s.y)).toBeNull();
      expect(firstDifference(a.cN, s.cN)).toBeNull();
      expect(a.saved === null).toBe(!training);
      if (a.saved) expect(a.saved.madeBy).toBe('lstmForward');
    }
    const b = lstmBackwardArgs(rng, (x) => addon.lstmForward(x), 5, 3, 7, 9);
    const sb = { ...b, ...lstmGrads(7, 9) };
    const ab = { ...b, ...lstmGrads(7, 9) };
    const s = addon.lstmBackward(sb);
    const a = await addon.lstmBackwardAsync(ab);
    expect(firstDifference(a.dh0, s.dh0), 'dh0').toBeNull();
    expect(firstDifference(a.dc0, s.dc0), 'dc0').toBeNull();
    expect(a.dx && s.dx ? firstDifference(a.dx, s.dx) : 'dx missing').toBeNull();
    for (const k of ['dWeightIh', 'dWeightHh', 'dBiasIh', 'dBiasHh'] as const) {
      expect(firstDifference(ab[k], sb[k]), k).toBeNull();
    }
  });

  it('egruForwardAsync / egruBackwardAsync (masks drawn from noise in the engine)', async () => {
    const rng = new Rng(5);
    const f = {
      ...egruForwardArgs(rng, 6, 3, 7, 9), zoneout: 0.2, dropconnect: 0.3, noise: { seed: 11, epoch: 2, batch: 3, layer: 1 },
    };
    const s = addon.egruForward(f);
    const a = await addon.egruForwardAsync(f);
    for (const k of ['y', 'c', 'o', 'trace'] as const) expect(firstDifference(a[k]!, s[k]!), k).toBeNull();
    expect(a.stats).toEqual(s.stats);
    const sb = { ...egruBackwardArgs(f, s.saved!), ...egruGrads(7, 9) };
    const ab = { ...egruBackwardArgs(f, a.saved!), ...egruGrads(7, 9) };
    const gs = addon.egruBackward(sb);
    const ga = await addon.egruBackwardAsync(ab);
    expect(firstDifference(ga.dx!, gs.dx!), 'dx').toBeNull();
    expect(firstDifference(ga.dy0!, gs.dy0!), 'dy0').toBeNull();
    expect(ga.stats).toEqual(gs.stats);
    for (const k of ['dKernel', 'dRecurrentKernel', 'dBias', 'dRecurrentBias', 'dThr'] as const) {
      expect(firstDifference(ab[k], sb[k]), k).toBeNull();
    }
  });

  it('a job holds its saved handle: release() while a backward is in flight changes nothing, later calls are refused', async () => {
    const rng = new Rng(6);
    const b = gruBackwardArgs(rng, (x) => addon.gruForward(x), 8, 4, 16, 24);
    const sb = { ...b, ...gruGrads(16, 24) };
    const expected = addon.gruBackward(sb);
    const ab = { ...b, ...gruGrads(16, 24) };
    const pending = addon.gruBackwardAsync(ab);
    b.saved.release();
    expect(b.saved.bytes).toBe(0);
    const got = await pending;
    expect(firstDifference(got.dh0, expected.dh0)).toBeNull();
    expect(firstDifference(ab.dWeightHh, sb.dWeightHh)).toBeNull();
    expect(() => addon.gruBackward({ ...b, ...gruGrads(16, 24) })).toThrow(/^gruBackward: saved was released/);
    await expect(addon.gruBackwardAsync({ ...b, ...gruGrads(16, 24) })).rejects.toThrow(/^gruBackwardAsync: saved was released/);
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
