#include "solver/split_step.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "solver/observables.hpp"

namespace qtzflow::solver {

namespace {

using grids::complex;

/// |∇V|² by 4th-order central differences on a periodic grid (indices wrap).  V may be one rank's
/// slab of a distributed field: the two rows on either side come from the neighbouring ranks.
template <int D>
void gradient_squared(const grids::Grid<D>& g, const grids::Field<double, D>& V, grids::Field<double, D>& out, std::vector<double>& halo) {
  if (out.size() != V.size()) out = V;  // once: the same block as V
  std::fill(out.begin(), out.end(), 0.0);
  const long n0 = static_cast<long>(g.n(0)), rows = static_cast<long>(V.extent()[0]), first = static_cast<long>(V.offset()[0]);
  const std::size_t row = V.size() / static_cast<std::size_t>(rows);
  // Axis 0, through the halo rows first-2, first-1, first+rows, first+rows+1 (periodic).
  const std::array<long, 4> wanted{(first - 2 + 2 * n0) % n0, (first - 1 + n0) % n0, (first + rows) % n0, (first + rows + 1) % n0};
  halo.resize(4 * row);  // kept by the caller: no allocation after the first call
  if (V.distributed()) {
    core::mpi::fetch_rows(V.values(), row, first, wanted, halo);
  } else {
    for (std::size_t w = 0; w < 4; ++w) std::copy_n(V.data() + static_cast<std::size_t>(wanted[w]) * row, row, halo.data() + w * row);
  }
  auto row_at = [&](long k) {
    return k < 0       ? halo.data() + static_cast<std::size_t>(k + 2) * row
           : k >= rows ? halo.data() + static_cast<std::size_t>(2 + k - rows) * row
                       : V.data() + static_cast<std::size_t>(k) * row;
  };
  const double c0 = 1.0 / (12 * g.spacing(0));
  for (long k = 0; k < rows; ++k) {
    const double *p2 = row_at(k + 2), *p1 = row_at(k + 1), *m1 = row_at(k - 1), *m2 = row_at(k - 2);
    double* o = out.data() + static_cast<std::size_t>(k) * row;
    for (std::size_t j = 0; j < row; ++j) {
      const double d = c0 * (-p2[j] + 8 * p1[j] - 8 * m1[j] + m2[j]);
      o[j] += d * d;
    }
  }
  // The other axes are whole on every rank.
  std::size_t stride = row;
  for (int a = 1; a < D; ++a) {
    const std::size_t n = g.n(a);
    stride /= n;
    const double c = 1.0 / (12 * g.spacing(a));
    for (std::size_t i = 0; i < V.size(); ++i) {
      const std::size_t k = (i / stride) % n, base = i - k * stride;
      auto at = [&](std::size_t j) { return V[base + ((j + n) % n) * stride]; };
      const double d = c * (-at(k + 2) + 8 * at(k + 1) - 8 * at(k + n - 1) + at(k + n - 2));
      out[i] += d * d;
    }
  }
}

/// The layout of an undistributed solver: everything on this process, spectrum in grid order.
template <int D>
grids::SlabLayout<D> whole_layout(const typename grids::Grid<D>::Shape& shape, const typename grids::Grid<D>::Shape& spectral) {
  grids::SlabLayout<D> L;
  L.global = L.local = shape;
  L.spectral_global = L.spectral_local = spectral;
  for (int a = 0; a < D; ++a) L.spectral_axes[a] = a;
  L.capacity = grids::Field<double, D>::product(spectral);
  return L;
}

// "Emb 4/3 AK p" (Auzinger, Hofstätter, Ketcheson, Koch 2017; W. Auzinger's collection of
// splitting methods): (a_k, b_k), A (kinetic) first.  The order-4 method is palindromic
// (b = reversed a); the order-3 partner shares a1, b1, a2, b2.  Local orders 5 and 4 are checked in
// tests/convergence/test_split_step_convergence.cpp.
constexpr std::array<double, 5> kEmbA{0.125962888700250514, 0.751193431379145450, 0.127551831557005609, -0.338296598434303506,
                                      0.333588446797901933};
constexpr std::array<double, 5> kEmbB{0.333588446797901933, -0.338296598434303506, 0.127551831557005609, 0.751193431379145450,
                                      0.125962888700250514};
constexpr std::array<double, 5> kEmbPartnerA{0.125962888700250514, 0.751193431379145450, 0.0, -0.242703571757396124, 0.365547251678000160};
constexpr std::array<double, 5> kEmbPartnerB{0.333588446797901933, -0.338296598434303506, 0.261153550449697153, 0.596114052266110425,
                                             0.147440548920593995};
constexpr std::size_t kEmbSharedOps = 4;  // K(a1) V(b1) K(a2) V(b2)

std::vector<double> stage_coefficients(SplitScheme s) {
  if (s == SplitScheme::strang) return {1.0};
  const double c = std::cbrt(2.0), w1 = 1 / (2 - c), w0 = -c / (2 - c);  // Yoshida (1990)
  return {w1, w0, w1};
}

/// Wavenumbers per storage axis of this process's spectral block: FFT order, or j·2π/L on the
/// halved axis of a real transform (r2c keeps j = 0..n/2 only).
template <int D>
std::array<std::vector<double>, D> axis_wavenumbers(const grids::Grid<D>& g, const grids::SlabLayout<D>& L) {
  std::array<std::vector<double>, D> k;
  for (int s = 0; s < D; ++s) {
    const int a = L.spectral_axes[s];
    k[s].resize(L.spectral_local[s]);
    const bool half = a == D - 1 && L.spectral_global[s] != g.n(a);
    for (std::size_t j = 0; j < k[s].size(); ++j) {
      const std::size_t jg = L.spectral_offset[s] + j;
      k[s][j] = half ? 2 * std::numbers::pi / g.length(a) * static_cast<double>(jg) : g.wavenumber(a, jg);
    }
  }
  return k;
}

/// |k|² on the spectral block; with `half_spectrum`, modes 0 < j < n/2 of the halved axis count
/// twice (they stand for their conjugate partners too), so Σ k2·|ψ̂|² is the whole sum.
template <int D>
grids::Field<double, D> wavenumber_squared(const grids::Grid<D>& g, const grids::SlabLayout<D>& L, const std::array<std::vector<double>, D>& k,
                                           bool half_spectrum) {
  std::array<std::vector<double>, D> w;
  for (int s = 0; s < D; ++s) {
    w[s].assign(k[s].size(), 1.0);
    const int a = L.spectral_axes[s];
    if (!half_spectrum || a != D - 1) continue;
    const std::size_t n = g.n(a);
    for (std::size_t j = 0; j < w[s].size(); ++j) {
      const std::size_t jg = L.spectral_offset[s] + j;
      w[s][j] = (jg == 0 || (n % 2 == 0 && jg == n / 2)) ? 1.0 : 2.0;
    }
  }
  grids::Field<double, D> k2(L.spectral_local);
  std::size_t i = 0;
  if constexpr (D == 1) {
    for (std::size_t a = 0; a < k[0].size(); ++a) k2[i++] = w[0][a] * k[0][a] * k[0][a];
  } else if constexpr (D == 2) {
    for (std::size_t a = 0; a < k[0].size(); ++a)
      for (std::size_t b = 0; b < k[1].size(); ++b) k2[i++] = w[0][a] * w[1][b] * (k[0][a] * k[0][a] + k[1][b] * k[1][b]);
  } else {
    for (std::size_t a = 0; a < k[0].size(); ++a)
      for (std::size_t b = 0; b < k[1].size(); ++b)
        for (std::size_t c = 0; c < k[2].size(); ++c)
          k2[i++] = w[0][a] * w[1][b] * w[2][c] * (k[0][a] * k[0][a] + k[1][b] * k[1][b] + k[2][c] * k[2][c]);
  }
  return k2;
}

/// Runs row(r) for every row r of `rows` (a row = the contiguous last axis), threaded for large
/// fields.
template <class F>
void for_each_row(std::ptrdiff_t rows, std::size_t total, const F& row) {
  if (static_cast<std::ptrdiff_t>(total) >= core::kParallelThreshold) {
#pragma omp parallel for schedule(static) num_threads(core::thread_count())
    for (std::ptrdiff_t r = 0; r < rows; ++r) row(r);
  } else {
    for (std::ptrdiff_t r = 0; r < rows; ++r) row(r);
  }
}

/// W(x) = Σ_a s_a², s_a ∈ [0,1] the relative depth into the layer of width w at either edge, on
/// the block `W` (its rows of axis 0).
template <int D>
void absorber_profile(const grids::Grid<D>& g, double width, grids::Field<double, D>& W) {
  grids::for_each_point_of_rows(g, W.offset()[0], W.extent()[0], [&](std::size_t i, const auto& x) {
    double s2 = 0;
    for (int a = 0; a < D; ++a) {
      const double dist = std::min(x[a] - g.lower()[a], g.upper()[a] - x[a]);
      const double s = std::max(0.0, (width - dist) / width);
      s2 += s * s;
    }
    W[i] = s2;
  });
}

}  // namespace

void SplitStepOptions::check() const {
  core::require_positive("schrodinger.dt", dt);
  if (mode == TimeMode::imaginary && (scheme == SplitScheme::yoshida4 || scheme == SplitScheme::emb43))
    core::throw_invalid("schrodinger.scheme", std::string(core::name_of(scheme)),
                        "strang or chin4 in imaginary time (a negative sub-step is ill-posed there)");
  core::require_non_negative("schrodinger.absorber_width", absorber_width);
  core::require_non_negative("schrodinger.absorber_strength", absorber_strength);
  if (absorber_width > 0 && mode == TimeMode::imaginary)
    core::throw_invalid("schrodinger.absorber_width", core::format_value(absorber_width), "0 in imaginary time (the layer is a real-time device)");
  control.check("schrodinger", dt);
}

int order_of(SplitScheme s) { return s == SplitScheme::strang ? 2 : 4; }

template <int D>
SplitStepSolver<D>::SplitStepSolver(const grids::Grid<D>& grid, RField V, double T, SplitStepOptions opts)
    : grid_(grid), schedule_(potentials::Schedule::constant(T)), V_(std::move(V)) {
  if (V_.global_extent() != grid.shape()) grids::require_shape("V", V_, grid.shape());
  const std::size_t first = V_.offset()[0] * (grid.size() / grid.n(0));
  for (std::size_t i = 0; i < V_.size(); ++i)
    if (!std::isfinite(V_[i]))
      core::throw_invalid("potential", "V = " + core::format_value(V_[i]) + " at x = " + potentials::point_string(grid, first + i),
                          "finite at every grid point");
  init(opts);
}

template <int D>
SplitStepSolver<D>::SplitStepSolver(const potentials::Landscape<D>& landscape, potentials::PotentialKind kind, potentials::Schedule schedule,
                                    SplitStepOptions opts)
    : grid_(landscape.grid()), landscape_(landscape), kind_(kind), schedule_(schedule) {
  init(opts);
}

template <int D>
void SplitStepSolver<D>::init(SplitStepOptions opts) {
  opts_ = opts;
  real_time_ = opts.mode == TimeMode::real;
  if (grid_.boundary() != grids::Boundary::periodic)
    core::throw_invalid("grid.boundary", grids::to_string(grid_.boundary()), "periodic for the split-step engine");
  opts.check();
  if (opts.absorber_width > 0) {
    double half = grid_.length(0) / 2;
    for (int a = 1; a < D; ++a) half = std::min(half, grid_.length(a) / 2);
    core::require_in_range("schrodinger.absorber_width", opts.absorber_width, 0, half);
  }
  // A potential built from a landscape follows T(t); a witten potential depends on T even when
  // constant, so every landscape potential is built here at t = 0.
  time_dependent_ = landscape_.has_value() && !schedule_.is_constant();

  distributed_ = opts.distributed && core::mpi::size() > 1;
  if (distributed_) {
    if constexpr (D == 1) {
      core::throw_invalid("schrodinger.distributed", "a 1D grid on " + std::to_string(core::mpi::size()) + " MPI ranks",
                          "a 2D or 3D grid (a 1D grid runs on one rank: FFTW has no distributed 1D r2c transform)");
    } else if (real_time_) {
      dcfft_.emplace(grid_.shape(), opts.rigor);
      layout_ = dcfft_->layout();
      psi_ = dcfft_->make_field();
      scratch_c_ = dcfft_->make_field();
    } else {
      drfft_.emplace(grid_.shape(), opts.rigor);
      layout_ = drfft_->layout();
      phi_ = drfft_->make_real();
      spec_ = drfft_->make_spectrum();
    }
  } else if (real_time_) {
    cfft_.emplace(grid_.shape(), opts.rigor);
    layout_ = whole_layout<D>(grid_.shape(), grid_.shape());
    psi_ = CField(grid_.shape());
    scratch_c_ = CField(grid_.shape());
  } else {
    rfft_.emplace(grid_.shape(), opts.rigor);
    layout_ = whole_layout<D>(grid_.shape(), rfft_->spectral_extent());
    phi_ = RField(grid_.shape());
    spec_ = CField(rfft_->spectral_extent());
  }
  kaxis_ = axis_wavenumbers<D>(grid_, layout_);
  k2_ = wavenumber_squared<D>(grid_, layout_, kaxis_, !real_time_);

  // The potential on this rank's rows: a whole landscape or V is cut, a block must be this one.
  // (A whole field on one rank is taken as it is: no copy.)
  if (landscape_) {
    if (distributed_ || !landscape_->f().whole()) landscape_ = landscape_->block(layout_.offset[0], layout_.local[0], distributed_);
    V_ = block_field<double>();
  } else if (distributed_ || !V_.whole()) {
    V_ = grids::as_block("V", V_, layout_.offset[0], layout_.local[0], distributed_);
  }
  if (opts.absorber_width > 0) {
    W_ = block_field<double>();
    absorber_profile(grid_, opts.absorber_width, W_);
  }
  mergeable_ = !time_dependent_ && opts.scheme != SplitScheme::emb43;
  build_programs();
  if (opts.control.adaptive()) {
    if (time_dependent_ && opts.scheme == SplitScheme::emb43)
      core::throw_invalid("schrodinger.scheme", "emb43 with a time-dependent temperature under schrodinger.tolerance",
                          "chin4 or strang (step doubling sees the error of freezing T(t) within a step; the pair does not)");
    // The order of the estimated error: T(t) frozen at each step's midpoint is order 2 whatever
    // the splitting; emb43's estimate is its order-3 partner's error.
    control_order_ = time_dependent_ ? 2 : opts.scheme == SplitScheme::emb43 ? 3 : order_of(opts.scheme);
    controller_ = core::StepController(control_order_, opts.dt, opts.control.tolerance, opts.control.horizon);
    build_adaptive_programs();
  }
  rebuild_phases(schedule_.T(0.5 * opts_.dt), schedule_.Tdot(0.5 * opts_.dt), opts_.dt);
}

template <int D>
std::size_t SplitStepSolver<D>::v_slot(double c, double gradient_step) {
  for (std::size_t i = 0; i < v_coef_.size(); ++i)
    if (v_coef_[i] == c && v_gradient_[i] == gradient_step) return i;
  v_coef_.push_back(c);
  v_gradient_.push_back(gradient_step);
  if (real_time_)
    vphase_c_.push_back(block_field<complex>());
  else
    vphase_r_.push_back(block_field<double>());
  return v_coef_.size() - 1;
}

template <int D>
std::size_t SplitStepSolver<D>::k_slot(double c) {
  for (std::size_t i = 0; i < k_coef_.size(); ++i)
    if (k_coef_[i] == c) return i;
  k_coef_.push_back(c);
  AxisFactors f;
  for (int a = 0; a < D; ++a) {
    if (real_time_)
      f.c[a].resize(kaxis_[a].size());
    else
      f.r[a].resize(kaxis_[a].size());
  }
  kfactors_.push_back(std::move(f));
  return k_coef_.size() - 1;
}

template <int D>
void SplitStepSolver<D>::build_programs() {
  if (opts_.scheme == SplitScheme::emb43) {
    // no merging: a step ends with V and the next begins with K
    step_full_ = full_step_ops(1.0);
    step_rest_.assign(step_full_.begin() + 1, step_full_.end());
    return;
  }
  if (opts_.scheme == SplitScheme::chin4) {
    // V(1/6) K(1/2) Ṽ(2/3) K(1/2) V(1/6); consecutive steps share V(1/6 + 1/6)
    merged_open_ = {{false, v_slot(1.0 / 6)}};
    merged_body_ = {{true, k_slot(0.5)}, {false, v_slot(2.0 / 3, 1.0)}, {true, k_slot(0.5)}};
    merged_close_ = {{false, v_slot(1.0 / 6)}};
    step_full_ = merged_open_;
    step_full_.insert(step_full_.end(), merged_body_.begin(), merged_body_.end());
    step_full_.insert(step_full_.end(), merged_close_.begin(), merged_close_.end());
    step_rest_.assign(step_full_.begin() + 1, step_full_.end());
    if (!time_dependent_) merged_join_ = {{false, v_slot(1.0 / 3)}};
    return;
  }
  const auto g = stage_coefficients(opts_.scheme);
  const std::size_t m = g.size();
  merged_open_ = {{false, v_slot(g[0] / 2)}};
  merged_body_.clear();
  for (std::size_t j = 0; j < m; ++j) {
    merged_body_.push_back({true, k_slot(g[j])});
    if (j + 1 < m) merged_body_.push_back({false, v_slot((g[j] + g[j + 1]) / 2)});
  }
  merged_close_ = {{false, v_slot(g[m - 1] / 2)}};
  step_full_ = merged_open_;
  step_full_.insert(step_full_.end(), merged_body_.begin(), merged_body_.end());
  step_full_.insert(step_full_.end(), merged_close_.begin(), merged_close_.end());
  step_rest_.assign(step_full_.begin() + 1, step_full_.end());
  if (!time_dependent_) merged_join_ = {{false, v_slot((g[m - 1] + g[0]) / 2)}};
}

template <int D>
std::vector<typename SplitStepSolver<D>::Op> SplitStepSolver<D>::full_step_ops(double fraction) {
  const double f = fraction;
  if (opts_.scheme == SplitScheme::chin4)
    return {{false, v_slot(f / 6)}, {true, k_slot(f / 2)}, {false, v_slot(f * 2 / 3, f)}, {true, k_slot(f / 2)}, {false, v_slot(f / 6)}};
  std::vector<Op> ops;
  if (opts_.scheme == SplitScheme::emb43) {
    for (std::size_t k = 0; k < kEmbA.size(); ++k) {
      ops.push_back({true, k_slot(f * kEmbA[k])});
      ops.push_back({false, v_slot(f * kEmbB[k])});
    }
    return ops;
  }
  const auto g = stage_coefficients(opts_.scheme);
  ops.push_back({false, v_slot(f * g[0] / 2)});
  for (std::size_t j = 0; j < g.size(); ++j) {
    ops.push_back({true, k_slot(f * g[j])});
    ops.push_back({false, v_slot(j + 1 < g.size() ? f * (g[j] + g[j + 1]) / 2 : f * g[j] / 2)});
  }
  return ops;
}

template <int D>
void SplitStepSolver<D>::build_adaptive_programs() {
  trial_main_ = full_step_ops(1.0);
  if (opts_.scheme == SplitScheme::emb43) {
    shared_prefix_ = kEmbSharedOps;
    trial_partner_.clear();
    for (std::size_t k = 2; k < kEmbPartnerA.size(); ++k) {
      if (kEmbPartnerA[k] != 0) trial_partner_.push_back({true, k_slot(kEmbPartnerA[k])});
      trial_partner_.push_back({false, v_slot(kEmbPartnerB[k])});
    }
  } else {
    trial_half_ = full_step_ops(0.5);
  }
  if (real_time_) {
    saved_c_ = psi_;
  } else {
    saved_r_ = phi_;
    trial_r_ = phi_;
  }
}

template <int D>
void SplitStepSolver<D>::rebuild_phases(double T, double Tdot, double dt) {
  if (T == phases_T_ && Tdot == phases_Tdot_ && dt == phases_dt_) return;
  core::require_positive("T", T);
  if (landscape_ && (T != phases_T_ || Tdot != phases_Tdot_)) landscape_->potential(kind_, T, real_time_ ? 0.0 : Tdot, V_);
  const double inv_n = 1.0 / static_cast<double>(grid_.size());
  const std::ptrdiff_t nv = static_cast<std::ptrdiff_t>(V_.size());
  const double strength = opts_.absorber_width > 0 ? opts_.absorber_strength : 0.0;
  const bool corrected = std::any_of(v_gradient_.begin(), v_gradient_.end(), [](double g) { return g != 0; });
  if (corrected && (T != phases_T_ || Tdot != phases_Tdot_ || grad2_.size() != V_.size())) gradient_squared(grid_, V_, grad2_, halo_);
  for (std::size_t s = 0; s < v_coef_.size(); ++s) {
    const double h = v_coef_[s] * dt;
    const double* v = V_.data();
    if (v_gradient_[s] != 0) {
      // Ṽ = V + σ T τ² |∇V|²/24 for a Chin step τ, σ = −1 in real time (ε = i τ), +1 in imaginary time
      if (vtilde_.size() != V_.size()) vtilde_ = block_field<double>();  // once: no allocation per step
      const double tau = v_gradient_[s] * dt;
      const double c = (real_time_ ? -1.0 : 1.0) * T * tau * tau / 24;
      for (std::size_t i = 0; i < V_.size(); ++i) vtilde_[i] = V_[i] + c * grad2_[i];
      v = vtilde_.data();
    }
    if (real_time_) {
      complex* p = vphase_c_[s].data();
      const double* w = strength > 0 ? W_.data() : nullptr;
      core::parallel_for(nv, [=](std::ptrdiff_t i) { p[i] = std::polar(w ? std::exp(-h * strength * w[i]) : 1.0, -h * v[i]); });
    } else {
      double* p = vphase_r_[s].data();
      core::parallel_for(nv, [=](std::ptrdiff_t i) { p[i] = std::exp(-h * v[i]); });
    }
  }
  // e^{−i T k² h} = Π_a e^{−i T k_a² h}: the kinetic factor is kept per (storage) axis, 1/N folded
  // into the last one, so the K pass streams only the field, not an N-point phase array as well.
  for (std::size_t s = 0; s < k_coef_.size(); ++s) {
    const double h = k_coef_[s] * dt * T;
    for (int a = 0; a < D; ++a) {
      const double m = a == D - 1 ? inv_n : 1.0;
      for (std::size_t j = 0; j < kaxis_[a].size(); ++j) {
        const double k2a = kaxis_[a][j] * kaxis_[a][j];
        if (real_time_)
          kfactors_[s].c[a][j] = std::polar(m, -h * k2a);
        else
          kfactors_[s].r[a][j] = m * std::exp(-h * k2a);
      }
    }
  }
  phases_T_ = T;
  phases_Tdot_ = Tdot;
  phases_dt_ = dt;
}

template <int D>
void SplitStepSolver<D>::apply(const Op& op, bool accumulate_norm, double scale) {
  if (op.kinetic) {
    // Row by row: the product of the slower axes' factors is formed once per row, the last
    // axis runs as a SIMD loop over interleaved doubles.
    // The spectrum's storage order and block come from the layout (transposed when distributed).
    const AxisFactors& fac = kfactors_[op.index];
    grids::Field<complex, D>& spec = real_time_ ? psi_ : spec_;
    const auto& ext = layout_.spectral_local;
    const std::size_t nl = ext[D - 1], total = grids::Field<complex, D>::product(ext);
    const std::ptrdiff_t rows = static_cast<std::ptrdiff_t>(total / nl);
    forward_transform();
    double* base = reinterpret_cast<double*>(spec.data());
    if (real_time_) {
      const double* fl = reinterpret_cast<const double*>(fac.c[D - 1].data());
      for_each_row(rows, total, [&](std::ptrdiff_t r) {
        complex outer(1.0, 0.0);
        std::size_t rem = static_cast<std::size_t>(r);
        for (int a = D - 2; a >= 0; --a) {
          outer *= fac.c[a][rem % ext[a]];
          rem /= ext[a];
        }
        const double orr = outer.real(), oi = outer.imag();
        const double* f = fl;  // locals, so that the SIMD loop needs no reloads through the closure
        double* u = base + 2 * static_cast<std::size_t>(r) * nl;
#pragma omp simd
        for (std::size_t j = 0; j < nl; ++j) {
          const double pr = orr * f[2 * j] - oi * f[2 * j + 1], pi = orr * f[2 * j + 1] + oi * f[2 * j];
          const double ur = u[2 * j], ui = u[2 * j + 1];
          u[2 * j] = ur * pr - ui * pi;
          u[2 * j + 1] = ur * pi + ui * pr;
        }
      });
    } else {
      const double* fl = fac.r[D - 1].data();
      for_each_row(rows, total, [&](std::ptrdiff_t r) {
        double outer = scale;
        std::size_t rem = static_cast<std::size_t>(r);
        for (int a = D - 2; a >= 0; --a) {
          outer *= fac.r[a][rem % ext[a]];
          rem /= ext[a];
        }
        const double* f = fl;
        double* u = base + 2 * static_cast<std::size_t>(r) * nl;
#pragma omp simd
        for (std::size_t j = 0; j < nl; ++j) {
          const double w = outer * f[j];
          u[2 * j] *= w;
          u[2 * j + 1] *= w;
        }
      });
    }
    backward_transform();
    return;
  }
  if (real_time_) {
    // Complex product written out on interleaved doubles so that it vectorises.
    double* u = reinterpret_cast<double*>(psi_.data());
    const double* p = reinterpret_cast<const double*>(vphase_c_[op.index].data());
    core::parallel_for(static_cast<std::ptrdiff_t>(psi_.size()), [=](std::ptrdiff_t i) {
      const double ur = u[2 * i], ui = u[2 * i + 1], pr = p[2 * i], pi = p[2 * i + 1];
      u[2 * i] = ur * pr - ui * pi;
      u[2 * i + 1] = ur * pi + ui * pr;
    });
    return;
  }
  const double* p = vphase_r_[op.index].data();
  double* u = phi_.data();
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(phi_.size());
  if (accumulate_norm) {
    // fused: scale, multiply and measure ‖φ‖² in one pass
    pending_norm2_ = over_ranks(core::parallel_sum(n,
                                                   [=](std::ptrdiff_t i) {
                                                     u[i] *= p[i] * scale;
                                                     return u[i] * u[i];
                                                   })) *
                     grid_.cell_volume();
  } else {
    core::parallel_for(n, [=](std::ptrdiff_t i) { u[i] *= p[i] * scale; });
  }
}

template <int D>
void SplitStepSolver<D>::forward_transform() {
  if (real_time_)
    dcfft_ ? dcfft_->forward(psi_) : cfft_->forward(psi_);
  else
    drfft_ ? drfft_->forward(phi_, spec_) : rfft_->forward(phi_, spec_);
}

template <int D>
void SplitStepSolver<D>::backward_transform() {
  if (real_time_)
    dcfft_ ? dcfft_->backward(psi_) : cfft_->backward(psi_);
  else
    drfft_ ? drfft_->backward(spec_, phi_) : rfft_->backward(spec_, phi_);
}

template <int D>
template <class T>
grids::Field<T, D> SplitStepSolver<D>::block_field() const {
  return grids::Field<T, D>(layout_.global, layout_.local, layout_.offset, distributed_);
}

template <int D>
template <class T>
const T* SplitStepSolver<D>::source_block(const char* key, const grids::Field<T, D>& in) const {
  return grids::block_values(key, in, grid_.shape(), layout_.local, layout_.offset);
}

template <int D>
void SplitStepSolver<D>::run(const std::vector<Op>& ops) {
  for (const Op& op : ops) apply(op, false, 1.0);
}

template <int D>
void SplitStepSolver<D>::advance(long n) {
  core::require_at_least("steps", n, 0);
  if (opts_.control.adaptive()) core::throw_invalid("advance", "fixed steps", "advance_to(t) under error control (schrodinger.tolerance > 0)");
  if (n == 0) return;
  const double dt = opts_.dt;
  // the phases may have been built for another step (a landscape potential is rebuilt only
  // when T changes)
  if (!time_dependent_) rebuild_phases(schedule_.T(0.5 * dt), schedule_.Tdot(0.5 * dt), dt);
  // Imaginary time: the state entering a step is normalised by folding 1/‖φ‖ of the previous
  // step into the step's first operation; the last V pass of each step measures ‖φ‖².
  // `full` says whether the norm measured at the end covers one whole step: true for an
  // unmerged step and for a merged step ending in the join, whose V pass carries the first half
  // of the next step; the closing half-step of a merged run only finishes the previous stride.
  auto finish_step = [&](const std::vector<Op>& last, bool full) {
    if (real_time_) {
      run(last);
    } else {
      for (std::size_t j = 0; j + 1 < last.size(); ++j) apply(last[j], false, 1.0);
      apply(last.back(), true, 1.0);
      if (!std::isfinite(pending_norm2_) || pending_norm2_ <= 0)
        throw core::NumericalError("split-step: the state became non-finite or zero at step " + std::to_string(steps_ + 1) +
                                   " (t = " + core::format_value(t_ + dt) + "); reduce dt or check the potential");
      if (full) decay_energy_ = -0.5 * std::log(pending_norm2_) / dt;
    }
    t_ += dt;
    ++steps_;
  };
  auto scale = [&] { return real_time_ ? 1.0 : 1.0 / std::sqrt(pending_norm2_); };

  if (!mergeable_) {
    for (long s = 0; s < n; ++s) {
      if (time_dependent_) rebuild_phases(schedule_.T(t_ + 0.5 * dt), schedule_.Tdot(t_ + 0.5 * dt), dt);
      apply(step_full_.front(), false, scale());
      finish_step(step_rest_, true);
    }
  } else {
    apply(merged_open_.front(), false, scale());
    for (long s = 0; s < n; ++s) {
      // the first op of a step carries the normalisation of the previous one
      apply(merged_body_.front(), false, s == 0 ? 1.0 : scale());
      for (std::size_t j = 1; j < merged_body_.size(); ++j) apply(merged_body_[j], false, 1.0);
      finish_step(s + 1 < n ? merged_join_ : merged_close_, s + 1 < n || n == 1);
    }
  }
  if (real_time_) {
    check_finite("psi");
  } else {
    const double s = 1.0 / std::sqrt(pending_norm2_);
    for (double& v : phi_) v *= s;
    pending_norm2_ = 1;
  }
}

template <int D>
void SplitStepSolver<D>::set_error_horizon(double h) {
  core::require_positive("schrodinger.horizon", h);
  controller_.set_horizon(h);
}

template <int D>
void SplitStepSolver<D>::run_with_phases(const std::vector<Op>& ops, double t_mid, double dt) {
  rebuild_phases(schedule_.T(t_mid), schedule_.Tdot(t_mid), dt);
  run(ops);
}

namespace {

template <class T, int D>
void copy_field(const grids::Field<T, D>& from, grids::Field<T, D>& to) {
  const T* a = from.data();
  T* b = to.data();
  core::parallel_for(static_cast<std::ptrdiff_t>(from.size()), [=](std::ptrdiff_t i) { b[i] = a[i]; });
}

}  // namespace

template <int D>
template <class F>
void SplitStepSolver<D>::doubling(F& state, F& coarse, double t0, double h) {
  // the engine steps psi_ / phi_: the coarse step runs on the swapped-in copy
  copy_field(state, coarse);
  std::swap(state, coarse);
  run_with_phases(trial_main_, t0 + 0.5 * h, h);
  std::swap(state, coarse);
  run_with_phases(trial_half_, t0 + 0.25 * h, h);
  run_with_phases(trial_half_, t0 + 0.75 * h, h);
}

template <int D>
double SplitStepSolver<D>::trial_step(double h) {
  // The rounding level of the difference of two propagations, measured at 3-4 ulp relative
  // (steps of 1e-12, where the splitting error is nil: 6.9e-16 for emb43's raw difference, 1.8e-16
  // for Strang's times 3); 16 ulp are taken off, as in the Fokker–Planck estimate, so that a tight
  // tolerance at small steps meets a floor instead of driving the step to zero.
  constexpr double kRounding = 16 * std::numeric_limits<double>::epsilon();
  auto floored = [](double raw) { return std::max(0.0, raw - kRounding); };
  const double t0 = t_, dv = grid_.cell_volume();
  const auto n = static_cast<std::ptrdiff_t>(real_time_ ? psi_.size() : phi_.size());
  const double rich = 1.0 / (std::ldexp(1.0, control_order_) - 1);  // step doubling: the half-steps' error
  if (real_time_) {
    copy_field(psi_, saved_c_);
    const double norm0 = norm2_of(saved_c_.data());
    if (opts_.scheme == SplitScheme::emb43) {
      rebuild_phases(schedule_.T(t0 + 0.5 * h), schedule_.Tdot(t0 + 0.5 * h), h);
      for (std::size_t i = 0; i < shared_prefix_; ++i) apply(trial_main_[i], false, 1.0);
      copy_field(psi_, scratch_c_);
      for (std::size_t i = shared_prefix_; i < trial_main_.size(); ++i) apply(trial_main_[i], false, 1.0);
      std::swap(psi_, scratch_c_);
      run(trial_partner_);
      std::swap(psi_, scratch_c_);
    } else {
      doubling(psi_, scratch_c_, t0, h);
    }
    const complex *a = psi_.data(), *b = scratch_c_.data();
    const double d2 = over_ranks(core::parallel_sum(n, [=](std::ptrdiff_t i) { return std::norm(a[i] - b[i]); })) * dv;
    const double scale = opts_.scheme == SplitScheme::emb43 ? 1.0 : rich;
    return scale * floored(std::sqrt(d2 / norm0));
  }
  // imaginary time: step doubling on the normalised states
  copy_field(phi_, saved_r_);
  doubling(phi_, trial_r_, t0, h);
  pending_norm2_ = norm2_of(phi_.data());
  const double sf = 1 / std::sqrt(pending_norm2_), sc = 1 / std::sqrt(norm2_of(trial_r_.data()));
  const double *a = phi_.data(), *b = trial_r_.data();
  const double d2 = over_ranks(core::parallel_sum(n, [=](std::ptrdiff_t i) {
                      const double d = a[i] * sf - b[i] * sc;
                      return d * d;
                    })) *
                    dv;
  return rich * floored(std::sqrt(d2));
}

template <int D>
void SplitStepSolver<D>::advance_to(double t_target) {
  if (!opts_.control.adaptive())
    core::throw_invalid("advance_to", "a solver with fixed steps", "schrodinger.tolerance > 0 (use advance(n) for fixed steps)");
  controller_.drive(
      t_, t_target, opts_.control.min_step(opts_.dt), "split-step", "schrodinger.dt_min", [&](double h) { return trial_step(h); },
      [&](double h) {
        if (!real_time_) {
          const double s = 1 / std::sqrt(pending_norm2_);
          double* u = phi_.data();
          core::parallel_for(static_cast<std::ptrdiff_t>(phi_.size()), [=](std::ptrdiff_t i) { u[i] *= s; });
          decay_energy_ = -0.5 * std::log(pending_norm2_) / h;
          pending_norm2_ = 1;
        }
        ++steps_;
      },
      [&] {
        if (real_time_)
          copy_field(saved_c_, psi_);
        else
          copy_field(saved_r_, phi_);
      });
  if (real_time_) check_finite("psi");
}

template <int D>
void SplitStepSolver<D>::check_finite(const char* what) const {
  const double n2 = norm();
  if (!std::isfinite(n2))
    throw core::NumericalError(std::string("split-step: ") + what + " became non-finite by step " + std::to_string(steps_) +
                               " (t = " + core::format_value(t_) + "); reduce dt or check the potential");
}

template <int D>
double SplitStepSolver<D>::temperature() const {
  return schedule_.T(t_);
}

template <int D>
template <class T>
double SplitStepSolver<D>::norm2_of(const T* block) const {
  const auto n = static_cast<std::ptrdiff_t>(grids::Field<double, D>::product(layout_.local));
  return over_ranks(core::parallel_sum(n, [=](std::ptrdiff_t i) { return abs2(block[i]); })) * grid_.cell_volume();
}

template <int D>
void SplitStepSolver<D>::set_state(const CField& psi, double t) {
  const complex* src = source_block("state", psi);
  if (!real_time_) core::throw_invalid("state", "a complex field", "real in imaginary time");
  const double n2 = norm2_of(src);
  if (!std::isfinite(n2) || n2 <= 0) core::throw_invalid("state", "a field of norm " + core::format_value(n2), "finite and non-zero");
  std::copy_n(src, psi_.size(), psi_.data());
  t_ = t;
}

template <int D>
void SplitStepSolver<D>::set_state(const RField& phi, double t) {
  const double* src = source_block("state", phi);
  const double n2 = norm2_of(src);
  if (!std::isfinite(n2) || n2 <= 0) core::throw_invalid("state", "a field of norm " + core::format_value(n2), "finite and non-zero");
  t_ = t;
  if (real_time_) {
    std::copy_n(src, psi_.size(), psi_.data());
    return;
  }
  const double s = 1 / std::sqrt(n2);
  for (std::size_t i = 0; i < phi_.size(); ++i) phi_[i] = src[i] * s;
  pending_norm2_ = 1;
}

template <int D>
void SplitStepSolver<D>::restore_state(const RField& phi, double t) {
  if (real_time_) return set_state(phi, t);
  const double* src = source_block("state", phi);
  const double n2 = norm2_of(src);
  if (!std::isfinite(n2) || std::abs(n2 - 1) > 1e-8)
    core::throw_invalid("state", "a field of norm " + core::format_value(n2), "normalised (as phi() returns it)");
  std::copy_n(src, phi_.size(), phi_.data());
  t_ = t;
  pending_norm2_ = 1;
}

template <int D>
const typename SplitStepSolver<D>::CField& SplitStepSolver<D>::psi() const {
  if (!real_time_) throw core::InvalidArgument("psi", "psi: the solver runs in imaginary time; use phi()");
  return psi_;
}

template <int D>
const typename SplitStepSolver<D>::RField& SplitStepSolver<D>::phi() const {
  if (real_time_) throw core::InvalidArgument("phi", "phi: the solver runs in real time; use psi()");
  return phi_;
}

template <int D>
double SplitStepSolver<D>::norm() const {
  return real_time_ ? integral(grid_, psi_, abs2) : integral(grid_, phi_, abs2);
}

template <int D>
double SplitStepSolver<D>::energy() const {
  const double T = schedule_.T(t_), dv = grid_.cell_volume(), inv_n = 1.0 / static_cast<double>(grid_.size());
  const double* k2 = k2_.data();
  const auto nk = static_cast<std::ptrdiff_t>(k2_.size());
  // k2_ carries the half spectrum's factor 2 for paired modes (imaginary time).
  double kinetic;
  if (real_time_) {
    std::copy_n(psi_.data(), psi_.size(), scratch_c_.data());
    dcfft_ ? dcfft_->forward(scratch_c_) : cfft_->forward(scratch_c_);
    const complex* c = scratch_c_.data();
    kinetic = core::parallel_sum(nk, [=](std::ptrdiff_t i) { return k2[i] * std::norm(c[i]); });
  } else {
    drfft_ ? drfft_->forward(phi_, spec_) : rfft_->forward(phi_, spec_);
    const complex* c = spec_.data();
    kinetic = core::parallel_sum(nk, [=](std::ptrdiff_t i) { return k2[i] * std::norm(c[i]); });
  }
  const double* v = V_.data();
  const double pot = real_time_ ? core::parallel_sum(static_cast<std::ptrdiff_t>(psi_.size()),
                                                     [&](std::ptrdiff_t i) { return v[i] * std::norm(psi_[static_cast<std::size_t>(i)]); })
                                : core::parallel_sum(static_cast<std::ptrdiff_t>(phi_.size()), [&](std::ptrdiff_t i) {
                                    return v[i] * phi_[static_cast<std::size_t>(i)] * phi_[static_cast<std::size_t>(i)];
                                  });
  std::array<double, 2> sums{kinetic, pot};
  if (distributed_) core::mpi::allreduce_sum(sums);
  return (sums[0] * T * dv * inv_n + sums[1] * dv) / norm();
}

template <int D>
Eigenstate<D> SplitStepSolver<D>::relax(double tolerance, long max_steps, long check_every, const std::vector<Eigenstate<D>>* deflate) {
  if (real_time_) core::throw_invalid("schrodinger.mode", "real", "imaginary to relax a state");
  core::require_positive("tolerance", tolerance);
  core::require_at_least("max_steps", max_steps, 1);
  core::require_at_least("check_every", check_every, 1);
  const bool project = deflate != nullptr && !deflate->empty();
  const double dv = grid_.cell_volume();
  auto project_out = [&] {
    const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(phi_.size());
    for (const auto& e : *deflate) {
      const double* q = e.phi.data();
      const double c = over_ranks(core::parallel_sum(n, [&](std::ptrdiff_t i) { return q[i] * phi_[static_cast<std::size_t>(i)]; })) * dv;
      for (std::ptrdiff_t i = 0; i < n; ++i) phi_[static_cast<std::size_t>(i)] -= c * q[i];
    }
  };
  if (project) {
    project_out();
    set_state(RField(phi_), t_);
  }
  Eigenstate<D> out;
  double previous = std::numeric_limits<double>::infinity();
  long done = 0;
  while (done < max_steps) {
    const long chunk = std::min(check_every, max_steps - done);
    if (!project) {
      advance(chunk);
      out.energy = decay_energy_;
    } else {
      // Deflation needs the symmetric (unmerged) Strang step, whose eigenvectors are orthogonal.
      for (long s = 0; s < chunk; ++s) {
        advance(1);
        project_out();
        const double n2 = integral(grid_, phi_, abs2);
        out.energy = decay_energy_ - 0.5 * std::log(n2) / opts_.dt;
        const double sc = 1 / std::sqrt(n2);
        for (double& v : phi_) v *= sc;
      }
    }
    done += chunk;
    if (std::abs(out.energy - previous) < tolerance) {
      out.converged = true;
      break;
    }
    previous = out.energy;
  }
  out.steps = done;
  out.phi = phi_;
  return out;
}

template <int D>
std::vector<Eigenstate<D>> SplitStepSolver<D>::eigenstates(int count, const RField& guess, double tolerance, long max_steps, long check_every) {
  core::require_at_least("count", count, 1);
  std::vector<Eigenstate<D>> states;
  std::mt19937_64 rng(20261123);  // fixed: the perturbation only has to overlap every state
  std::uniform_real_distribution<double> u(-0.5, 0.5);
  const double* g = source_block("guess", guess);
  RField start = block_field<double>();
  std::copy_n(g, start.size(), start.data());
  double scale = 0;
  for (double v : start) scale = std::max(scale, std::abs(v));
  if (distributed_) scale = core::mpi::allreduce_max(scale);
  // The perturbation is drawn for every grid point in order, each rank keeping its own rows, so
  // that it does not depend on the rank count.
  const std::size_t first = layout_.first_flat(), total = grid_.size();
  for (int k = 0; k < count; ++k) {
    if (k > 0)
      for (std::size_t i = 0; i < total; ++i) {
        const double r = u(rng);
        if (i >= first && i - first < start.size()) start[i - first] = g[i - first] + scale * r;
      }
    set_state(start, t_);
    states.push_back(relax(tolerance, max_steps, check_every, &states));
  }
  return states;
}

template class SplitStepSolver<1>;
template class SplitStepSolver<2>;
template class SplitStepSolver<3>;

}  // namespace qtzflow::solver
