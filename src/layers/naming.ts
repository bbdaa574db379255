// Parameter naming: one adapter per reference convention maps a cell's local names (weight_ih,
// kernel, ...) to the names a checkpoint uses, so evnn checkpoints load in the reference code.
export type Naming = (local: string, layer: number, numLayers: number) => string;

/** PyTorch nn.GRU / nn.LSTM: weight_ih_l0, weight_hh_l1, ... */
export const torchNaming = (prefix = ''): Naming => (local, layer) => `${prefix}${local}_l${layer}`;

/** EvNN's EGRU: kernel, ... for one layer; rnns.{l}.kernel, ... for a stack (its language model's convention). */
export const evnnNaming = (prefix = ''): Naming => (local, layer, numLayers) =>
  numLayers === 1 ? `${prefix}${local}` : `${prefix}rnns.${layer}.${local}`;
