// EvNN's convolutional front end for DVS128 Gesture (benchmarks/dvs_gesture/models.py, `conv`):
// an AlexNet-style nn.Sequential applied to every frame,
//   0 Conv(C→64, 11×11, stride 4, pad 2)  1 ReLU  2 MaxPool(3, 2)
//   3 Conv(64→192, 5×5, pad 2)            4 ReLU  5 MaxPool(3, 2)
//   6 Conv(192→384, 3×3, pad 1)           7 ReLU  8 MaxPool(3, 2) if frame_size >= 64, else Identity
//   9 Conv(384→256, 3×3, pad 1)          10 ReLU 11 MaxPool(3, 2) if frame_size >= 128, else Identity
//  12 Conv(256→256, 3×3, pad 1)          13 ReLU 14 Flatten 15 Linear(256 → 512)
// with the module's state_dict names (conv.0.weight … conv.15.bias), so a PyTorch checkpoint of
// EvNN's model loads. Input [T, N, C, H, W] (every frame of every sequence is one batch of T·N
// frames, as EvNN's optimised model reshapes), output [T, N, 512]. Dropout after the front end is
// the model's (EvNN's dropout_layers[0]), not part of this module.
import { Conv2d } from '../layers/conv2d.js';
import type { LayerSteps } from '../layers/drive.js';
import { ParametrizedLayer, type BackwardOptions } from '../layers/feed-forward-layer.js';
import { Linear } from '../layers/linear.js';
import { MaxPool2d } from '../layers/maxpool2d.js';
import type { Parameter } from '../layers/parameters.js';
import { expectShape, type Tensor } from '../layers/tensor.js';

/** EvNN's conv widths, in order. */
export const EVNN_CONV_CHANNELS = [64, 192, 384, 256, 256] as const;
export const EVNN_FRONT_END_FEATURES = 512;

export interface ConvFrontEndOptions {
  /** Height = width of the frames (EvNN's frame_size); decides the pools at indices 8 and 11. */
  frameSize: number;
  /** 1 for EvNN's 'mean' and 'diff' merges of the two polarities, 2 otherwise. Default 1. */
  inChannels?: number;
  /** The five conv widths; default EvNN's. Smaller ones keep the layer list and names (tests). */
  channels?: readonly [number, number, number, number, number];
  /** Width of the final Linear; default 512. */
  outFeatures?: number;
  /** Seed of PyTorch's default initialisation of every layer. */
  seed?: number;
  /** Parameter name prefix; default "conv." (the attribute name in EvNN's model). */
  prefix?: string;
}

/** needInputGrad (the gradient of the frames) defaults to false: they are data. */
export type ConvFrontEndBackwardOptions = BackwardOptions;

export interface ConvFrontEndGradients {
  /** [T, N, C, H, W], or null unless asked for */
  input: Tensor | null;
  /** Every parameter's gradient by name (copies of the grad buffers). */
  params: Record<string, Float32Array>;
}

// A conv with its ReLU fused (one engine pass; EvNN's ReLU(inplace=True) leaves nothing else to
// keep either) and the pool slot after it.
interface Block {
  conv: Conv2d;
  pool: MaxPool2d | null;
}

// The kernel, stride and padding of each conv, and whether a pool follows (by frame size).
const CONV_GEOMETRY = [
  { k: 11, s: 4, p: 2 },
  { k: 5, s: 1, p: 2 },
  { k: 3, s: 1, p: 1 },
  { k: 3, s: 1, p: 1 },
  { k: 3, s: 1, p: 1 },
] as const;
const hasPool = (block: number, frameSize: number): boolean => block < 2 || (block === 2 && frameSize >= 64) || (block === 3 && frameSize >= 128);
// Index in the nn.Sequential of block b's conv: each conv, ReLU and (possibly Identity) pool take
// one slot, and the last block has no pool slot.
const SEQUENTIAL_INDEX = [0, 3, 6, 9, 12] as const;
const LINEAR_INDEX = 15;

/** The side of the last conv's output for frames of this size (0 where a layer does not fit). */
export function frontEndMapSize(frameSize: number): number {
  let s = frameSize;
  CONV_GEOMETRY.forEach((g, b) => {
    s = s + 2 * g.p >= g.k ? Math.floor((s + 2 * g.p - g.k) / g.s) + 1 : 0;
    if (hasPool(b, frameSize)) s = s >= 3 ? Math.floor((s - 3) / 2) + 1 : 0;
  });
  return s;
}

/**
 * frames [T, N, C, H, W] → features [T, N, outFeatures], kept for backward in training mode; the
 * backward takes dy [T, N, outFeatures] and gives every parameter's gradient, and the frames' when
 * asked.
 */
export class ConvFrontEnd extends ParametrizedLayer<ConvFrontEndGradients> {
  protected readonly stateOwner = 'ConvFrontEnd';
  protected override readonly needInputGradDefault = false;
  readonly frameSize: number;
  readonly inChannels: number;
  readonly outFeatures: number;
  private readonly blocks: Block[];
  readonly linear: Linear;
  private savedFrames: { T: number; N: number; shape: readonly number[] } | null = null;

  constructor(o: ConvFrontEndOptions) {
    super();
    if (!Number.isInteger(o.frameSize) || o.frameSize < 1) throw new RangeError(`ConvFrontEnd: frameSize must be an integer >= 1, got ${o.frameSize}`);
    const map = frontEndMapSize(o.frameSize);
    // EvNN's Linear takes 256 = the last conv's channels, so the last map must be 1×1.
    if (map !== 1) {
      throw new RangeError(
        `ConvFrontEnd: frameSize ${o.frameSize} leaves a ${map}×${map} map before the Linear; EvNN's front end needs 1×1 ` +
          '(e.g. frameSize 32, 64 or 128)',
      );
    }
    this.frameSize = o.frameSize;
    this.inChannels = o.inChannels ?? 1;
    this.outFeatures = o.outFeatures ?? EVNN_FRONT_END_FEATURES;
    const channels = o.channels ?? EVNN_CONV_CHANNELS;
    const prefix = o.prefix ?? 'conv.';
    const seed = o.seed ?? 0;
    let inCh = this.inChannels;
    this.blocks = CONV_GEOMETRY.map((g, b) => {
      const idx = SEQUENTIAL_INDEX[b] as number;
      const conv = new Conv2d({
        inChannels: inCh, outChannels: channels[b] as number, kernelSize: g.k, stride: g.s, padding: g.p,
        relu: true, seed: seed * 16 + idx, prefix: `${prefix}${idx}.`,
      });
      inCh = channels[b] as number;
      return { conv, pool: hasPool(b, o.frameSize) ? new MaxPool2d({ kernelSize: 3, stride: 2 }) : null };
    });
    this.linear = new Linear({ inFeatures: inCh, outFeatures: this.outFeatures, seed: seed * 16 + LINEAR_INDEX, prefix: `${prefix}${LINEAR_INDEX}.` });
  }

  parameters(): Parameter[] {
    return [...this.blocks.flatMap((b) => b.conv.parameters()), ...this.linear.parameters()];
  }

  *forwardSteps(x: Tensor, training: boolean): LayerSteps<Tensor> {
    expectShape('x', x, [null, null, this.inChannels, this.frameSize, this.frameSize]);
    const [T, N] = x.shape as [number, number];
    let h: Tensor = { data: x.data, shape: [T * N, ...x.shape.slice(2)] };
    for (const b of this.blocks) {
      h = yield* b.conv.forwardSteps(h, training);
      if (b.pool) h = yield* b.pool.forwardSteps(h, training);
    }
    this.savedFrames = training ? { T, N, shape: [...x.shape] } : null;
    const y = yield* this.linear.forwardSteps({ data: h.data, shape: [T * N, h.data.length / (T * N)] }, training);
    return { data: y.data, shape: [T, N, this.outFeatures] };
  }

  *backwardSteps(dy: Tensor, needInputGrad: boolean): LayerSteps<ConvFrontEndGradients> {
    const s = this.savedFrames;
    if (!s) throw new Error('ConvFrontEnd.backward: call forward in training mode first');
    expectShape('dy', dy, [s.T, s.N, this.outFeatures]);
    const frames = s.T * s.N;
    const lin = yield* this.linear.backwardSteps({ data: dy.data, shape: [frames, this.outFeatures] }, true);
    const last = this.blocks[this.blocks.length - 1] as Block;
    let g: Tensor = { data: (lin.input as Tensor).data, shape: [frames, last.conv.outChannels, 1, 1] };
    for (let b = this.blocks.length - 1; b >= 0; b--) {
      const blk = this.blocks[b] as Block;
      if (blk.pool) g = yield* blk.pool.backwardSteps(g);
      const r = yield* blk.conv.backwardSteps(g, b > 0 || needInputGrad);
      if (r.input) g = r.input;
    }
    const params = Object.fromEntries(this.parameters().map((p) => [p.name, p.grad.slice()]));
    return { input: needInputGrad ? { data: g.data, shape: [...s.shape] } : null, params };
  }
}
