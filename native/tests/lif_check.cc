// The CPU LIF layer (lif.h) against a float64 reference written from the equations of issue 9:
// forward, dense BPTT, S3GD. What it checks:
//  1. reference identity: S3GD (eligibility traces, δ at active entries, dx at the lower set) ==
//     dense BPTT with the surrogate masked to the active set (float64, to 1e-12);
//  2. reference dense BPTT vs central differences of a smooth stand-in: the loss
//     L(w, x) = Σ c[b,t,j]·S(mem_t[b,j] − ϑ), where mem_t = β mem_{t−1} + x_{t−1} w − r_{t−1} with
//     the reset r held FIXED at the true forward's spikes (so no gradient through the reset, as
//     the model) and S(u) = sign(u)·(1 − 1/(100|u| + 1))/100, whose derivative is exactly the
//     surrogate 1/(100|u| + 1)²; dense BPTT with dspk = c is that loss's exact gradient in w and x;
//  3. engine vs reference on random shapes: spikes and active set exactly, mem, dense dW and dx,
//     S3GD dW and dx_active (compact dspk too), threads 1 and 2 bitwise, accumulation (+=).
// Margins: a problem is redrawn (next seed) until every reference membrane value lies at least
// 1e-3 from ϑ, b_th and 2ϑ − b_th, so float32 rounding (errors ~1e-6 here) cannot flip a spike
// or a band decision.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "check_util.h"
#include "evnn/context.h"
#include "evnn/lif.h"
#include "evnn/parallel.h"

using namespace evnn::check;
namespace lif = evnn::lif;

namespace {

struct Problem {
  int B, T, I, H;
  double beta, th = 1.0, bth = 0.8;
  Vec x, w;                 // x [B,T,I] binary, w [I,H]
  std::vector<int> lower;   // lower active mask [B,T,I] (0/1), positions of dx
  Vec c;                    // dL/dspk [B,T,H]
};

double surr(double v, double th) {
  const double a = 100.0 * std::fabs(v - th) + 1.0;
  return 1.0 / (a * a);
}
double smooth_spike(double u) { return (u >= 0 ? 1.0 : -1.0) * (1.0 - 1.0 / (100.0 * std::fabs(u) + 1.0)) / 100.0; }

// Forward; reset: null = the spikes themselves, else the given fixed sequence.
void ref_forward(const Problem& p, const Vec& x, const Vec& w, Vec& mem, Vec& spk, const Vec* reset) {
  const int B = p.B, T = p.T, I = p.I, H = p.H;
  mem.assign(size_t(B) * T * H, 0.0);
  spk.assign(size_t(B) * T * H, 0.0);
  for (int b = 0; b < B; ++b)
    for (int t = 1; t < T; ++t)
      for (int j = 0; j < H; ++j) {
        double cur = 0;
        for (int i = 0; i < I; ++i) cur += x[(size_t(b) * T + t - 1) * I + i] * w[size_t(i) * H + j];
        const size_t k = (size_t(b) * T + t) * H + j, kp = k - H;
        const double r = reset ? (*reset)[kp] : spk[kp];
        mem[k] = p.beta * mem[kp] + cur - r;
        spk[k] = mem[k] > p.th ? 1.0 : 0.0;
      }
}

bool in_band(const Problem& p, double v) { return v > p.bth && v < 2 * p.th - p.bth; }

// Dense BPTT (masked: surrogate zeroed outside the band). dx dense [B,T,I].
void ref_dense(const Problem& p, const Vec& mem, const Vec& dspk, bool masked, Vec& dw, Vec& dx) {
  const int B = p.B, T = p.T, I = p.I, H = p.H;
  dw.assign(size_t(I) * H, 0.0);
  dx.assign(size_t(B) * T * I, 0.0);
  for (int b = 0; b < B; ++b) {
    Vec dm(H, 0.0);  // dmem_{t+1}
    for (int t = T - 1; t >= 1; --t) {
      for (int j = 0; j < H; ++j) {
        const size_t k = (size_t(b) * T + t) * H + j;
        const double s = (!masked || in_band(p, mem[k])) ? surr(mem[k], p.th) : 0.0;
        dm[j] = dspk[k] * s + p.beta * dm[j];  // now dmem_t
      }
      for (int i = 0; i < I; ++i) {
        const double xv = p.x[(size_t(b) * T + t - 1) * I + i];
        double s = 0;
        for (int j = 0; j < H; ++j) {
          dw[size_t(i) * H + j] += xv * dm[j];
          s += p.w[size_t(i) * H + j] * dm[j];
        }
        dx[(size_t(b) * T + t - 1) * I + i] = s;
      }
    }
  }
}

// S3GD from its own formulas: δ at active entries, traces, dx only at lower entries (dense array,
// zero elsewhere).
void ref_s3gd(const Problem& p, const Vec& mem, const Vec& dspk, Vec& dw, Vec& dx) {
  const int B = p.B, T = p.T, I = p.I, H = p.H;
  dw.assign(size_t(I) * H, 0.0);
  dx.assign(size_t(B) * T * I, 0.0);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t < T; ++t)
      for (int j = 0; j < H; ++j) {
        const size_t k = (size_t(b) * T + t) * H + j;
        if (!in_band(p, mem[k])) continue;
        const double delta = dspk[k] * surr(mem[k], p.th);
        for (int i = 0; i < I; ++i) {
          double trace = 0;
          for (int s = 0; s < t; ++s) trace += std::pow(p.beta, t - 1 - s) * p.x[(size_t(b) * T + s) * I + i];
          dw[size_t(i) * H + j] += delta * trace;
        }
        for (int u = 0; u < t; ++u)
          for (int i = 0; i < I; ++i)
            if (p.lower[(size_t(b) * T + u) * I + i])
              dx[(size_t(b) * T + u) * I + i] += std::pow(p.beta, t - 1 - u) * delta * p.w[size_t(i) * H + j];
      }
}

Problem make_problem(uint64_t seed, int B, int T, int I, int H, double beta, int* tries) {
  for (*tries = 1;; ++*tries, ++seed) {
    Rng rng(seed);
    Problem p{B, T, I, H, beta};
    p.x.resize(size_t(B) * T * I);
    for (auto& v : p.x) v = rng.u01() < 0.25 ? 1.0 : 0.0;
    p.w.resize(size_t(I) * H);
    for (auto& v : p.w) v = double(float(rng.uniform(0.35) + 0.12));
    p.lower.resize(p.x.size());
    for (auto& v : p.lower) v = rng.u01() < 0.3;
    p.c = random_vec(rng, size_t(B) * T * H, 1.0);
    Vec mem, spk;
    ref_forward(p, p.x, p.w, mem, spk, nullptr);
    bool ok = true;
    for (double v : mem)
      for (double e : {p.th, p.bth, 2 * p.th - p.bth})
        if (std::fabs(v - e) < 1e-3) ok = false;
    if (ok) return p;
  }
}

lif::EventSet lower_set(const Problem& p) {
  lif::EventSet s;
  s.B = p.B, s.T = p.T;
  s.offsets.push_back(0);
  for (int r = 0; r < p.B * p.T; ++r) {
    for (int i = 0; i < p.I; ++i)
      if (p.lower[size_t(r) * p.I + i]) s.index.push_back(i), s.value.push_back(1.0f);
    s.offsets.push_back(int64_t(s.index.size()));
  }
  return s;
}

struct EngineOut {
  FVec spk, mem, dw_dense, dx_dense, dw_s3gd, dx_active, dw_s3gd_compact, dx_active_compact;
  lif::Saved saved;
  lif::Stats fstats, dstats, sstats;
};

EngineOut run_engine(const Problem& p, const FVec* preset, int calls) {
  const evnn::Context ctx = evnn::ThreadContext();
  const lif::Dims d{p.B, p.T, p.I, p.H};
  lif::Options o;
  o.beta = float(p.beta);
  o.threshold = float(p.th);
  o.b_th = float(p.bth);
  const FVec x = to_f(p.x), w = to_f(p.w), c = to_f(p.c);
  EngineOut e;
  e.spk.assign(size_t(p.B) * p.T * p.H, -1.0f);
  e.mem.assign(lif::CacheSize(d), -1.0f);
  lif::Forward(ctx, d, {w.data()}, o, x.data(), e.spk.data(), e.mem.data(), &e.saved, &e.fstats);
  preset_grad(e.dw_dense, w.size(), 0, preset);
  e.dx_dense.assign(x.size(), -7.0f);
  for (int k = 0; k < calls; ++k)
    lif::BackwardDense(ctx, d, {w.data()}, o, x.data(), e.mem.data(), c.data(), e.dx_dense.data(), {e.dw_dense.data()}, &e.dstats);
  const lif::EventSet low = lower_set(p);
  preset_grad(e.dw_s3gd, w.size(), 0, preset);
  e.dx_active.assign(size_t(low.count()), -7.0f);
  e.dx_active.reserve(1);  // data() non-null even when the lower set is empty
  for (int k = 0; k < calls; ++k)
    lif::BackwardS3GD(ctx, d, {w.data()}, o, e.saved, c.data(), nullptr, &low, e.dx_active.data(), {e.dw_s3gd.data()}, &e.sstats);
  // compact dspk: the values of c at the active entries
  FVec ca(size_t(e.saved.active.count()));
  ca.reserve(1);
  for (int r = 0; r < p.B * p.T; ++r)
    for (int64_t q = e.saved.active.offsets[r]; q < e.saved.active.offsets[r + 1]; ++q)
      ca[q] = c[size_t(r) * p.H + e.saved.active.index[q]];
  preset_grad(e.dw_s3gd_compact, w.size(), 0, preset);
  e.dx_active_compact.assign(size_t(low.count()), -7.0f);
  e.dx_active_compact.reserve(1);
  lif::BackwardS3GD(ctx, d, {w.data()}, o, e.saved, nullptr, ca.data(), &low, e.dx_active_compact.data(),
                    {e.dw_s3gd_compact.data()}, nullptr);
  return e;
}

Vec gather_lower(const Problem& p, const Vec& dense) {
  Vec out;
  for (size_t k = 0; k < p.lower.size(); ++k)
    if (p.lower[k]) out.push_back(dense[k]);
  return out;
}

void check_problem(uint64_t seed, int B, int T, int I, int H, double beta, bool fd) {
  int tries = 0;
  const Problem p = make_problem(seed, B, T, I, H, beta, &tries);
  const std::string tag = "B=" + std::to_string(B) + " T=" + std::to_string(T) + " I=" + std::to_string(I) +
                          " H=" + std::to_string(H);
  Vec mem, spk;
  ref_forward(p, p.x, p.w, mem, spk, nullptr);
  Vec dw_d, dx_d, dw_m, dx_m, dw_s, dx_s;
  ref_dense(p, mem, p.c, false, dw_d, dx_d);
  ref_dense(p, mem, p.c, true, dw_m, dx_m);
  ref_s3gd(p, mem, p.c, dw_s, dx_s);
  // 1. the identity, in float64
  {
    double m = 1e-300, e = 0;
    for (size_t k = 0; k < dw_m.size(); ++k) m = std::max(m, std::fabs(dw_m[k])), e = std::max(e, std::fabs(dw_m[k] - dw_s[k]));
    const Vec a = gather_lower(p, dx_m), s = gather_lower(p, dx_s);
    double mx = 1e-300, ex = 0;
    for (size_t k = 0; k < a.size(); ++k) mx = std::max(mx, std::fabs(a[k])), ex = std::max(ex, std::fabs(a[k] - s[k]));
    expect(e / m < 1e-12 && ex / mx < 1e-12, tag + ": reference S3GD == masked dense BPTT (dW " + std::to_string(e / m) +
                                                  ", dx " + std::to_string(ex / mx) + ")");
  }
  // 2. finite differences of the smooth stand-in, reset fixed at the true spikes
  if (fd) {
    Problem q = p;
    auto loss = [&]() {
      Vec m2, s2;
      ref_forward(q, q.x, q.w, m2, s2, &spk);
      double L = 0;
      for (size_t k = 0; k < m2.size(); ++k)
        if (k % size_t(q.H * q.T) >= size_t(q.H)) L += q.c[k] * smooth_spike(m2[k] - q.th);  // t ≥ 1
      return L;
    };
    auto probe = fd_probe(seed ^ 0xfd, loss);
    probe(q.w, dw_d, "w");
    probe(q.x, dx_d, "x");
    expect_fd_agrees(probe.worst, " (" + tag + ", smooth stand-in, reset fixed)");
  }
  // 3. engine
  evnn::set_num_threads(1);
  const EngineOut e1 = run_engine(p, nullptr, 1);
  evnn::set_num_threads(2);
  const EngineOut e2 = run_engine(p, nullptr, 1);
  int64_t n_spk = 0, n_act = 0;
  bool spk_ok = true;
  for (size_t k = 0; k < spk.size(); ++k) spk_ok &= double(e1.spk[k]) == spk[k], n_spk += spk[k] != 0;
  bool act_ok = true;
  {
    const auto& A = e1.saved.active;
    int64_t q = 0;
    for (int r = 0; r < B * T; ++r) {
      act_ok &= A.offsets[r] == q;
      for (int j = 0; j < H; ++j)
        if (in_band(p, mem[size_t(r) * H + j])) {
          act_ok &= q < A.count() && A.index[q] == j && std::fabs(A.value[q] - surr(mem[size_t(r) * H + j], p.th)) < 1e-4;
          ++q;
        }
    }
    act_ok &= A.count() == q;
    n_act = q;
  }
  expect(spk_ok, tag + ": spikes equal the reference's");
  expect(act_ok, tag + ": active set (indices, surrogate values) equals the reference's");
  expect(e1.fstats.spikes == n_spk && e1.fstats.active == n_act && e1.sstats.active == n_act, tag + ": stats counts");
  expect_close(e1.mem, mem, 1e-5, tag + ": mem");
  expect_close(e1.dw_dense, dw_d, 2e-5, tag + ": dense dW");
  expect_close(e1.dx_dense, dx_d, 2e-5, tag + ": dense dx");
  expect_close(e1.dw_s3gd, dw_s, 2e-5, tag + ": S3GD dW");
  expect_close(e1.dx_active, gather_lower(p, dx_s), 2e-5, tag + ": S3GD dx at the lower active set");
  expect_close(e1.dw_s3gd, dw_m, 2e-5, tag + ": S3GD dW vs masked dense reference");
  expect(bitwise_equal(e1.dw_s3gd_compact, e1.dw_s3gd) && bitwise_equal(e1.dx_active_compact, e1.dx_active),
         tag + ": compact dspk gives the same S3GD gradients");
  expect(bitwise_equal(e1.spk, e2.spk) && bitwise_equal(e1.mem, e2.mem), tag + ": forward, threads 1 and 2 bitwise equal");
  // The dense baseline's products go through evnn::gemm, whose K split depends on the thread count
  // at larger shapes (I=130 here): equal to 1e-6, not bitwise (open item, see the report).
  expect(scaled_err(e1.dw_dense, e2.dw_dense) <= 1e-6 && scaled_err(e1.dx_dense, e2.dx_dense) <= 1e-6,
         tag + ": dense backward, threads 1 and 2 equal to 1e-6");
  expect(bitwise_equal(e1.dw_s3gd, e2.dw_s3gd) && bitwise_equal(e1.dx_active, e2.dx_active),
         tag + ": S3GD backward, threads 1 and 2 bitwise equal");
  // accumulation
  Rng rr(seed + 99);
  const FVec R = to_f(random_vec(rr, 97, 1.0));
  const EngineOut ep = run_engine(p, &R, 1);
  const EngineOut e2c = run_engine(p, nullptr, 2);
  expect_accumulates(tag + " dense", scaled_err(ep.dw_dense, shifted(e1.dw_dense, R, 0)), scaled_err(e2c.dw_dense, times2(e1.dw_dense)));
  expect_accumulates(tag + " s3gd", scaled_err(ep.dw_s3gd, shifted(e1.dw_s3gd, R, 0)), scaled_err(e2c.dw_s3gd, times2(e1.dw_s3gd)));
  std::printf("%s (tries %d): spikes %.1f%%, active %.1f%%, input events %lld, S3GD MACs %.3g vs dense %.3g\n", tag.c_str(),
              tries, 100.0 * n_spk / spk.size(), 100.0 * n_act / spk.size(), (long long)e1.fstats.input_events,
              e1.sstats.macs, e1.sstats.macs_dense);
}

}  // namespace

int main() {
  check_problem(1, 2, 12, 5, 4, 0.9048374, true);
  check_problem(11, 3, 20, 9, 7, 0.8187308, true);
  check_problem(21, 4, 30, 70, 13, 0.9048374, false);  // I > one 64-unit dW block
  check_problem(31, 1, 1, 3, 2, 0.9, false);           // T = 1: nothing flows
  check_problem(41, 5, 25, 130, 33, 0.8187308, false);
  return summary();
}
