// Learning-rate schedules, as a function of the 0-based epoch.
export type ScheduleSpec = { type: 'constant' } | { type: 'step'; stepSize: number; gamma: number };

export function learningRate(base: number, schedule: ScheduleSpec, epoch: number): number {
  switch (schedule.type) {
    case 'constant':
      return base;
    case 'step':
      return base * Math.pow(schedule.gamma, Math.floor(epoch / schedule.stepSize));
  }
}
