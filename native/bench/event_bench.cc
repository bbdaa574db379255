// Throughput of the event-driven products (event_matmul.h) next to the dense GEMM on the same
// shapes, at a given density (not a test; prints GMAC/s counting only the multiply-accumulates
// each does). Shapes: one EGRU step at N = 64 rows, H = 512 units, 3H = 1536 gate columns.
// Build: cmake -S native -B /tmp/evnn-bench -DEVNN_BUILD_BENCH=ON && cmake --build /tmp/evnn-bench
// --target evnn_event_bench; run: /tmp/evnn-bench/evnn_event_bench [threads] [density] [H]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "event_matmul.h"
#include "evnn/gemm.h"
#include "evnn/parallel.h"

namespace {

template <typename Fn>
double best_ms(const Fn& fn) {
  double best = 1e30;
  for (int r = 0; r < 20; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

void report(const char* what, double macs, double ms) {
  std::printf("%-44s %9.3f ms %8.1f GMAC/s\n", what, ms, macs / ms / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace evnn;
  const int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  const double density = argc > 2 ? std::atof(argv[2]) : 0.1;
  const int N = 64, H = argc > 3 ? std::atoi(argv[3]) : 512, G = 3 * H;
  set_num_threads(threads);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  std::vector<float> d(size_t(N) * G), b(size_t(H) * G), y(size_t(N) * H), c(size_t(N) * G);
  std::vector<float> out(size_t(N) * H), db(size_t(H) * G);
  std::vector<uint8_t> sel(size_t(N) * H);
  for (auto& v : d) v = u(rng) - 0.5f;
  for (auto& v : b) v = u(rng) - 0.5f;
  for (auto& v : y) v = u(rng) < density ? u(rng) : 0.0f;
  for (auto& s : sel) s = u(rng) < density;
  double n_sel = 0;
  for (auto s : sel) n_sel += s;
  EventRows events;
  find_events(y.data(), N, H, H, &events);
  std::printf("N=%d H=%d 3H=%d, density %.2f, %d thread(s)\n", N, H, G, density, threads);
  report("event_rows_times (R y over y's events)", double(events.count()) * G,
         best_ms([&] { event_rows_times(events, b.data(), G, c.data(), false); }));
  report("dense GEMM of the same product", double(N) * H * G,
         best_ms([&] { gemm(Trans::No, Trans::No, N, G, H, 1.0f, y.data(), H, b.data(), G, 0.0f, c.data(), G); }));
  report("event_outer_add (dR += yT dq over y's events)", double(events.count()) * G,
         best_ms([&] { event_outer_add(events, H, d.data(), G, db.data(), false); }));
  report("dense GEMM of the same product", double(N) * H * G,
         best_ms([&] { gemm(Trans::Yes, Trans::No, H, G, N, 1.0f, y.data(), H, d.data(), G, 0.0f, db.data(), G); }));
  report("selected_row_dots (dq RT at selected pairs)", n_sel * G,
         best_ms([&] { selected_row_dots(N, H, G, d.data(), b.data(), sel.data(), out.data()); }));
  report("dense GEMM of the same product", double(N) * H * G,
         best_ms([&] { gemm(Trans::No, Trans::Yes, N, H, G, 1.0f, d.data(), G, b.data(), G, 0.0f, out.data(), H); }));
  return 0;
}
