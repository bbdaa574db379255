// EVNN_HD marks a function as both host and device code when nvcc compiles it, so the CPU engine
// and the CUDA kernels (src/cuda) share one definition of the formula.
#pragma once
#ifdef __CUDACC__
#define EVNN_HD __host__ __device__
#else
#define EVNN_HD
#endif
