// Engine tensors: parameters and their gradients live in engine-owned storage; TypeScript sees
// them through host() views (on the CPU the same memory), and op arguments take the tensor itself.
import { describe, expect, it } from 'vitest';
import { makeParameter } from '../../src/layers/parameters.js';
import { native } from '../../src/native/addon.js';

const addon = native();

describe('engine tensors', () => {
  it('are zero-filled; host() views share the engine memory; ops read and add into it', () => {
    const w = addon.engineTensor(6);
    expect(w.length).toBe(6);
    expect(w.device).toBe('cpu');
    const a = w.host();
    const b = w.host();
    expect(Array.from(a)).toEqual([0, 0, 0, 0, 0, 0]);
    a.set([1, 2, 3, 4, 5, 6]);
    expect(Array.from(b)).toEqual([1, 2, 3, 4, 5, 6]);
    // y = x Wᵀ with W [2, 3] given as the engine tensor: the op sees what the view wrote.
    const x = new Float32Array([1, 0, -1]);
    const { y } = addon.linearForward({ x, weight: w, bias: null, M: 1, I: 3, O: 2 });
    expect(Array.from(y)).toEqual([1 - 3, 4 - 6]);
    const dW = addon.engineTensor(6);
    addon.linearBackward({ x, weight: w, dy: new Float32Array([1, 2]), dWeight: dW, dBias: null, M: 1, I: 3, O: 2, needDx: false });
    addon.linearBackward({ x, weight: w, dy: new Float32Array([1, 2]), dWeight: dW, dBias: null, M: 1, I: 3, O: 2, needDx: false });
    expect(Array.from(dW.host())).toEqual([2, 0, -2, 4, 0, -4]);
  });

  it('a parameter is a pair of engine tensors whose host views are data and grad', () => {
    const p = makeParameter('w', [2, 3]);
    p.data[4] = 7;
    expect(p.tensor.host()[4]).toBe(7);
    p.gradTensor.host()[1] = 3;
    expect(p.grad[1]).toBe(3);
  });

  it('refuses a tensor of the wrong length naming the argument, bad sizes, and new Tensor()', () => {
    const w = addon.engineTensor(5);
    expect(() => addon.linearForward({ x: new Float32Array(3), weight: w, bias: null, M: 1, I: 3, O: 2 })).toThrow(
      /^linearForward: weight has length 5, expected O\*I = 6$/,
    );
    expect(() => addon.engineTensor(-1)).toThrow(RangeError);
    expect(() => addon.engineTensor(1.5)).toThrow(/n must be an integer >= 0/);
    expect(() => addon.engineTensor('3' as never)).toThrow(TypeError);
    const Tensor = (addon as unknown as { Tensor: new () => object }).Tensor;
    expect(() => new Tensor()).toThrow(/made by engineTensor/);
    expect(addon.engineTensor(0).host().length).toBe(0);
  });
});
