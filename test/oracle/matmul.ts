// Plain row-major matrix product C = alpha op(A) op(B) + beta C in float64, for checking the
// engine's GEMM kernels directly. op(A) is [M,K], op(B) is [K,N].
export function matmul(
  transA: boolean, transB: boolean, M: number, N: number, K: number, alpha: number,
  A: Float64Array, B: Float64Array, beta: number, C: Float64Array | null,
): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * M + i] : A[i * K + k];
        const b = transB ? B[j * K + k] : B[k * N + j];
        s += a * b;
      }
      out[i * N + j] = alpha * s + (C ? beta * C[i * N + j] : 0);
    }
  }
  return out;
}
