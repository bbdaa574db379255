// Loads test/fixtures/gru-torch-reference.json (made by make_gru_reference.py with PyTorch) and
// checks its shape, so a damaged fixture fails loudly instead of comparing garbage.
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
  grad: Record<string, TorchTensor>;
}

const FIXTURE = fileURLToPath(new URL('../fixtures/gru-torch-reference.json', import.meta.url));

function tensor(raw: unknown, where: string, shape: number[]): TorchTensor {
  const r = raw as { shape?: unknown; data?: unknown };
  if (!r || !Array.isArray(r.shape) || !Array.isArray(r.data)) throw new Error(`${FIXTURE}: ${where} is not {shape, data}`);
  if (JSON.stringify(r.shape) !== JSON.stringify(shape)) {
    throw new Error(`${FIXTURE}: ${where} has shape ${JSON.stringify(r.shape)}, expected ${JSON.stringify(shape)}`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  if (r.data.length !== size || !r.data.every((v) => typeof v === 'number')) {
    throw new Error(`${FIXTURE}: ${where} must hold ${size} numbers`);
  }
  return { shape, data: Float64Array.from(r.data as number[]) };
}

export function loadTorchGruReference(): TorchGruReference {
  const raw = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
  const dims = raw.dims as TorchGruReference['dims'];
  const { T, N, C, H, layers: L } = dims;
  const paramShapes = (l: number): Record<string, number[]> => ({
    [`weight_ih_l${l}`]: [3 * H, l === 0 ? C : H],
    [`weight_hh_l${l}`]: [3 * H, H],
    [`bias_ih_l${l}`]: [3 * H],
    [`bias_hh_l${l}`]: [3 * H],
  });
  const stateDict: Record<string, TorchTensor> = {};
  const grad: Record<string, TorchTensor> = {};
  const sd = raw.state_dict as Record<string, unknown>;
  const gr = raw.grad as Record<string, unknown>;
  for (let l = 0; l < L; l++) {
    for (const [name, shape] of Object.entries(paramShapes(l))) {
      stateDict[name] = tensor(sd[name], `state_dict.${name}`, shape);
      grad[name] = tensor(gr[name], `grad.${name}`, shape);
    }
  }
  grad.x = tensor(gr.x, 'grad.x', [T, N, C]);
  grad.h0 = tensor(gr.h0, 'grad.h0', [L, N, H]);
  return {
    dims,
    stateDict,
    x: tensor(raw.x, 'x', [T, N, C]),
    h0: tensor(raw.h0, 'h0', [L, N, H]),
    dy: tensor(raw.dy, 'dy', [T, N, H]),
    dhn: tensor(raw.dhn, 'dhn', [L, N, H]),
    y: tensor(raw.y, 'y', [T, N, H]),
    hn: tensor(raw.hn, 'hn', [L, N, H]),
    loss: raw.loss as number,
    grad,
  };
}

/** Layer l's parameters by their PyTorch names. */
export function torchLayer(ref: TorchGruReference, l: number): GruParams {
  return {
    weightIh: ref.stateDict[`weight_ih_l${l}`].data,
    weightHh: ref.stateDict[`weight_hh_l${l}`].data,
    biasIh: ref.stateDict[`bias_ih_l${l}`].data,
    biasHh: ref.stateDict[`bias_hh_l${l}`].data,
  };
}

// ---- LSTM: test/fixtures/lstm-torch-reference.json (make_lstm_reference.py, nn.LSTM) --------

export interface TorchLstmReference {
  dims: { T: number; N: number; C: number; H: number; layers: number };
  stateDict: Record<string, TorchTensor>;
  x: TorchTensor;
  h0: TorchTensor;
  c0: TorchTensor;
  dy: TorchTensor;
  dhn: TorchTensor;
  dcn: TorchTensor;
  y: TorchTensor;
  hn: TorchTensor;
  cn: TorchTensor;
  loss: number;
  /** by state_dict name, plus x, h0 and c0 */
  grad: Record<string, TorchTensor>;
}

const LSTM_FIXTURE = fileURLToPath(new URL('../fixtures/lstm-torch-reference.json', import.meta.url));

function fixtureTensor(file: string, raw: unknown, where: string, shape: number[]): TorchTensor {
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

export function loadTorchLstmReference(): TorchLstmReference {
  const raw = JSON.parse(readFileSync(LSTM_FIXTURE, 'utf8')) as Record<string, unknown>;
  const dims = raw.dims as TorchLstmReference['dims'];
  const { T, N, C, H, layers: L } = dims;
  const t = (v: unknown, where: string, shape: number[]) => fixtureTensor(LSTM_FIXTURE, v, where, shape);
  const paramShapes = (l: number): Record<string, number[]> => ({
    [`weight_ih_l${l}`]: [4 * H, l === 0 ? C : H],
    [`weight_hh_l${l}`]: [4 * H, H],
    [`bias_ih_l${l}`]: [4 * H],
    [`bias_hh_l${l}`]: [4 * H],
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
  grad.h0 = t(gr.h0, 'grad.h0', [L, N, H]);
  grad.c0 = t(gr.c0, 'grad.c0', [L, N, H]);
  return {
    dims,
    stateDict,
    x: t(raw.x, 'x', [T, N, C]),
    h0: t(raw.h0, 'h0', [L, N, H]),
    c0: t(raw.c0, 'c0', [L, N, H]),
    dy: t(raw.dy, 'dy', [T, N, H]),
    dhn: t(raw.dhn, 'dhn', [L, N, H]),
    dcn: t(raw.dcn, 'dcn', [L, N, H]),
    y: t(raw.y, 'y', [T, N, H]),
    hn: t(raw.hn, 'hn', [L, N, H]),
    cn: t(raw.cn, 'cn', [L, N, H]),
    loss: raw.loss as number,
    grad,
  };
}

/** Layer l's LSTM parameters by their PyTorch names. */
export function torchLstmLayer(ref: TorchLstmReference, l: number): LstmParams {
  return {
    weightIh: ref.stateDict[`weight_ih_l${l}`].data,
    weightHh: ref.stateDict[`weight_hh_l${l}`].data,
    biasIh: ref.stateDict[`bias_ih_l${l}`].data,
    biasHh: ref.stateDict[`bias_hh_l${l}`].data,
  };
}
