// Library entry point: layers with the reference implementations' parameter names.
export { Linear, type LinearOptions, type LinearGradients } from './layers/linear.js';
export { GRU, type GRUOptions, type GRUForwardOptions, type GRUOutput, type GRUGradients, type GRUGradientsIn } from './layers/gru.js';
export {
  EGRU, EGRU_DEFAULTS, type EGRUOptions, type MaskKey, type EGRUForwardOptions, type EGRUOutput, type EGRUGradients, type EGRUGradientsIn,
} from './layers/egru.js';
export {
  LSTM, type LSTMOptions, type LSTMForwardOptions, type LSTMOutput, type LSTMGradients, type LSTMGradientsIn,
} from './layers/lstm.js';
export {
  DeltaGRU, type DeltaGRUOptions, type DeltaGRUForwardOptions, type DeltaGRUOutput, type DeltaGRUGradients, type DeltaGRUGradientsIn,
} from './layers/delta-gru.js';
export {
  DeltaLSTM, type DeltaLSTMOptions, type DeltaLSTMForwardOptions, type DeltaLSTMOutput, type DeltaLSTMGradients, type DeltaLSTMGradientsIn,
} from './layers/delta-lstm.js';
export { RecurrentStack, type StackForward, type StackForwardOptions, type StackGradients, type StackBackward } from './layers/stack.js';
export type { RecurrentCell, CellState, CellInput, CellForward, CellGradients, CellBackward } from './layers/cell.js';
export { GRUCell } from './layers/gru-cell.js';
export { LSTMCell } from './layers/lstm-cell.js';
export { EGRUCell } from './layers/egru-cell.js';
export { DeltaGRUCell } from './layers/delta-gru-cell.js';
export { DELTA_DEFAULTS, type DeltaCellSettings } from './layers/delta-cell.js';
export { DeltaLSTMCell } from './layers/delta-lstm-cell.js';
export { FAMILIES, buildStack, type StackSpec } from './layers/families.js';
export { torchNaming, evnnNaming, type Naming } from './layers/naming.js';
export { zeroGrads } from './layers/parameters.js';
export { Rng } from './util/rng.js';
export { tensor, type Tensor } from './layers/tensor.js';
export type { Parameter, StateRecord } from './layers/parameters.js';
export { native, NativeUnavailableError, type NativeInfo, type EgruStats, type DeltaStats, type Saved, type NoiseKey } from './native/addon.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export {
  LIF, type LIFOptions, type LIFOutput, type LIFSaved, type LIFGradients, type LIFGradientsIn, type LIFForwardStats, type LIFBackwardStats,
  type LifBackwardKind, type LifInit,
} from './layers/lif.js';
export {
  SpikingClassifier, type SpikingClassifierOptions, type SpikeRegularizerOptions, type SpikingLossAndGrads, type SpikingForward,
  type SpikingBatchStats, type ReadoutReduce,
} from './models/spiking-classifier.js';
export type { SpikeEvents } from './layers/tensor.js';
export { Conv2d, type Conv2dOptions, type Conv2dGradients, type Conv2dBackwardOptions } from './layers/conv2d.js';
export { MaxPool2d, type MaxPool2dOptions } from './layers/maxpool2d.js';
export { ReLU } from './layers/relu.js';
export {
  ConvFrontEnd, EVNN_CONV_CHANNELS, EVNN_FRONT_END_FEATURES, frontEndMapSize, type ConvFrontEndOptions, type ConvFrontEndGradients,
  type ConvFrontEndBackwardOptions,
} from './models/conv-front-end.js';
export { GestureClassifier, type GestureClassifierOptions } from './models/gesture-classifier.js';
