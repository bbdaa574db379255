// Engine set-up shared by the steps: device choice and thread count.
import { availableParallelism } from 'node:os';
import { native } from '../native/addon.js';
import type { Config } from '../config/index.js';
import type { PipelineOptions } from './options.js';

export interface EngineSetup {
  device: 'cpu';
  threads: number;
}

export function setUpEngine(cfg: Config, opts: PipelineOptions): EngineSetup {
  if (cfg.device === 'cuda') {
    throw new Error('device: cuda was requested, but this build of evnn has no CUDA backend yet; use device: cpu or auto');
  }
  const threads = opts.threads ?? (cfg.threads > 0 ? cfg.threads : availableParallelism());
  native().setThreads(threads);
  return { device: 'cpu', threads };
}
