// Learning-rate schedules, as a function of the 0-based epoch.
export type ScheduleSpec =
  | { type: 'constant' }
  | { type: 'step'; stepSize: number; gamma: number }
  /** constant through epoch `start`, then CosineAnnealingLR(T_max = epochs − start, eta_min = 0) stepped once per later epoch (EvNN's LM) */
  | { type: 'cosine'; start: number; epochs: number };

export function learningRate(base: number, schedule: ScheduleSpec, epoch: number): number {
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'step':
      return base * Math.pow(schedule.gamma, Math.floor(epoch / schedule.stepSize));
    case 'cosine': {
      const k = Math.max(0, epoch - schedule.start);
      return (base * (1 + Math.cos((Math.PI * k) / (schedule.epochs - schedule.start)))) / 2;
    }
  }
}
