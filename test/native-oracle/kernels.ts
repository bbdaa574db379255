// Runs a block of tests once per GEMM kernel compiled into the addon (OpenBLAS and/or builtin).
import { afterAll, beforeAll } from 'vitest';
import { native, type GemmKernelName } from '../../src/native/addon.js';

/** The kernels this build has; loading the addon here makes a missing build fail the file loudly. */
export function compiledGemmKernels(): GemmKernelName[] {
  return native().info().gemmKernels;
}

/** Selects `kernel` for the enclosing describe block and restores the previous one after it. */
export function useGemmKernel(kernel: GemmKernelName): void {
  let previous: GemmKernelName | undefined;
  beforeAll(() => {
    previous = native().info().gemm;
    native().setGemmKernel(kernel);
  });
  afterAll(() => {
    if (previous) native().setGemmKernel(previous);
  });
}
