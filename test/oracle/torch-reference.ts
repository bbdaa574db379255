// Loads the PyTorch fixtures test/fixtures/gru-torch-reference.json (make_gru_reference.py,
// nn.GRU) and test/fixtures/lstm-torch-reference.json (make_lstm_reference.py, nn.LSTM) and checks
// every tensor's shape, so a damaged fixture fails loudly instead of comparing garbage. Both are
// read by one loader: they differ only in the gate count (3 or 4 blocks of H rows per parameter)
// and in the LSTM's cell-state tensors c0, dcn, cn and grad.c0.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GruParams } from './gru.js';
import type { LstmParams } from './lstm.js';

export interface TorchTensor {
  shape: number[];
  data: Float64Array;
}

export interface TorchGruReference {
  dims: { T: number; N: number; C: number; H: number; layers: number };
  stateDict: Record<string, TorchTensor>;
  x: TorchTensor;
  h0: TorchTensor;
  dy: TorchTensor;
  dhn: TorchTensor;
  y: TorchTensor;
  hn: TorchTensor;
  loss: number;
  /** by state_dict name, plus x and h0 */
  grad: Record<string, TorchTensor>;
}

export interface TorchLstmReference extends TorchGruReference {
  c0: TorchTensor;
  dcn: TorchTensor;
  cn: TorchTensor;
  /** by state_dict name, plus x, h0 and c0 */
  grad: Record<string, TorchTensor>;
}

const GRU_FIXTURE = fileURLToPath(new URL('../fixtures/gru-torch-reference.json', import.meta.url));
const LSTM_FIXTURE = fileURLToPath(new URL('../fixtures/lstm-torch-reference.json', import.meta.url));

/** `raw` as a {shape, data} tensor of exactly `shape`, else an error naming the file and `where`. */
function readTensor(file: string, raw: unknown, where: string, shape: number[]): TorchTensor {
  const r = raw as { shape?: unknown; data?: unknown };
  if (!r || !Array.isArray(r.shape) || !Array.isArray(r.data)) throw new Error(`${file}: ${where} is not {shape, data}`);
  if (JSON.stringify(r.shape) !== JSON.stringify(shape)) {
    throw new Error(`${file}: ${where} has shape ${JSON.stringify(r.shape)}, expected ${JSON.stringify(shape)}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (r.data.length !== size || !r.data.every((v) => typeof v === 'number')) {
    throw new Error(`${file}: ${where} must hold ${size} numbers`);
  }
  return { shape, data: Float64Array.from(r.data as number[]) };
}

/**
 * One fixture of a `gates`-gate PyTorch RNN stack: each layer's parameters and their gradients
 * (by state_dict name, [gates·H, C or H] and [gates·H]), x, h0, dy, dhn, y, hn, grad.x and
 * grad.h0, plus the family's `states`, more [layers, N, H] tensors at the top level, and
 * `stateGrads`, more [layers, N, H] gradients in grad.
 */
function loadTorchReference<K extends string>(
  file: string,
  gates: number,
  states: readonly K[],
  stateGrads: readonly string[],
): TorchGruReference & Record<K, TorchTensor> {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const dims = raw.dims as TorchGruReference['dims'];
  const { T, N, C, H, layers: L } = dims;
  const t = (v: unknown, where: string, shape: number[]) => readTensor(file, v, where, shape);
  const paramShapes = (l: number): Record<string, number[]> => ({
    [`weight_ih_l${l}`]: [gates * H, l === 0 ? C : H],
    [`weight_hh_l${l}`]: [gates * H, H],
    [`bias_ih_l${l}`]: [gates * H],
    [`bias_hh_l${l}`]: [gates * H],
  });
  const stateDict: Record<string, TorchTensor> = {};
  const grad: Record<string, TorchTensor> = {};
  const sd = raw.state_dict as Record<string, unknown>;
  const gr = raw.grad as Record<string, unknown>;
  for (let l = 0; l < L; l++) {
    for (const [name, shape] of Object.entries(paramShapes(l))) {
      stateDict[name] = t(sd[name], `state_dict.${name}`, shape);
      grad[name] = t(gr[name], `grad.${name}`, shape);
    }
  }
  grad.x = t(gr.x, 'grad.x', [T, N, C]);
  for (const name of ['h0', ...stateGrads]) grad[name] = t(gr[name], `grad.${name}`, [L, N, H]);
  const extra = Object.fromEntries(states.map((name) => [name, t(raw[name], name, [L, N, H])])) as Record<K, TorchTensor>;
  return {
    dims,
    stateDict,
    x: t(raw.x, 'x', [T, N, C]),
    h0: t(raw.h0, 'h0', [L, N, H]),
    dy: t(raw.dy, 'dy', [T, N, H]),
    dhn: t(raw.dhn, 'dhn', [L, N, H]),
    y: t(raw.y, 'y', [T, N, H]),
    hn: t(raw.hn, 'hn', [L, N, H]),
    loss: raw.loss as number,
    grad,
    ...extra,
  };
}

export function loadTorchGruReference(): TorchGruReference {
  return loadTorchReference(GRU_FIXTURE, 3, [], []);
}

export function loadTorchLstmReference(): TorchLstmReference {
  return loadTorchReference(LSTM_FIXTURE, 4, ['c0', 'dcn', 'cn'], ['c0']);
}

/** Layer l's parameters by their PyTorch names (the same four for the GRU and the LSTM). */
function layerParams(ref: TorchGruReference, l: number): GruParams & LstmParams {
  return {
    weightIh: ref.stateDict[`weight_ih_l${l}`].data,
    weightHh: ref.stateDict[`weight_hh_l${l}`].data,
    biasIh: ref.stateDict[`bias_ih_l${l}`].data,
    biasHh: ref.stateDict[`bias_hh_l${l}`].data,
  };
}

/** Layer l's GRU parameters by their PyTorch names. */
export function torchLayer(ref: TorchGruReference, l: number): GruParams {
  return layerParams(ref, l);
}

/** Layer l's LSTM parameters by their PyTorch names. */
export function torchLstmLayer(ref: TorchLstmReference, l: number): LstmParams {
  return layerParams(ref, l);
}
