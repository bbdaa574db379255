// Optimizers with parameter groups (per-group lr multiplier and weight decay). The update
// arithmetic is native (native/src/cpu/optim.cc); this class picks groups, keeps the state
// buffers and exports/imports them for checkpoints.
import { native } from '../native/addon.js';
import type { Parameter } from '../layers/parameters.js';

export interface OptimizerSpec {
  type: 'sgd' | 'adam' | 'adamw';
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
}

export interface ParamGroupSpec {
  /** Regular expression tested against the parameter name; the first matching group wins. */
  match: string;
  lrScale: number;
  weightDecay?: number;
}

interface Slot {
  param: Parameter;
  lrScale: number;
  weightDecay: number;
  m: Float32Array | null;
  v: Float32Array | null;
}

export class Optimizer {
  private readonly slots: Slot[];
  /** Number of steps taken (Adam's bias correction; SGD's first-step momentum). */
  steps = 0;

  constructor(params: readonly Parameter[], readonly spec: OptimizerSpec, groups: readonly ParamGroupSpec[] = []) {
    const compiled = groups.map((g) => ({ ...g, re: new RegExp(g.match) }));
    // A tied weight appears once: one slot, one update from its one (summed) gradient.
    this.slots = [...new Set(params)].map((param) => {
      const g = compiled.find((c) => c.re.test(param.name));
      const needsM = spec.type !== 'sgd' || spec.momentum > 0;
      return {
        param,
        lrScale: g?.lrScale ?? 1,
        weightDecay: g?.weightDecay ?? spec.weightDecay,
        m: needsM ? new Float32Array(param.data.length) : null,
        v: spec.type === 'sgd' ? null : new Float32Array(param.data.length),
      };
    });
  }

  /** One update with learning rate lr (before group scaling), from each parameter's `grad` buffer. */
  step(lr: number): void {
    const addon = native();
    this.steps += 1;
    for (const s of this.slots) {
      const g = s.param.grad;
      const slotLr = lr * s.lrScale;
      if (this.spec.type === 'sgd') {
        addon.sgdStep(s.param.data, g, s.m, {
          lr: slotLr, momentum: this.spec.momentum, dampening: this.spec.dampening, weightDecay: s.weightDecay,
          nesterov: this.spec.nesterov, firstStep: this.steps === 1,
        });
      } else {
        addon.adamStep(s.param.data, g, s.m!, s.v!, {
          lr: slotLr, beta1: this.spec.betas[0], beta2: this.spec.betas[1], eps: this.spec.eps, weightDecay: s.weightDecay,
          step: this.steps, decoupled: this.spec.type === 'adamw',
        });
      }
    }
  }

  /** State buffers by name ("<param>.m", "<param>.v") for checkpoints. */
  stateTensors(): Record<string, { shape: readonly number[]; data: Float32Array }> {
    const out: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
    for (const s of this.slots) {
      if (s.m) out[`${s.param.name}.m`] = { shape: s.param.shape, data: s.m };
      if (s.v) out[`${s.param.name}.v`] = { shape: s.param.shape, data: s.v };
    }
    return out;
  }

  loadStateTensors(steps: number, get: (name: string) => Float32Array | undefined): void {
    for (const s of this.slots) {
      for (const key of ['m', 'v'] as const) {
        const buf = s[key];
        if (!buf) continue;
        const saved = get(`${s.param.name}.${key}`);
        if (!saved || saved.length !== buf.length) {
          throw new Error(`checkpoint: optimizer state ${s.param.name}.${key} is missing or has the wrong size`);
        }
        buf.set(saved);
      }
    }
    this.steps = steps;
  }
}
