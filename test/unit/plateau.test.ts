// The plateau schedule (src/train/plateau.ts) against PyTorch's ReduceLROnPlateau (mode 'min',
// threshold_mode 'rel', cooldown 0, eps 1e-8): the learning rate, best and bad count after every
// epoch of hand-written loss sequences, as torch computed them (test/fixtures/plateau-torch-
// reference.json, made by make_plateau_reference.py), plus the same rules worked by hand. And the
// schedule's state in last.safetensors: saved and restored (best = Infinity included), and a
// damaged plateau entry named with its file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { makeParameter } from '../../src/layers/parameters.js';
import { readSafetensors, SafetensorsError, writeSafetensors } from '../../src/io/safetensors.js';
import { loadLast, saveLast, type LoopState } from '../../src/train/checkpoint.js';
import { Optimizer, type OptimizerSpec } from '../../src/train/optimizer.js';
import { plateauStart, plateauStep, type PlateauSpec, type PlateauState } from '../../src/train/plateau.js';
import { tempDir } from '../data/fixtures.js';

/** JSON has no NaN or Infinity: the fixture writes them as strings. */
type Num = number | string;

interface TorchCase {
  name: string;
  factor: number;
  patience: number;
  threshold: number;
  min_lr: number;
  lr: number;
  losses: Num[];
  lrs: number[];
  best: Num[];
  bad: number[];
}

const FIXTURE = fileURLToPath(new URL('../fixtures/plateau-torch-reference.json', import.meta.url));
const reference = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { generator: string; torch_version: string; cases: TorchCase[] };

function run(spec: PlateauSpec, lr: number, losses: readonly number[]): PlateauState[] {
  const out: PlateauState[] = [];
  let s = plateauStart(lr);
  for (const loss of losses) {
    s = plateauStep(spec, s, loss);
    out.push(s);
  }
  return out;
}

const DELTARNN: PlateauSpec = { factor: 0.8, patience: 4, threshold: 1e-4, minLr: 3e-4 };

describe('plateauStep vs PyTorch ReduceLROnPlateau', () => {
  it('the fixture is what make_plateau_reference.py writes', () => {
    expect(reference.generator).toBe('test/fixtures/make_plateau_reference.py');
    expect(reference.cases.map((c) => c.name)).toEqual([
      'deltarnn-defaults-plateau-to-floor', 'improvement-resets-count', 'relative-threshold', 'nan-is-bad',
      'change-below-eps-skipped', 'change-above-eps-to-floor', 'patience-zero',
    ]);
    for (const c of reference.cases) {
      expect(c.lrs.length, c.name).toBe(c.losses.length);
      expect(c.best.length, c.name).toBe(c.losses.length);
      expect(c.bad.length, c.name).toBe(c.losses.length);
    }
  });

  for (const c of reference.cases) {
    it(`${c.name}: lr, best and bad count after every epoch`, () => {
      const got = run({ factor: c.factor, patience: c.patience, threshold: c.threshold, minLr: c.min_lr }, c.lr, c.losses.map(Number));
      // The same float64 operations (lr · factor, max with min_lr) as torch: equal to the bit.
      expect(got.map((s) => s.lr)).toEqual(c.lrs);
      expect(got.map((s) => s.best)).toEqual(c.best.map(Number));
      expect(got.map((s) => s.bad)).toEqual(c.bad);
    });
  }
});

describe('plateauStep by hand', () => {
  it('starts at the given rate with best = Infinity and no bad epochs', () => {
    expect(plateauStart(0.001)).toEqual({ lr: 0.001, best: Infinity, bad: 0 });
  });

  it('the first reduction comes after patience + 1 bad epochs, and the count restarts after it', () => {
    const s = run(DELTARNN, 1e-3, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // epoch 0 improves on Infinity; epochs 1…4 are 4 bad ones (= patience), epoch 5 the fifth
    expect(s.map((x) => x.bad)).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0]);
    expect(s.map((x) => x.lr)).toEqual([1e-3, 1e-3, 1e-3, 1e-3, 1e-3, 0.8e-3, 0.8e-3, 0.8e-3, 0.8e-3, 0.8e-3, 0.8e-3 * 0.8]);
  });

  it('never below min_lr', () => {
    const s = run(DELTARNN, 1e-3, new Array<number>(60).fill(2));
    expect(Math.min(...s.map((x) => x.lr))).toBe(3e-4);
    expect(s[s.length - 1].lr).toBe(3e-4);
  });

  it('a change smaller than 1e-8 is skipped (and the count restarts all the same)', () => {
    const spec = { ...DELTARNN, patience: 0 };
    expect(plateauStep(spec, { lr: 3e-4 + 9e-9, best: 1, bad: 0 }, 2)).toEqual({ lr: 3e-4 + 9e-9, best: 1, bad: 0 });
    expect(plateauStep(spec, { lr: 3e-4 + 1.1e-8, best: 1, bad: 0 }, 2)).toEqual({ lr: 3e-4, best: 1, bad: 0 });
  });

  it('improvement needs loss < best·(1 − threshold)', () => {
    const spec = { ...DELTARNN, threshold: 0.1 };
    const s0 = { lr: 1, best: 1, bad: 0 };
    expect(plateauStep(spec, s0, 0.95)).toEqual({ lr: 1, best: 1, bad: 1 }); // lower, but not by 10%
    expect(plateauStep(spec, s0, 0.9)).toEqual({ lr: 1, best: 1, bad: 1 }); // equal to best·0.9: not below
    expect(plateauStep(spec, s0, 0.89)).toEqual({ lr: 1, best: 0.89, bad: 0 });
    expect(plateauStep(spec, { ...s0, bad: 3 }, 1.5)).toEqual({ lr: 1, best: 1, bad: 4 });
  });

  it('NaN (and Infinity) count as bad epochs and never become best', () => {
    const s = run({ ...DELTARNN, patience: 1 }, 1e-3, [NaN, NaN, Infinity, 0.5, NaN]);
    expect(s.map((x) => x.best)).toEqual([Infinity, Infinity, Infinity, 0.5, 0.5]);
    expect(s.map((x) => x.bad)).toEqual([1, 0, 1, 0, 1]);
    expect(s.map((x) => x.lr)).toEqual([1e-3, 0.8e-3, 0.8e-3, 0.8e-3, 0.8e-3]);
  });

  it('does not change the state it is given', () => {
    const s = { lr: 1, best: 1, bad: 4 };
    plateauStep(DELTARNN, s, 2);
    expect(s).toEqual({ lr: 1, best: 1, bad: 4 });
  });
});

describe('the plateau state in last.safetensors', () => {
  const tmp = tempDir('evnn-plateau-');
  afterAll(() => tmp.cleanup());
  const spec: OptimizerSpec = { type: 'adam', lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, momentum: 0, dampening: 0, nesterov: false };

  function setup() {
    const p = makeParameter('cl.weight', [2, 3]);
    p.data.set([1, 2, 3, 4, 5, 6]);
    return { params: [p], opt: new Optimizer([p], spec) };
  }

  it('saveLast → loadLast gives the plateau state back, best = Infinity included', () => {
    const { params, opt } = setup();
    for (const [i, plateau] of [
      { lr: 3.2768e-4, best: 0.4321, bad: 3 },
      { lr: 1e-3, best: Infinity, bad: 0 },
      { lr: 0.00030001999999999996, best: 1.2345678901234567, bad: 4 },
    ].entries()) {
      const file = join(tmp.dir, `last-${i}.safetensors`);
      const loop: LoopState = { epochsDone: 7, bestValidMetric: 0.875, bestEpoch: 5, plateau };
      saveLast(file, params, opt, loop, 'abcd1234');
      const back = loadLast(file, setup().opt, 'abcd1234');
      expect(back.loop).toEqual(loop);
      expect(back.loop.plateau!.lr).toBe(plateau.lr); // to the bit
    }
  });

  it('a loop without a plateau state saves none and loads none', () => {
    const { params, opt } = setup();
    const file = join(tmp.dir, 'no-plateau.safetensors');
    saveLast(file, params, opt, { epochsDone: 1, bestValidMetric: 0.5, bestEpoch: 0 }, 'h');
    expect(readSafetensors(file).metadata.plateau).toBeUndefined();
    const back = loadLast(file, setup().opt, 'h');
    expect(back.loop).toEqual({ epochsDone: 1, bestValidMetric: 0.5, bestEpoch: 0 });
    expect('plateau' in back.loop).toBe(false);
  });

  /** A last.safetensors like `good` but with `text` as its plateau metadata; the error loadLast raises. */
  function loadDamaged(text: string): unknown {
    const { params, opt } = setup();
    const good = join(tmp.dir, 'good.safetensors');
    saveLast(good, params, opt, { epochsDone: 1, bestValidMetric: 0.5, bestEpoch: 0, plateau: { lr: 1e-3, best: Infinity, bad: 0 } }, 'h');
    const { tensors, metadata } = readSafetensors(good);
    const record = Object.fromEntries([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data }]));
    const file = join(tmp.dir, 'damaged.safetensors');
    writeSafetensors(file, record, { ...metadata, plateau: text });
    try {
      loadLast(file, setup().opt, 'h');
    } catch (e) {
      return e;
    }
    return undefined;
  }

  function expectNamed(err: unknown, text: string, why: RegExp): void {
    const file = join(tmp.dir, 'damaged.safetensors');
    expect(err, text).toBeInstanceOf(SafetensorsError);
    expect((err as SafetensorsError).file).toBe(file);
    expect((err as Error).message, text).toMatch(why);
    expect((err as Error).message.startsWith(`${file}: `)).toBe(true);
  }

  it('a damaged plateau entry is a SafetensorsError naming the file and showing the text', () => {
    for (const [text, why] of [
      ['{lr: 0.001', /metadata plateau is not JSON: \{lr: 0\.001/],
      ['{"lr":"0.001","best":1,"bad":0}', /metadata plateau is not \{lr, best, bad\}: \{"lr":"0\.001","best":1,"bad":0\}/],
      ['{"lr":0.001,"bad":0}', /metadata plateau is not \{lr, best, bad\}/],
      ['{"lr":0.001,"best":1}', /metadata plateau is not \{lr, best, bad\}/],
      ['[1, 2, 3]', /metadata plateau is not \{lr, best, bad\}: \[1, 2, 3\]/],
      ['7', /metadata plateau is not \{lr, best, bad\}: 7/],
    ] as const) {
      expectNamed(loadDamaged(text), text, why);
    }
  });

  // JSON.parse('null') is an object-less value: it must still name the file.
  it('a plateau entry of "null" is a SafetensorsError too', () => {
    expectNamed(loadDamaged('null'), 'null', /metadata plateau is not \{lr, best, bad\}: null/);
  });
});
