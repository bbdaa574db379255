// Standalone check of evnn::parallel_for (no Node): chunking depends only on (range, grain,
// threads); every index runs exactly once; nested calls and concurrent callers run inline
// without deadlock; an exception in a chunk reaches the caller; resizing works between jobs.
// Exit status 0 only when every check passes.
#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "evnn/parallel.h"

namespace {

int g_failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    ++g_failures;
    std::printf("FAIL %s\n", what.c_str());
  }
}

using Chunks = std::vector<std::pair<int64_t, int64_t>>;

Chunks chunks_of(int64_t b, int64_t e, int64_t grain) {
  std::vector<std::pair<int64_t, int64_t>> seen(size_t(e - b));
  std::atomic<int> count{0};
  evnn::parallel_for(b, e, grain, [&](int64_t lo, int64_t hi) {
    seen[size_t(lo - b)] = {lo, hi};
    ++count;
  });
  Chunks out;
  for (auto& c : seen)
    if (c.second > c.first) out.push_back(c);
  expect(int(out.size()) == count.load(), "no empty chunks");
  return out;
}

}  // namespace

int main() {
  for (int threads : {1, 2, 3, 7}) {
    evnn::set_num_threads(threads);
    expect(evnn::num_threads() == threads, "num_threads after set_num_threads(" + std::to_string(threads) + ")");
    for (int64_t n : {0, 1, 5, 100, 1001}) {
      for (int64_t grain : {1, 10, 1000}) {
        const std::string tag = " threads=" + std::to_string(threads) + " n=" + std::to_string(n) + " grain=" + std::to_string(grain);
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        evnn::parallel_for(3, 3 + n, grain, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) ++hits[size_t(i - 3)];
        });
        bool once = true;
        for (auto& h : hits) once = once && h.load() == 1;
        expect(once, "every index exactly once" + tag);
        if (n == 0) continue;
        const Chunks a = chunks_of(3, 3 + n, grain), b = chunks_of(3, 3 + n, grain);
        expect(a == b, "same chunks on repeated calls" + tag);
        const int64_t want = std::min<int64_t>(threads, (n + grain - 1) / grain);
        expect(int64_t(a.size()) == want, "chunk count min(threads, ceil(n/grain))" + tag);
      }
    }
    // Nested: the inner loop runs inline with the same chunking, no deadlock.
    std::atomic<int64_t> sum{0};
    evnn::parallel_for(0, 8, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        evnn::parallel_for(0, 100, 1, [&](int64_t l2, int64_t h2) {
          for (int64_t j = l2; j < h2; ++j) sum += j;
        });
      }
    });
    expect(sum.load() == 8 * 4950, "nested parallel_for sums, threads=" + std::to_string(threads));
    // An exception in one chunk reaches the caller, and the pool still works afterwards.
    bool caught = false;
    try {
      evnn::parallel_for(0, 100, 1, [&](int64_t lo, int64_t) {
        if (lo == 0) throw std::runtime_error("chunk failed");
      });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "chunk failed";
    }
    expect(caught, "exception propagates, threads=" + std::to_string(threads));
    // Concurrent callers from several threads: each completes with correct results.
    std::vector<std::thread> callers;
    std::atomic<int> ok{0};
    for (int c = 0; c < 4; ++c) {
      callers.emplace_back([&] {
        for (int rep = 0; rep < 200; ++rep) {
          std::atomic<int64_t> s{0};
          evnn::parallel_for(0, 1000, 10, [&](int64_t lo, int64_t hi) {
            int64_t local = 0;
            for (int64_t i = lo; i < hi; ++i) local += i;
            s += local;
          });
          if (s.load() != 499500) return;
        }
        ++ok;
      });
    }
    for (auto& t : callers) t.join();
    expect(ok.load() == 4, "concurrent callers, threads=" + std::to_string(threads));
  }
  bool rejected = false;
  try {
    evnn::set_num_threads(0);
  } catch (const std::invalid_argument&) {
    rejected = true;
  }
  expect(rejected, "set_num_threads(0) throws");
  std::printf("%s\n", g_failures == 0 ? "parallel_check: all checks passed" : "parallel_check: FAILED");
  return g_failures == 0 ? 0 : 1;
}
