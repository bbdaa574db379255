// Oracle for torch.nn.utils.clip_grad_norm_ (L2): the norm over all gradients together; when
// maxNorm / (norm + 1e-6) < 1 every gradient is scaled by that factor. Returns the norm before.
export function globalNorm(grads: Float64Array[]): number {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

export function clipGlobalNorm(grads: Float64Array[], maxNorm: number): number {
  const norm = globalNorm(grads);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
