// A small fixed thread pool for the CPU kernels. Work is split into contiguous chunks whose
// boundaries depend only on the range and the thread count, so results are reproducible for a
// given thread count.
#pragma once
#include <cstdint>
#include <functional>

namespace evnn {

// Number of worker threads used by CPU kernels (including the calling thread). Defaults to
// std::thread::hardware_concurrency(); also sets OpenBLAS's thread count when it is linked.
void set_num_threads(int n);
int num_threads();

// Calls fn(begin_i, end_i) on disjoint contiguous sub-ranges of [begin, end) in parallel and
// returns when all are done. grain: the smallest chunk worth a thread.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn);

}  // namespace evnn
