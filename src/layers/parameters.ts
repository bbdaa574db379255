// Named parameters with their shapes: the unit of state()/loadState(), checkpoints and optimizers.
// Names are the reference implementations' (PyTorch / EvNN), so checkpoints move without conversion.
import { native, type EngineTensor } from '../native/addon.js';
import type { Rng } from '../util/rng.js';
import { numel, type Tensor } from './tensor.js';

/**
 * A weight and its one gradient buffer, both engine tensors (`tensor`, `gradTensor`: what native
 * calls take); `data` and `grad` are their host views (on the CPU the same memory). Every backward
 * pass that uses the weight adds into the gradient (+=), so a weight used twice (a tied embedding
 * and decoder) gets both contributions; models zero it before each step. Gradients are keyed by
 * this object, never by the name.
 */
export interface Parameter {
  name: string;
  shape: readonly number[];
  data: Float32Array;
  grad: Float32Array;
  tensor: EngineTensor;
  gradTensor: EngineTensor;
}

export type StateRecord = Record<string, Tensor>;

export function makeParameter(name: string, shape: readonly number[]): Parameter {
  const n = numel(shape);
  const tensor = native().engineTensor(n);
  const gradTensor = native().engineTensor(n);
  return { name, shape: [...shape], data: tensor.host(), grad: gradTensor.host(), tensor, gradTensor };
}

/** Zeroes every parameter's gradient buffer (before a training step). */
export function zeroGrads(params: readonly Parameter[]): void {
  for (const p of params) p.grad.fill(0);
}

export function fillUniform(p: Parameter, rng: Rng, bound: number): void {
  for (let i = 0; i < p.data.length; i++) p.data[i] = (2 * rng.uniform() - 1) * bound;
}

export function stateOf(params: readonly Parameter[]): StateRecord {
  const out: StateRecord = {};
  for (const p of params) out[p.name] = { data: p.data.slice(), shape: [...p.shape] };
  return out;
}

/**
 * Copies a state record into the parameters. Every parameter must be present with its exact
 * shape, and no extra names are accepted (a typo must not load silently).
 */
export function loadStateInto(params: readonly Parameter[], record: StateRecord, owner: string): void {
  const known = new Set(params.map((p) => p.name));
  const extra = Object.keys(record).filter((k) => !known.has(k));
  if (extra.length > 0) throw new RangeError(`${owner}.loadState: unknown parameter(s) ${extra.join(', ')}`);
  for (const p of params) {
    const t = record[p.name];
    if (!t) throw new RangeError(`${owner}.loadState: missing parameter ${p.name}`);
    if (t.shape.length !== p.shape.length || t.shape.some((s, i) => s !== p.shape[i])) {
      throw new RangeError(`${owner}.loadState: ${p.name} has shape [${t.shape.join(', ')}], expected [${p.shape.join(', ')}]`);
    }
    if (!(t.data instanceof Float32Array) || t.data.length !== p.data.length) {
      throw new TypeError(`${owner}.loadState: ${p.name} must be a Float32Array of ${p.data.length} elements`);
    }
    p.data.set(t.data);
  }
}
