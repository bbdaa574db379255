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
//     S3GD dW and dx_active (compact dspk too), threads 1 and 2 bitwise, accumulation (+=);
//  4. the input as binary events (CSR) == the same input dense: forward bitwise (spikes, mem,
//     saved sets, stats), dense backward bitwise; malformed events are rejected, naming the entry;
//  5. dspk_row [B,H] (added to dL/dspk at every step): dense and S3GD (dense and compact dspk,
//     and dspk_row alone) against the references run with dspk + dspk_row broadcast over t;
//  6. the readout (every reduction) and the spike-count regulariser against float64 references,
//     those references against central differences, threads 1 and 2 bitwise, dW accumulation;
//     dspk only at a given active set equal bitwise to the dense dspk gathered there.
// Margins: a problem is redrawn (next seed) until every reference membrane value lies at least
// 1e-3 from ϑ, b_th and 2ϑ − b_th, so float32 rounding (errors ~1e-6 here) cannot flip a spike
// or a band decision.
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "check_util.h"
#include "evnn/context.h"
#include "evnn/lif.h"
#include "evnn/lif_readout.h"
#include "evnn/lif_regularizer.h"
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
  Vec row;                  // dspk_row [B,H]
};

// c + row broadcast over t: the dL/dspk the backward sees with dspk_row (c null: row alone).
Vec with_row(const Problem& p, const Vec* c) {
  Vec g(size_t(p.B) * p.T * p.H);
  for (int b = 0; b < p.B; ++b)
    for (int t = 0; t < p.T; ++t)
      for (int j = 0; j < p.H; ++j) {
        const size_t k = (size_t(b) * p.T + t) * p.H + j;
        g[k] = (c ? (*c)[k] : 0.0) + p.row[size_t(b) * p.H + j];
      }
  return g;
}

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

Problem make_problem(uint64_t seed, int B, int T, int I, int H, double beta, int* tries, double w_scale) {
  for (*tries = 1;; ++*tries, ++seed) {
    Rng rng(seed);
    Problem p{B, T, I, H, beta};
    p.x.resize(size_t(B) * T * I);
    for (auto& v : p.x) v = rng.u01() < 0.25 ? 1.0 : 0.0;
    p.w.resize(size_t(I) * H);
    for (auto& v : p.w) v = double(float((rng.uniform(0.35) + 0.12) * w_scale));
    p.lower.resize(p.x.size());
    for (auto& v : p.lower) v = rng.u01() < 0.3;
    p.c = random_vec(rng, size_t(B) * T * H, 1.0);
    p.row = random_vec(rng, size_t(B) * H, 0.5);
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

// x [B,T,I] (binary) as CSR events.
struct Events {
  std::vector<int32_t> offsets, index;
};
Events events_of(const Problem& p) {
  Events e;
  e.offsets.push_back(0);
  for (int r = 0; r < p.B * p.T; ++r) {
    for (int i = 0; i < p.I; ++i)
      if (p.x[size_t(r) * p.I + i] != 0.0) e.index.push_back(i);
    e.offsets.push_back(int32_t(e.index.size()));
  }
  e.index.reserve(1);
  return e;
}

struct EngineOut {
  FVec spk, mem, dw_dense, dx_dense, dw_s3gd, dx_active, dw_s3gd_compact, dx_active_compact;
  // with dspk_row: dense (dspk + row), S3GD dense dspk + row, compact + row, row alone
  FVec dw_dense_r, dx_dense_r, dw_s3gd_r, dx_active_r, dw_s3gd_compact_r, dx_active_compact_r, dw_s3gd_row, dx_active_row;
  // from the events input: forward, and the dense backward
  FVec spk_ev, mem_ev, dw_dense_ev, dx_dense_ev;
  lif::Saved saved, saved_ev;
  lif::Stats fstats, dstats, sstats, fstats_ev;
};

EngineOut run_engine(const Problem& p, const FVec* preset, int calls, lif::DwOrder order) {
  const evnn::Context ctx = evnn::ThreadContext();
  const lif::Dims d{p.B, p.T, p.I, p.H};
  lif::Options o;
  o.beta = float(p.beta);
  o.threshold = float(p.th);
  o.b_th = float(p.bth);
  o.s3gd_dw = order;
  const FVec x = to_f(p.x), w = to_f(p.w), c = to_f(p.c);
  EngineOut e;
  e.spk.assign(size_t(p.B) * p.T * p.H, -1.0f);
  e.mem.assign(lif::CacheSize(d), -1.0f);
  lif::Forward(ctx, d, {w.data()}, o, lif::Input::Dense(x.data()), e.spk.data(), e.mem.data(), &e.saved, &e.fstats);
  preset_grad(e.dw_dense, w.size(), 0, preset);
  e.dx_dense.assign(x.size(), -7.0f);
  for (int k = 0; k < calls; ++k)
    lif::BackwardDense(ctx, d, {w.data()}, o, lif::Input::Dense(x.data()), e.mem.data(), c.data(), nullptr, e.dx_dense.data(), {e.dw_dense.data()}, &e.dstats);
  const lif::EventSet low = lower_set(p);
  preset_grad(e.dw_s3gd, w.size(), 0, preset);
  e.dx_active.assign(size_t(low.count()), -7.0f);
  e.dx_active.reserve(1);  // data() non-null even when the lower set is empty
  for (int k = 0; k < calls; ++k)
    lif::BackwardS3GD(ctx, d, {w.data()}, o, e.saved, c.data(), nullptr, nullptr, &low, e.dx_active.data(), {e.dw_s3gd.data()}, &e.sstats);
  // compact dspk: the values of c at the active entries
  FVec ca(size_t(e.saved.active.count()));
  ca.reserve(1);
  for (int r = 0; r < p.B * p.T; ++r)
    for (int64_t q = e.saved.active.offsets[r]; q < e.saved.active.offsets[r + 1]; ++q)
      ca[q] = c[size_t(r) * p.H + e.saved.active.index[q]];
  preset_grad(e.dw_s3gd_compact, w.size(), 0, preset);
  e.dx_active_compact.assign(size_t(low.count()), -7.0f);
  e.dx_active_compact.reserve(1);
  lif::BackwardS3GD(ctx, d, {w.data()}, o, e.saved, nullptr, ca.data(), nullptr, &low, e.dx_active_compact.data(),
                    {e.dw_s3gd_compact.data()}, nullptr);
  // dspk_row
  const FVec row = to_f(p.row);
  preset_grad(e.dw_dense_r, w.size(), 0, preset);
  e.dx_dense_r.assign(x.size(), -7.0f);
  lif::BackwardDense(ctx, d, {w.data()}, o, lif::Input::Dense(x.data()), e.mem.data(), c.data(), row.data(),
                     e.dx_dense_r.data(), {e.dw_dense_r.data()}, nullptr);
  const auto s3gd_row = [&](const float* dspk, const float* dspk_active, FVec& dw, FVec& dxa) {
    preset_grad(dw, w.size(), 0, preset);
    dxa.assign(size_t(low.count()), -7.0f);
    dxa.reserve(1);
    lif::BackwardS3GD(ctx, d, {w.data()}, o, e.saved, dspk, dspk_active, row.data(), &low, dxa.data(), {dw.data()}, nullptr);
  };
  s3gd_row(c.data(), nullptr, e.dw_s3gd_r, e.dx_active_r);
  s3gd_row(nullptr, ca.data(), e.dw_s3gd_compact_r, e.dx_active_compact_r);
  s3gd_row(nullptr, nullptr, e.dw_s3gd_row, e.dx_active_row);
  // the same input as events
  const Events ev = events_of(p);
  const lif::Input in_ev = lif::Input::Events(ev.offsets.data(), ev.index.data());
  e.spk_ev.assign(e.spk.size(), -1.0f);
  e.mem_ev.assign(e.mem.size(), -1.0f);
  lif::Forward(ctx, d, {w.data()}, o, in_ev, e.spk_ev.data(), e.mem_ev.data(), &e.saved_ev, &e.fstats_ev);
  preset_grad(e.dw_dense_ev, w.size(), 0, preset);
  e.dx_dense_ev.assign(x.size(), -7.0f);
  lif::BackwardDense(ctx, d, {w.data()}, o, in_ev, e.mem_ev.data(), c.data(), nullptr, e.dx_dense_ev.data(),
                     {e.dw_dense_ev.data()}, nullptr);
  return e;
}

bool same_set(const lif::EventSet& a, const lif::EventSet& b) {
  return a.B == b.B && a.T == b.T && a.offsets == b.offsets && a.index == b.index && bitwise_equal(a.value, b.value);
}

Vec gather_lower(const Problem& p, const Vec& dense) {
  Vec out;
  for (size_t k = 0; k < p.lower.size(); ++k)
    if (p.lower[k]) out.push_back(dense[k]);
  return out;
}

// w_scale scales the weights (wide inputs need smaller ones to keep the layer out of saturation).
void check_problem(uint64_t seed, int B, int T, int I, int H, double beta, bool fd, double w_scale = 1.0) {
  int tries = 0;
  const Problem p = make_problem(seed, B, T, I, H, beta, &tries, w_scale);
  const std::string tag0 = "B=" + std::to_string(B) + " T=" + std::to_string(T) + " I=" + std::to_string(I) +
                          " H=" + std::to_string(H);
  const std::string& tag = tag0;
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
  // 3. engine, with the S3GD dW summed in each order
  int64_t n_spk = 0, n_act = 0;
  double s3gd_macs = 0, s3gd_macs_dense = 0;
  for (const lif::DwOrder order : {lif::DwOrder::kTraces, lif::DwOrder::kEvents}) {
  const std::string tag = tag0 + (order == lif::DwOrder::kTraces ? " [dW by traces]" : " [dW by events]");
  evnn::set_num_threads(1);
  const EngineOut e1 = run_engine(p, nullptr, 1, order);
  evnn::set_num_threads(2);
  const EngineOut e2 = run_engine(p, nullptr, 1, order);
  n_spk = 0;
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
  // 4. events input
  expect(bitwise_equal(e1.spk_ev, e1.spk) && bitwise_equal(e1.mem_ev, e1.mem), tag + ": events input: forward bitwise equal to dense x");
  expect(same_set(e1.saved_ev.input, e1.saved.input) && same_set(e1.saved_ev.active, e1.saved.active),
         tag + ": events input: the saved sets are the same");
  expect(e1.fstats_ev.spikes == e1.fstats.spikes && e1.fstats_ev.active == e1.fstats.active &&
             e1.fstats_ev.input_events == e1.fstats.input_events && e1.fstats_ev.macs == e1.fstats.macs,
         tag + ": events input: the same stats");
  expect(bitwise_equal(e1.dw_dense_ev, e1.dw_dense) && bitwise_equal(e1.dx_dense_ev, e1.dx_dense),
         tag + ": events input: dense backward bitwise equal to dense x");
  // 5. dspk_row. The references run at the engine's float32 membranes (mem itself is checked
  // above): with dspk_row every step carries a gradient, and the surrogate's relative slope,
  // 200/(100|u| + 1), would otherwise turn the forward's ~1e-7 membrane rounding into ~1e-4 here.
  {
    const Vec cr = with_row(p, &p.c), r0 = with_row(p, nullptr), m32(e1.mem.begin(), e1.mem.end());
    Vec dwr, dxr, dws, dxs, dwo, dxo;
    ref_dense(p, m32, cr, false, dwr, dxr);
    ref_s3gd(p, m32, cr, dws, dxs);
    ref_s3gd(p, m32, r0, dwo, dxo);
    expect_close(e1.dw_dense_r, dwr, 2e-5, tag + ": dense dW with dspk_row");
    expect_close(e1.dx_dense_r, dxr, 2e-5, tag + ": dense dx with dspk_row");
    expect_close(e1.dw_s3gd_r, dws, 2e-5, tag + ": S3GD dW with dspk_row");
    expect_close(e1.dx_active_r, gather_lower(p, dxs), 2e-5, tag + ": S3GD dx_active with dspk_row");
    expect(bitwise_equal(e1.dw_s3gd_compact_r, e1.dw_s3gd_r) && bitwise_equal(e1.dx_active_compact_r, e1.dx_active_r),
           tag + ": compact dspk + dspk_row gives the same S3GD gradients");
    if (n_act > 0) {
      expect_close(e1.dw_s3gd_row, dwo, 2e-5, tag + ": S3GD dW with dspk_row alone");
      expect_close(e1.dx_active_row, gather_lower(p, dxo), 2e-5, tag + ": S3GD dx_active with dspk_row alone");
    }
    expect(bitwise_equal(e1.dw_dense_r, e2.dw_dense_r) || scaled_err(e1.dw_dense_r, e2.dw_dense_r) <= 1e-6,
           tag + ": dense backward with dspk_row, threads 1 and 2 equal to 1e-6");
    expect(bitwise_equal(e1.dw_s3gd_r, e2.dw_s3gd_r) && bitwise_equal(e1.dx_active_r, e2.dx_active_r) &&
               bitwise_equal(e1.spk_ev, e2.spk_ev),
           tag + ": S3GD with dspk_row and the events forward, threads 1 and 2 bitwise equal");
  }
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
  const EngineOut ep = run_engine(p, &R, 1, order);
  const EngineOut e2c = run_engine(p, nullptr, 2, order);
  expect_accumulates(tag + " dense", scaled_err(ep.dw_dense, shifted(e1.dw_dense, R, 0)), scaled_err(e2c.dw_dense, times2(e1.dw_dense)));
  expect_accumulates(tag + " s3gd", scaled_err(ep.dw_s3gd, shifted(e1.dw_s3gd, R, 0)), scaled_err(e2c.dw_s3gd, times2(e1.dw_s3gd)));
  s3gd_macs = e1.sstats.macs, s3gd_macs_dense = e1.sstats.macs_dense;
  }
  std::printf("%s (tries %d): spikes %.1f%%, active %.1f%%, S3GD MACs (by events) %.3g vs dense %.3g\n", tag0.c_str(),
              tries, 100.0 * n_spk / spk.size(), 100.0 * n_act / spk.size(), s3gd_macs, s3gd_macs_dense);
}

// ---- malformed events ----------------------------------------------------------------------

void check_bad_events() {
  const evnn::Context ctx = evnn::ThreadContext();
  const lif::Dims d{1, 2, 3, 2};  // rows b·T + t: 2
  const FVec w(6, 0.5f);
  FVec spk(4);
  const auto run = [&](std::vector<int32_t> off, std::vector<int32_t> idx) {
    idx.reserve(1);
    return [&ctx, &d, &w, &spk, off, idx]() {
      lif::Forward(ctx, d, {w.data()}, lif::Options{}, lif::Input::Events(off.data(), idx.data()), spk.data(), nullptr,
                   nullptr, nullptr);
    };
  };
  expect_throws(run({1, 1, 1}, {0}), "offsets[0] must be 0", "events: offsets[0] != 0");
  expect_throws(run({0, 2, 1}, {0, 1}), "exceeds the index length 1", "events: an offset past the end");
  {
    const std::string e = lif::EventsError(2, 3, std::vector<int32_t>{0, 2, 1}.data(), std::vector<int32_t>{0, 1}.data(), 2);
    expect(e.find("offsets must not decrease") != std::string::npos, "EventsError: decreasing offsets ('" + e + "')");
  }
  expect_throws(run({0, 1, 3}, {0, 3, 1}), "index[1] = 3 is outside [0, 3)", "events: index out of range");
  expect_throws(run({0, 2, 2}, {1, 1}), "index must rise strictly", "events: repeated index in a row");
  expect_throws(run({0, 2, 2}, {2, 1}), "index must rise strictly", "events: descending index in a row");
  const std::string e = lif::EventsError(2, 3, std::vector<int32_t>{0, 1, 2}.data(), std::vector<int32_t>{0, 1, 2}.data(), 3);
  expect(e.find("must equal the index length 3") != std::string::npos, "EventsError: the last offset must equal the index length ('" + e + "')");
  expect(lif::EventsError(2, 3, std::vector<int32_t>{0, 2, 3}.data(), std::vector<int32_t>{0, 2, 0}.data(), 3).empty(),
         "EventsError: a valid set passes (a new row may restart the channels)");
  const FVec x(6, 0.0f);
  std::vector<int32_t> off{0, 0, 0};
  expect_throws([&] { lif::Forward(ctx, d, {w.data()}, lif::Options{}, lif::Input{x.data(), off.data(), nullptr}, spk.data(), nullptr, nullptr, nullptr); },
                "give exactly one of x and events", "Forward: both x and events");
}

// ---- the readout ---------------------------------------------------------------------------

namespace ro = evnn::lif_readout;

// out [B,T,O] in float64 from the definition (out_0 = 0, out_{t+1} = β out_t + (1−β) spk_t w).
Vec ref_readout_outs(int B, int T, int H, int O, double beta, const Vec& spk, const Vec& w) {
  Vec out(size_t(B) * T * O, 0.0);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t + 1 < T; ++t)
      for (int k = 0; k < O; ++k) {
        double h = 0;
        for (int j = 0; j < H; ++j) h += spk[(size_t(b) * T + t) * H + j] * w[size_t(j) * O + k];
        out[(size_t(b) * T + t + 1) * O + k] = beta * out[(size_t(b) * T + t) * O + k] + (1 - beta) * h;
      }
  return out;
}

// logits and dL/dout (the reduction's weights: pick[b,t,k]) from out.
void ref_reduce(int B, int T, int O, ro::Reduce r, const Vec& out, Vec& logits, Vec& pick) {
  logits.assign(size_t(B) * O, 0.0);
  pick.assign(size_t(B) * T * O, 0.0);
  for (int b = 0; b < B; ++b)
    for (int k = 0; k < O; ++k) {
      const auto at = [&](int t) { return out[(size_t(b) * T + t) * O + k]; };
      double& lg = logits[size_t(b) * O + k];
      if (r == ro::Reduce::kMax) {
        int am = 0;
        for (int t = 1; t < T; ++t)
          if (at(t) > at(am)) am = t;
        lg = at(am), pick[(size_t(b) * T + am) * O + k] = 1;
      } else if (r == ro::Reduce::kLast) {
        lg = at(T - 1), pick[(size_t(b) * T + T - 1) * O + k] = 1;
      } else {
        const double div = r == ro::Reduce::kMean ? T : 1;
        for (int t = 0; t < T; ++t) lg += at(t) / div, pick[(size_t(b) * T + t) * O + k] = 1 / div;
      }
    }
}

// L = Σ dl·logits: dW, dspk by the explicit sums dh_t = (1−β) Σ_{s>t} β^{s−t−1} pick_s dl.
void ref_readout_grads(int B, int T, int H, int O, double beta, const Vec& spk, const Vec& w, const Vec& pick,
                       const Vec& dl, Vec& dw, Vec& dspk) {
  dw.assign(size_t(H) * O, 0.0);
  dspk.assign(size_t(B) * T * H, 0.0);
  for (int b = 0; b < B; ++b)
    for (int t = 0; t + 1 < T; ++t)
      for (int k = 0; k < O; ++k) {
        double dh = 0;
        for (int s2 = t + 1; s2 < T; ++s2)
          dh += (1 - beta) * std::pow(beta, s2 - t - 1) * pick[(size_t(b) * T + s2) * O + k] * dl[size_t(b) * O + k];
        for (int j = 0; j < H; ++j) {
          dw[size_t(j) * O + k] += spk[(size_t(b) * T + t) * H + j] * dh;
          dspk[(size_t(b) * T + t) * H + j] += w[size_t(j) * O + k] * dh;
        }
      }
}

// binary: spikes (0/1) as the layer gives them; else continuous values (for the finite
// differences, which need a spk that can move; max ties are then measure-zero, and the max
// problems are redrawn until the runner-up is 1e-4 or more below the maximum).
void check_readout(uint64_t seed, int B, int T, int H, int O, double beta) {
  const std::string tag = "readout B=" + std::to_string(B) + " T=" + std::to_string(T) + " H=" + std::to_string(H) +
                          " O=" + std::to_string(O);
  const evnn::Context ctx = evnn::ThreadContext();
  const ro::Dims d{B, T, H, O};
  const char* names[] = {"max", "sum", "mean", "last"};
  for (int ri = 0; ri < 4; ++ri) {
    const ro::Reduce r = static_cast<ro::Reduce>(ri);
    for (bool binary : {true, false}) {
      Vec spk, w, dl, out, logits, pick;
      for (uint64_t s2 = seed;; ++s2) {
        Rng rng(s2 * 8 + ri * 2 + binary);
        spk.resize(size_t(B) * T * H);
        for (auto& v : spk) v = binary ? (rng.u01() < 0.3 ? 1.0 : 0.0) : (rng.u01() < 0.4 ? double(float(rng.u01())) : 0.0);
        w = random_vec(rng, size_t(H) * O, 1.0);
        dl = random_vec(rng, size_t(B) * O, 1.0);
        out = ref_readout_outs(B, T, H, O, beta, spk, w);
        ref_reduce(B, T, O, r, out, logits, pick);
        bool ok = true;
        if (r == ro::Reduce::kMax)  // a clear maximum, so float32 picks the same t as float64
          for (int b = 0; b < B; ++b)
            for (int k = 0; k < O; ++k) {
              const double m = logits[size_t(b) * O + k];
              int at_max = 0;
              for (int t = 0; t < T; ++t) {
                const double v = out[(size_t(b) * T + t) * O + k];
                if (std::fabs(v - m) < 1e-4) ++at_max;
              }
              ok &= at_max == 1;
            }
        if (ok) break;
      }
      const std::string tg = tag + " " + names[ri] + (binary ? " binary" : " continuous");
      Vec dw, dspk;
      ref_readout_grads(B, T, H, O, beta, spk, w, pick, dl, dw, dspk);
      if (!binary) {  // the explicit-sum gradients against central differences of the definition
        Vec sp = spk, ww = w;
        auto loss = [&]() {
          Vec lg, pk;
          ref_reduce(B, T, O, r, ref_readout_outs(B, T, H, O, beta, sp, ww), lg, pk);
          double L = 0;
          for (size_t k = 0; k < lg.size(); ++k) L += dl[k] * lg[k];
          return L;
        };
        auto probe = fd_probe(seed ^ 0x7d, loss);
        probe(ww, dw, "w");
        probe(sp, dspk, "spk");
        expect_fd_agrees(probe.worst, " (" + tg + ")");
      }
      const FVec fs = to_f(spk), fw = to_f(w), fdl = to_f(dl);
      struct Out {
        FVec logits, dw, dspk;
        std::vector<int32_t> am;
      };
      const auto run = [&](const FVec* preset, int calls) {
        Out o;
        o.logits.assign(size_t(B) * O, -1.0f);
        o.am.assign(size_t(B) * O, -1);
        ro::Forward(ctx, d, fw.data(), float(beta), r, fs.data(), o.logits.data(), o.am.data());
        preset_grad(o.dw, fw.size(), 0, preset);
        o.dspk.assign(fs.size(), -7.0f);
        for (int k = 0; k < calls; ++k)
          ro::Backward(ctx, d, fw.data(), float(beta), r, fs.data(), o.am.data(), fdl.data(), o.dw.data(), o.dspk.data());
        return o;
      };
      const auto [o1, o2] = on_1_and_2_threads([&] { return run(nullptr, 1); });
      expect_close(o1.logits, logits, 1e-5, tg + ": logits");
      expect_close(o1.dw, dw, 1e-5, tg + ": dW");
      expect_close(o1.dspk, dspk, 1e-5, tg + ": dspk");
      expect(bitwise_equal(o1.logits, o2.logits) && bitwise_equal(o1.dw, o2.dw) && bitwise_equal(o1.dspk, o2.dspk),
             tg + ": threads 1 and 2 bitwise equal");
      {  // dspk only at a LIF layer's active set (some entries where spk = 0): the dense dspk gathered
        // there, bitwise (the same O-long dot in the same order), dW unchanged, threads 1 and 2
        lif::EventSet at;
        at.B = B, at.T = T;
        at.offsets.assign(1, 0);
        Rng ra(seed * 31 + ri * 2 + binary);
        for (int q = 0; q < B * T; ++q) {
          for (int j = 0; j < H; ++j)
            if (ra.u01() < 0.25) at.index.push_back(j), at.value.push_back(1.0f);
          at.offsets.push_back(int64_t(at.index.size()));
        }
        const auto run_at = [&] {
          FVec dwa(fw.size(), 0.0f), dsa(size_t(at.count()), -7.0f);
          dsa.reserve(1);
          ro::Backward(ctx, d, fw.data(), float(beta), r, fs.data(), o1.am.data(), fdl.data(), dwa.data(), nullptr, &at,
                       dsa.data());
          return std::make_pair(dwa, dsa);
        };
        const auto [a1, a2] = on_1_and_2_threads(run_at);
        // dW from Forward's saved spikes: the same bits as from the dense spk
        lif::EventSet sp;
        FVec lg2(size_t(B) * O);
        std::vector<int32_t> am2(size_t(B) * O);
        ro::Forward(ctx, d, fw.data(), float(beta), r, fs.data(), lg2.data(), am2.data(), &sp);
        size_t nz = 0;
        for (float v : fs) nz += v != 0.0f;
        const auto run_sp = [&] {
          FVec dws(fw.size(), 0.0f), dsa(size_t(at.count()), -7.0f);
          dsa.reserve(1);
          ro::Backward(ctx, d, fw.data(), float(beta), r, fs.data(), am2.data(), fdl.data(), dws.data(), nullptr, &at,
                       dsa.data(), &sp);
          return std::make_pair(dws, dsa);
        };
        const auto [s1, s2] = on_1_and_2_threads(run_sp);
        expect(size_t(sp.count()) == nz && bitwise_equal(lg2, o1.logits), tg + ": saved spikes = the nonzeros of spk");
        expect(bitwise_equal(s1.first, o1.dw) && bitwise_equal(s2.first, o1.dw) && bitwise_equal(s1.second, a1.second),
               tg + ": dW from the saved spikes = from the dense spk, bitwise, threads 1 and 2");
        FVec want(size_t(at.count()));
        for (int q = 0; q < B * T; ++q)
          for (int64_t e = at.offsets[q]; e < at.offsets[q + 1]; ++e) want[e] = o1.dspk[size_t(q) * H + at.index[e]];
        expect(bitwise_equal(a1.second, want), tg + ": dspk_active = dense dspk at the active entries, bitwise");
        expect(bitwise_equal(a1.first, o1.dw), tg + ": dW with dspk_active = dW without, bitwise");
        expect(bitwise_equal(a1.first, a2.first) && bitwise_equal(a1.second, a2.second),
               tg + ": dspk_active, threads 1 and 2 bitwise equal");
        lif::EventSet bad = at;
        bad.B = B + 1;
        bool threw = false;
        try {
          FVec dwa(fw.size(), 0.0f), dsa(size_t(at.count()) + 1);
          ro::Backward(ctx, d, fw.data(), float(beta), r, fs.data(), o1.am.data(), fdl.data(), dwa.data(), nullptr, &bad,
                       dsa.data());
        } catch (const std::invalid_argument&) {
          threw = true;
        }
        expect(threw, tg + ": an active set over another B is refused");
      }
      Rng rr(seed + 5);
      const FVec R = to_f(random_vec(rr, 97, 1.0));
      const Out op = run(&R, 1), o2c = run(nullptr, 2);
      expect_accumulates(tg, scaled_err(op.dw, shifted(o1.dw, R, 0)), scaled_err(o2c.dw, times2(o1.dw)));
    }
  }
}

// A tie: with β_r = 0, out_{t+1} = spk_t @ w, so equal spike patterns at t = 1 and t = 3 give
// exactly equal maxima out_2 = out_4 > 0; the gradient must go to the first (t = 2, i.e. spk_1),
// as torch.max's index.
void check_readout_tie() {
  const evnn::Context ctx = evnn::ThreadContext();
  const ro::Dims d{1, 6, 2, 1};
  const FVec w{0.5f, 0.25f}, dl{1.0f};
  FVec spk(12, 0.0f);
  spk[1 * 2 + 0] = spk[3 * 2 + 0] = 1.0f;  // unit 0 at t = 1 and t = 3
  FVec logits(1), dw(2, 0.0f), dspk(12, -7.0f);
  std::vector<int32_t> am(1, -1);
  ro::Forward(ctx, d, w.data(), 0.0f, ro::Reduce::kMax, spk.data(), logits.data(), am.data());
  ro::Backward(ctx, d, w.data(), 0.0f, ro::Reduce::kMax, spk.data(), am.data(), dl.data(), dw.data(), dspk.data());
  expect(logits[0] == 0.5f && am[0] == 2, "readout tie: logit 0.5 at the first maximum t = 2 (argmax " + std::to_string(am[0]) + ")");
  expect(dspk[1 * 2 + 0] == 0.5f && dspk[1 * 2 + 1] == 0.25f && dspk[3 * 2 + 0] == 0.0f && dspk[3 * 2 + 1] == 0.0f,
         "readout tie: dspk only at spk_1, none at spk_3");
  expect(dw[0] == 1.0f && dw[1] == 0.0f, "readout tie: dW from spk_1 alone");
}

// ---- the spike-count regulariser -----------------------------------------------------------

namespace rg = evnn::lif_regularizer;

double ref_reg(int B, int T, int H, const Vec& spk, const rg::Params& p, Vec* row) {
  double L = 0;
  if (row) row->assign(size_t(B) * H, 0.0);
  for (int b = 0; b < B; ++b) {
    Vec n(H, 0.0);
    for (int t = 0; t < T; ++t)
      for (int j = 0; j < H; ++j) n[j] += spk[(size_t(b) * T + t) * H + j];
    double tot = 0;
    for (double v : n) tot += v;
    const double u = tot / H - p.f_up;
    if (u > 0) L += p.lambda_up * std::pow(u, p.p_up);
    for (int j = 0; j < H; ++j) {
      const double v = p.f_low - n[j];
      if (v > 0) L += p.lambda_low / H * v * v;
      if (row)
        (*row)[size_t(b) * H + j] =
            ((u > 0 ? p.lambda_up * p.p_up * std::pow(u, p.p_up - 1) / H : 0.0) + (v > 0 ? -2 * p.lambda_low / H * v : 0.0)) / B;
    }
  }
  return L / B;
}

void check_regularizer(uint64_t seed, int B, int T, int H, double f_up, double p_up, double f_low) {
  const std::string tag = "regulariser B=" + std::to_string(B) + " T=" + std::to_string(T) + " H=" + std::to_string(H) +
                          " p_up=" + std::to_string(p_up);
  const evnn::Context ctx = evnn::ThreadContext();
  rg::Params p;
  p.f_up = f_up, p.p_up = p_up, p.f_low = f_low;
  // continuous values, redrawn until both hinges are 1e-3 or more from their kink, for the FD
  Vec spk;
  for (uint64_t s2 = seed;; ++s2) {
    Rng rng(s2);
    spk.resize(size_t(B) * T * H);
    for (auto& v : spk) v = rng.u01() < 0.2 ? double(float(rng.u01())) : 0.0;
    bool ok = true;
    for (int b = 0; b < B; ++b) {
      double tot = 0;
      for (int j = 0; j < H; ++j) {
        double n = 0;
        for (int t = 0; t < T; ++t) n += spk[(size_t(b) * T + t) * H + j];
        ok &= std::fabs(n - f_low) > 1e-3;
        tot += n;
      }
      ok &= std::fabs(tot / H - f_up) > 1e-3;
    }
    if (ok) break;
  }
  Vec row;
  const double L = ref_reg(B, T, H, spk, p, &row);
  // dL/dspk[b,t,j] = row[b,j] at every t: central differences on spk against the row broadcast
  Vec grad(spk.size());
  for (size_t k = 0; k < spk.size(); ++k) grad[k] = row[(k / (size_t(T) * H)) * H + k % H];
  Vec sp = spk;
  auto probe = fd_probe(seed ^ 0x5e, [&]() { return ref_reg(B, T, H, sp, p, nullptr); });
  probe(sp, grad, "spk");
  expect_fd_agrees(probe.worst, " (" + tag + ")");
  const FVec fs = to_f(spk);
  const auto run = [&] {
    FVec r(size_t(B) * H, -7.0f);
    const double l = rg::SpikeCount(ctx, B, T, H, fs.data(), p, r.data());
    return std::make_pair(l, r);
  };
  const auto [a1, a2] = on_1_and_2_threads(run);
  expect(std::fabs(a1.first - L) <= 1e-6 * std::max(1.0, std::fabs(L)), tag + ": loss " + std::to_string(a1.first) + " vs " + std::to_string(L));
  expect_close(a1.second, row, 1e-6, tag + ": dspk_row");
  expect(a1.first == a2.first && bitwise_equal(a1.second, a2.second), tag + ": threads 1 and 2 bitwise equal");
  // binary spikes exactly at both kinks: the hinge gradients are 0 there
  FVec at(size_t(1) * 2 * 2, 0.0f);
  at[0] = at[1] = 1.0f;
  rg::Params q;
  q.f_up = 1.0, q.f_low = 1.0;
  FVec r(2, -7.0f);
  const double l0 = rg::SpikeCount(ctx, 1, 2, 2, at.data(), q, r.data());
  expect(l0 == 0.0 && r[0] == 0.0f && r[1] == 0.0f, tag + ": at the kinks (u = 0, Σ_t spk = f_low) loss and gradient are 0");
}

}  // namespace

int main() {
  check_problem(1, 2, 12, 5, 4, 0.9048374, true);
  check_problem(11, 3, 20, 9, 7, 0.8187308, true);
  check_problem(21, 4, 30, 70, 13, 0.9048374, false);  // I > one 64-unit dW block
  check_problem(31, 1, 1, 3, 2, 0.9, false);           // T = 1: nothing flows
  check_problem(41, 5, 25, 130, 33, 0.8187308, false);
  check_problem(51, 9, 16, 20, 11, 0.9048374, false);  // several rows per thread on 2 threads
  // small β over many steps: S3GD's pre-scaled decay states (lif_s3gd.cc) rebase every K < T steps
  check_problem(56, 4, 48, 21, 9, 0.3, false);
  check_problem(57, 3, 40, 17, 19, 0.05, false);
  // I > 256: the dx pass walks each row once per block of 256 input units (lif_s3gd.cc dx_row_block)
  check_problem(58, 3, 14, 300, 10, 0.9048374, false, 0.04);
  check_bad_events();
  check_readout(61, 2, 6, 4, 3, 0.9048374);
  check_readout(71, 9, 11, 37, 5, 0.8187308);  // several rows per thread, H > one dW block
  check_readout(76, 3, 8, 7, 20, 0.9048374);   // O > 16: the outputs span two vectors (SHD has 20)
  check_readout_tie();
  check_regularizer(81, 3, 9, 5, 0.3, 1.0, 0.5);
  check_regularizer(91, 7, 12, 6, 0.2, 2.0, 0.4);
  return summary();
}
