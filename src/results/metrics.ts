// metrics.arrow: one row per epoch and split (train, valid; test once at the end).
import { RowTable } from './row-table.js';

export type MetricRow = {
  epoch: number;
  split: 'train' | 'valid' | 'test';
  loss: number;
  accuracy: number;
  lr: number;
  samples_per_s: number;
  wall_s: number;
};

export class MetricsTable extends RowTable<MetricRow> {
  constructor() {
    super({ epoch: 'int32', split: 'utf8', loss: 'float64', accuracy: 'float64', lr: 'float64', samples_per_s: 'float64', wall_s: 'float64' });
  }

  static read(file: string): MetricsTable {
    return new MetricsTable().load(file);
  }
}
