// The recurrent families a model can stack, by config name: how to build one layer's cell, the
// naming convention of its reference implementation, and the taps it offers. A new family adds
// one entry here (and its cell, binding and kernels); stacks and models do not change.
import { Rng } from '../util/rng.js';
import type { RecurrentCell } from './cell.js';
import type { DeltaCellSettings } from './delta-cell.js';
import { DeltaGRUCell } from './delta-gru-cell.js';
import { DeltaLSTMCell } from './delta-lstm-cell.js';
import { EGRUCell, type EGRUCellSettings } from './egru-cell.js';
import { GRUCell } from './gru-cell.js';
import { LSTMCell } from './lstm-cell.js';
import { evnnNaming, torchNaming, type Naming } from './naming.js';
import { RecurrentStack } from './stack.js';

export interface CellBuild {
  inputSize: number;
  hiddenSize: number;
  name: (local: string) => string;
  init: Rng;
  /** the family's own options (camelCase), already validated by the config schema */
  options: Record<string, unknown>;
  chunkFloats?: number;
}

export interface Family {
  naming: (prefix: string) => Naming;
  /** Rng stream of the initialisation (seed, stream): kept per family so runs stay reproducible */
  initStream: number;
  /** taps its cells offer (for config checks) */
  taps: readonly string[];
  cell(b: CellBuild): RecurrentCell;
}

/** One module per layer under `${prefix}{l}.`, each named as a single layer of its family (EvNN's LM: rnns.0.kernel, rnns.0.weight_ih_l0). */
export function perLayerNaming(type: FamilyName, prefix: string): Naming {
  const single = FAMILIES[type].naming('');
  return (local, layer) => `${prefix}${layer}.${single(local, 0, 1)}`;
}

export const FAMILIES = {
  gru: { naming: torchNaming, initStream: 0x6a0, taps: [], cell: (b: CellBuild) => new GRUCell({ ...b, dropconnect: b.options.dropconnect as number | undefined }) },
  lstm: { naming: torchNaming, initStream: 0x157, taps: [], cell: (b: CellBuild) => new LSTMCell({ ...b, dropconnect: b.options.dropconnect as number | undefined }) },
  egru: {
    naming: evnnNaming, initStream: 0xe6a0, taps: ['c', 'o', 'trace'],
    cell: (b: CellBuild) => new EGRUCell({ ...(b.options as Partial<EGRUCellSettings>), ...b }),
  },
  // gaochangw/DeltaRNN's layers: nn.GRU's / nn.LSTM's parameters and names, so a GRU (LSTM)
  // checkpoint loads into a DeltaGRU (DeltaLSTM) as it is.
  deltagru: {
    naming: torchNaming, initStream: 0xd6a0, taps: [],
    cell: (b: CellBuild) => new DeltaGRUCell({ ...(b.options as Partial<DeltaCellSettings>), ...b }),
  },
  deltalstm: {
    naming: torchNaming, initStream: 0xd157, taps: [],
    cell: (b: CellBuild) => new DeltaLSTMCell({ ...(b.options as Partial<DeltaCellSettings>), ...b }),
  },
} satisfies Record<string, Family>;

export type FamilyName = keyof typeof FAMILIES;

export interface StackSpec {
  type: FamilyName;
  /** one size per layer (EvNN's language model has a last layer of another width) */
  hiddenSizes: readonly number[];
  options: Record<string, unknown>;
  /** dropout between layers */
  dropout?: number;
  /** what a dropout mask element covers (see RecurrentStack.dropoutShare) */
  dropoutShare?: 0 | 1 | 2;
}

/**
 * A stack of one family's cells named `${prefix}<reference names>`, or by `naming` when given (a
 * model whose reference code keeps one module per layer, as EvNN's language model: rnns.{l}.…).
 */
export function buildStack(spec: StackSpec, inputSize: number, seed: number, prefix: string, naming?: Naming): RecurrentStack {
  const family: Family = FAMILIES[spec.type];
  naming ??= family.naming(prefix);
  const init = new Rng(seed, family.initStream);
  const L = spec.hiddenSizes.length;
  const cells = spec.hiddenSizes.map((H, l) => family.cell({
    inputSize: l === 0 ? inputSize : spec.hiddenSizes[l - 1], hiddenSize: H, name: (k) => naming!(k, l, L), init,
    options: spec.options,
  }));
  return new RecurrentStack(cells, { dropout: spec.dropout, dropoutShare: spec.dropoutShare });
}
