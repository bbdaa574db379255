// AWD's WeightDrop on the GRU and LSTM (EvNN's LM baselines): the forward equals the plain layer on
// weight_hh with the drawn rows zeroed and the others scaled by 1/(1 − p) (the rows being the
// documented Philox mask), and weight_hh's gradient is that layer's gradient mapped back through
// the same mask; evaluation uses the whole matrix.
import { describe, expect, it } from 'vitest';
import { native } from '../../src/native/addon.js';
import { Rng } from '../../src/util/rng.js';
import { expectedKeep, PURPOSE } from '../native/masks.js';
import { assertAllClose } from '../oracle/compare.js';
import { F32_GEMM } from './tolerances.js';

const T = 4, N = 3, C = 5, H = 6;

describe.each([['gru', 3], ['lstm', 4]] as const)('%s WeightDrop', (family, G) => {
  it('equals the plain layer on the row-masked weight_hh; its gradient maps back through the mask', () => {
    const rng = new Rng(11);
    const f32 = (n: number, s = 0.4) => Float32Array.from({ length: n }, () => rng.normal() * s);
    const w = { weightIh: f32(G * H * C), weightHh: f32(G * H * H), biasIh: f32(G * H), biasHh: f32(G * H) };
    const x = f32(T * N * C, 1);
    const dy = f32(T * N * H, 1);
    const p = 0.4;
    const noise = { seed: 3, epoch: 1, batch: 4, layer: 0 };
    const keep = expectedKeep(noise, PURPOSE.dropconnect, p, G * H);
    const scale = Math.fround(1 / (1 - p));
    const used = w.weightHh.map((v, i) => (keep[Math.floor(i / H)] ? Math.fround(v * scale) : 0));
    const base = { x, h0: null, c0: null, T, N, C, H, training: true, chunkFloats: 0 };
    const grads = () => ({ dWeightIh: new Float32Array(G * H * C), dWeightHh: new Float32Array(G * H * H), dBiasIh: new Float32Array(G * H), dBiasHh: new Float32Array(G * H) });
    const addon = native() as unknown as Record<string, (a: object) => { y: Float32Array; saved: unknown }>;
    const fwd = (o: object) => addon[`${family}Forward`]({ ...base, ...o });
    const bwd = (saved: unknown, g: object) => addon[`${family}Backward`]({ ...w, T, N, C, H, chunkFloats: 0, saved, dy, dhT: null, dhN: null, dcN: null, needDx: false, ...g });
    const dropped = fwd({ ...w, dropconnect: p, noise });
    const plain = fwd({ ...w, weightHh: used });
    expect(Array.from(dropped.y)).toEqual(Array.from(plain.y));
    const gd = grads();
    bwd(dropped.saved, gd);
    const gp = grads();
    bwd(plain.saved, { ...gp, weightHh: used });
    assertAllClose(gd.dWeightHh, Float64Array.from(gp.dWeightHh, (v, i) => (keep[Math.floor(i / H)] ? v * scale : 0)), F32_GEMM, 'dWeightHh');
    assertAllClose(gd.dWeightIh, Float64Array.from(gp.dWeightIh), F32_GEMM, 'dWeightIh');
    expect(keep.includes(0) && keep.includes(1)).toBe(true);
    // Evaluation: no mask.
    const ev = fwd({ ...w, training: false, dropconnect: p, noise: null });
    expect(Array.from(ev.y)).toEqual(Array.from(fwd({ ...w, training: false }).y));
    expect(() => fwd({ ...w, dropconnect: p, noise: null })).toThrow(/noise is required when training with dropconnect > 0/);
  });
});
