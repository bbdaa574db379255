// What the public DeltaGRU and DeltaLSTM layers share on top of TorchLayer (nn.GRU/nn.LSTM names,
// stacking, batchFirst, dropout): one set of delta settings for every cell of the stack, checked
// before any parameter is allocated, and gradients without initial-state entries (a delta network
// starts at zero: there is no h0 or c0 to differentiate).
import type { RecurrentCell } from './cell.js';
import { deltaSettings, type DeltaCellOptions, type DeltaCellSettings } from './delta-cell.js';
import { TorchLayer, type TorchLayerOptions } from './torch-layer.js';
import type { Tensor } from './tensor.js';

/** Thresholds thetaX, thetaH (default 0: the dense GRU/LSTM) and the fixed-point options, as the delta cells'. */
export interface DeltaLayerOptions extends TorchLayerOptions, Partial<DeltaCellSettings> {}

export interface DeltaLayerGradients {
  input: Tensor | null;
  params: Record<string, Float32Array>;
}

export abstract class DeltaLayer<ForwardOptions, Output, GradientsIn> extends TorchLayer<
  ForwardOptions, Output, GradientsIn, DeltaLayerGradients
> {
  readonly settings: DeltaCellSettings;

  protected constructor(owner: string, o: DeltaLayerOptions, initStream: number, cell: (c: DeltaCellOptions) => RecurrentCell) {
    const settings = deltaSettings(o, owner); // checked before any parameter is allocated
    super(owner, o, initStream, (c) => cell({ ...c, ...settings }));
    this.settings = settings;
  }
}
