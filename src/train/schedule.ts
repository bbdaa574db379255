// Learning-rate schedules, as a function of the 0-based epoch (the plateau schedule, which follows
// the validation loss, is stepped by the training loop: plateau.ts).
import type { PlateauSpec } from './plateau.js';

export type ScheduleSpec =
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma: number }
  /** constant through epoch `start`, then CosineAnnealingLR(T_max = epochs − start, eta_min = 0) stepped once per later epoch (EvNN's LM) */
  | { type: 'cosine'; start: number; epochs: number }
  /** ReduceLROnPlateau on the validation loss (plateau.ts): the rate depends on the run's losses, so the loop carries it */
  | ({ type: 'plateau' } & PlateauSpec);

export function learningRate(base: number, schedule: ScheduleSpec, epoch: number): number {
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'step':
      return base * Math.pow(schedule.gamma, Math.floor(epoch / schedule.stepSize));
    case 'plateau':
      throw new Error('the plateau schedule follows the validation loss: the training loop steps it (plateauStep)');
    case 'cosine': {
      const k = Math.max(0, epoch - schedule.start);
      return (base * (1 + Math.cos((Math.PI * k) / (schedule.epochs - schedule.start)))) / 2;
    }
  }
}
