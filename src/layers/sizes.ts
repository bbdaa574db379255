// The size checks every public recurrent layer makes, with its name in the message.
export function checkLayerSizes(owner: string, o: { inputSize: number; hiddenSize: number; numLayers?: number }): number {
  const numLayers = o.numLayers ?? 1;
  for (const [k, v] of [['inputSize', o.inputSize], ['hiddenSize', o.hiddenSize], ['numLayers', numLayers]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${owner}: ${k} must be an integer >= 1, got ${v}`);
  }
  return numLayers;
}
