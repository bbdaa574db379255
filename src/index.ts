// Library entry point: layers with the reference implementations' parameter names.
export { Linear, type LinearOptions, type LinearGradients } from './layers/linear.js';
export { GRU, type GRUOptions, type GRUForwardOptions, type GRUOutput, type GRUGradients, type GRUGradientsIn } from './layers/gru.js';
export {
  EGRU, EGRU_DEFAULTS, type EGRUOptions, type EGRUForwardOptions, type EGRUOutput, type EGRUGradients, type EGRUGradientsIn,
} from './layers/egru.js';
export { Rng } from './util/rng.js';
export { tensor, type Tensor } from './layers/tensor.js';
export type { Parameter, StateRecord } from './layers/parameters.js';
export { native, NativeUnavailableError, type NativeInfo, type EgruStats } from './native/addon.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
