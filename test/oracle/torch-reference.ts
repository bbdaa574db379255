// Loads test/fixtures/gru-torch-reference.json (made by make_gru_reference.py with PyTorch) and
// checks its shape, so a damaged fixture fails loudly instead of comparing garbage.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GruParams } from './gru.js';

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
