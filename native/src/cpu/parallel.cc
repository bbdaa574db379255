// Persistent thread pool behind evnn::parallel_for.
//
// One pool per process with num_threads() - 1 workers; the calling thread runs chunks too. A job
// is split into chunks whose bounds depend only on (begin, end, grain, num_threads()); which
// thread runs which chunk does not matter for results. When the pool is already busy (a nested
// call from inside a chunk, or a second caller thread such as a Node AsyncWorker), the same
// chunks run one after another on the calling thread: never a deadlock, and the same chunking.
#include "evnn/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EVNN_CPU_RELAX() _mm_pause()
#else
#define EVNN_CPU_RELAX() std::this_thread::yield()
#endif

#ifdef EVNN_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace evnn {
namespace {

using Fn = std::function<void(int64_t, int64_t)>;

// Workers spin this long for the next job before sleeping, and the caller this long for the
// last chunk before sleeping: kernels issue parallel regions back to back (a GEMM, then the gate
// loop, per time step), and a futex wake-up costs tens of microseconds (more in a VM).
constexpr auto kWorkerSpin = std::chrono::microseconds(100);
constexpr auto kCallerSpin = std::chrono::microseconds(500);

// Spins until done() or `limit` has passed; true when done() held. A pause hint at first, then
// yields: when the machine is oversubscribed (other processes, more threads than free cores) a
// spinning thread must not hold the core the thread it waits for needs.
template <typename Done>
bool spin_until(const Done& done, std::chrono::microseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (int i = 0;; ++i) {
    if (done()) return true;
    if (i < 1024) {
      EVNN_CPU_RELAX();
    } else {
      std::this_thread::yield();
    }
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) return done();
  }
}

int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : int(hw);
}

// Chunk c of `chunks` over [begin, begin + n): contiguous, sizes differing by at most one.
inline int64_t chunk_bound(int64_t begin, int64_t n, int64_t chunks, int64_t c) {
  return begin + (n / chunks) * c + std::min(c, n % chunks);
}

// True while this thread executes a chunk (worker or participating caller): nested
// parallel_for calls then run inline.
thread_local bool t_in_chunk = false;

struct InChunk {  // sets t_in_chunk for a scope, restoring the outer value (also on throw)
  bool outer;
  InChunk() : outer(t_in_chunk) { t_in_chunk = true; }
  ~InChunk() { t_in_chunk = outer; }
};

struct Job {
  const Fn* fn = nullptr;
  int64_t begin = 0, n = 0, chunks = 0;
  uint32_t id = 0;  // low bits of the sequence number; tickets carry it so a late worker never runs a stale job
};

// Hot path without locks: the caller publishes a job through a sequence lock (seq_ odd while
// the fields change), workers that spin pick it up with plain atomic loads, and chunks are
// claimed from one atomic ticket. The mutex and condition variables are touched only by threads
// that have stopped spinning (Dekker-style flags tell the other side whether to notify).
class Pool {
 public:
  Pool() { start_workers(default_threads()); }
  ~Pool() {
    std::lock_guard<std::mutex> job_lock(job_mutex_);
    stop_workers();
  }

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void resize(int n) {
    std::lock_guard<std::mutex> job_lock(job_mutex_);  // waits for a running job to finish
    stop_workers();
    start_workers(n);
  }

  void run(int64_t begin, int64_t end, int64_t grain, const Fn& fn) {
    if (end <= begin) return;
    const int64_t n = end - begin;
    const int64_t g = std::max<int64_t>(1, grain);
    const int64_t by_grain = n / g + (n % g != 0);
    const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(threads(), by_grain));
    std::unique_lock<std::mutex> job_lock(job_mutex_, std::defer_lock);
    if (chunks == 1 || t_in_chunk || !job_lock.try_lock()) {
      InChunk guard;
      for (int64_t c = 0; c < chunks; ++c) fn(chunk_bound(begin, n, chunks, c), chunk_bound(begin, n, chunks, c + 1));
      return;
    }
    const uint64_t seq = seq_.load(std::memory_order_relaxed) + 2;  // even: published
    const Job job{&fn, begin, n, chunks, uint32_t(seq)};
    error_ = nullptr;
    pending_.store(chunks, std::memory_order_relaxed);
    ticket_.store(uint64_t(job.id) << 32, std::memory_order_relaxed);
    seq_.store(seq - 1, std::memory_order_relaxed);  // odd: fields changing
    std::atomic_thread_fence(std::memory_order_release);
    job_fn_.store(job.fn, std::memory_order_relaxed);
    job_begin_.store(job.begin, std::memory_order_relaxed);
    job_n_.store(job.n, std::memory_order_relaxed);
    job_chunks_.store(job.chunks, std::memory_order_relaxed);
    seq_.store(seq, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lk(mutex_); }  // a worker between its check and its wait is now waiting
      wake_.notify_all();
    }
    work_on(job);
    // seq_cst loads here and in `fresh` below: the Dekker handshakes with caller_waiting_ and
    // sleepers_ need a single total order of these stores and loads.
    auto finished = [&] { return pending_.load(std::memory_order_seq_cst) == 0; };
    if (!spin_until(finished, kCallerSpin)) {
      std::unique_lock<std::mutex> lk(mutex_);
      caller_waiting_.store(true, std::memory_order_seq_cst);
      done_.wait(lk, finished);
      caller_waiting_.store(false, std::memory_order_relaxed);
    }
    if (error_) {  // written before the chunk's pending_ decrement, read after seeing 0 (acquire)
      std::exception_ptr e = error_;
      error_ = nullptr;
      std::rethrow_exception(e);
    }
  }

 private:
  // Next unclaimed chunk of `job`, or -1 when none is left or a newer job replaced it.
  int64_t claim(const Job& job) {
    uint64_t t = ticket_.load(std::memory_order_relaxed);
    for (;;) {
      if (uint32_t(t >> 32) != job.id) return -1;
      const int64_t c = int64_t(t & 0xffffffffu);
      if (c >= job.chunks) return -1;
      if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) return c;
    }
  }

  void work_on(const Job& job) {
    InChunk guard;
    for (int64_t c; (c = claim(job)) >= 0;) {
      try {
        (*job.fn)(chunk_bound(job.begin, job.n, job.chunks, c), chunk_bound(job.begin, job.n, job.chunks, c + 1));
      } catch (...) {
        std::lock_guard<std::mutex> lk(mutex_);
        if (!error_) error_ = std::current_exception();
      }
      if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1 && caller_waiting_.load(std::memory_order_seq_cst)) {
        std::lock_guard<std::mutex> lk(mutex_);
        done_.notify_one();
      }
    }
  }

  // The job published under sequence number `seq` (even), or false when it changed meanwhile.
  bool read_job(uint64_t seq, Job* job) {
    job->fn = job_fn_.load(std::memory_order_relaxed);
    job->begin = job_begin_.load(std::memory_order_relaxed);
    job->n = job_n_.load(std::memory_order_relaxed);
    job->chunks = job_chunks_.load(std::memory_order_relaxed);
    job->id = uint32_t(seq);
    std::atomic_thread_fence(std::memory_order_acquire);
    return seq_.load(std::memory_order_relaxed) == seq;
  }

  void worker_loop(uint64_t seen) {
    for (;;) {
      auto fresh = [&] {
        const uint64_t q = seq_.load(std::memory_order_seq_cst);
        return (q != seen && (q & 1) == 0) || stop_.load(std::memory_order_seq_cst);
      };
      if (!spin_until(fresh, kWorkerSpin)) {
        std::unique_lock<std::mutex> lk(mutex_);
        sleepers_.fetch_add(1, std::memory_order_seq_cst);
        wake_.wait(lk, fresh);
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
      }
      if (stop_.load(std::memory_order_relaxed)) return;
      const uint64_t seq = seq_.load(std::memory_order_acquire);
      Job job;
      if ((seq & 1) != 0 || !read_job(seq, &job)) continue;  // overtaken by a newer job: look again
      seen = seq;
      work_on(job);
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lk(mutex_);
      stop_.store(true, std::memory_order_seq_cst);
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    stop_.store(false, std::memory_order_relaxed);
  }

  void start_workers(int n) {
    threads_.store(n, std::memory_order_relaxed);
    const uint64_t seq = seq_.load(std::memory_order_relaxed);
    for (int i = 1; i < n; ++i) workers_.emplace_back([this, seq] { worker_loop(seq); });
  }

  std::mutex job_mutex_;  // held by the caller of a pooled job: one job at a time uses the workers
  std::mutex mutex_;      // for sleeping and waking only (and error_)
  std::condition_variable wake_, done_;
  std::vector<std::thread> workers_;
  std::atomic<int> threads_{1};
  std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};            // workers blocked (or about to block) on wake_
  std::atomic<bool> caller_waiting_{false};  // the caller blocked on done_
  std::atomic<uint64_t> seq_{0};            // job sequence lock: odd while the job fields change
  std::atomic<const Fn*> job_fn_{nullptr};
  std::atomic<int64_t> job_begin_{0}, job_n_{0}, job_chunks_{0};
  std::atomic<uint64_t> ticket_{0};  // (job id << 32) | next chunk
  std::atomic<int64_t> pending_{0};  // chunks of the current job not finished yet
  std::exception_ptr error_;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("evnn::set_num_threads: n must be >= 1, got " + std::to_string(n));
  // From inside a chunk the resize would wait for the job that is running it.
  if (t_in_chunk) throw std::logic_error("evnn::set_num_threads: called from inside parallel_for");
  pool().resize(n);
#ifdef EVNN_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#endif
}

int num_threads() { return pool().threads(); }

void parallel_for(int64_t begin, int64_t end, int64_t grain, const Fn& fn) { pool().run(begin, end, grain, fn); }

}  // namespace evnn
