// One code path for a layer's sync and async calls: a layer writes its forward/backward as a
// generator that yields native requests; runSync answers them with the blocking native functions
// (library use), runAsync with the AsyncWorker variants (training loop, keeps the event loop free).
import { native, type NativeAddon } from '../native/addon.js';

type AsyncOp =
  | 'linearForward' | 'linearBackward' | 'gruForward' | 'gruBackward' | 'egruForward' | 'egruBackward'
  | 'lstmForward' | 'lstmBackward' | 'dropoutForward' | 'dropoutBackward' | 'embeddingForward' | 'embeddingBackward'
  | 'deltaGruForward' | 'deltaGruBackward' | 'deltaLstmForward' | 'deltaLstmBackward'
  | 'lifForward' | 'lifBackward' | 'lifReadoutForward' | 'lifReadoutBackward' | 'spikeCountRegularizer'
  | 'conv2dForward' | 'conv2dBackward' | 'maxPool2dForward' | 'maxPool2dBackward' | 'reluForward' | 'reluBackward';
type ArgsOf<K extends AsyncOp> = Parameters<NativeAddon[K]>[0];
type ResultOf<K extends AsyncOp> = ReturnType<NativeAddon[K]>;

export interface NativeRequest<K extends AsyncOp = AsyncOp> {
  op: K;
  args: ArgsOf<K>;
}

export type LayerSteps<R> = Generator<NativeRequest, R, unknown>;

/** Yields one native request and returns its typed result (use with `yield*`). */
export function* call<K extends AsyncOp>(op: K, args: ArgsOf<K>): Generator<NativeRequest, ResultOf<K>, unknown> {
  return (yield { op, args } as NativeRequest) as ResultOf<K>;
}

export function runSync<R>(steps: LayerSteps<R>): R {
  const addon = native() as unknown as Record<string, (a: unknown) => unknown>;
  let r = steps.next();
  while (!r.done) r = steps.next(addon[r.value.op](r.value.args));
  return r.value;
}

export async function runAsync<R>(steps: LayerSteps<R>): Promise<R> {
  const addon = native() as unknown as Record<string, (a: unknown) => Promise<unknown>>;
  let r = steps.next();
  while (!r.done) r = steps.next(await addon[`${r.value.op}Async`](r.value.args));
  return r.value;
}
