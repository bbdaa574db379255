// ReduceLROnPlateau as PyTorch computes it (mode 'min', threshold_mode 'rel', cooldown 0): after
// each epoch's validation loss, an epoch whose loss is below best·(1 − threshold) resets the bad
// count; after more than `patience` bad epochs in a row the learning rate is multiplied by `factor`,
// not below `minLr` (a change smaller than 1e-8 is skipped), and the count restarts. DeltaRNN's
// speech training steps it on the validation loss (factor 0.8, patience 4, min lr 3e-4).

export interface PlateauSpec {
  factor: number;
  patience: number;
  threshold: number;
  minLr: number;
}

/** What the schedule carries from epoch to epoch (saved in last.safetensors, so a resumed run continues it). */
export interface PlateauState {
  /** the learning rate of the next epoch */
  lr: number;
  /** the best validation loss so far (Infinity before the first) */
  best: number;
  /** epochs in a row without improvement */
  bad: number;
}

export const plateauStart = (lr: number): PlateauState => ({ lr, best: Infinity, bad: 0 });

/** The state after an epoch whose validation loss was `loss` (a NaN loss counts as no improvement). */
export function plateauStep(spec: PlateauSpec, s: PlateauState, loss: number): PlateauState {
  let { lr, best, bad } = s;
  if (loss < best * (1 - spec.threshold)) {
    best = loss;
    bad = 0;
  } else {
    bad += 1;
  }
  if (bad > spec.patience) {
    const next = Math.max(lr * spec.factor, spec.minLr);
    if (lr - next > 1e-8) lr = next;
    bad = 0;
  }
  return { lr, best, bad };
}
