#include "solver/fokker_planck.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/error.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "grids/tridiagonal.hpp"
#include "potentials/gibbs.hpp"
#include "solver/fokker_planck_detail.hpp"

namespace qtzflow::solver {

using namespace fp_detail;

namespace {
template <std::size_t N>
Lines as_lines(const std::array<std::size_t, N>& l) {
  return {l[0], l[1], l[2]};
}
}  // namespace

template <int D>
double FokkerPlanckSolver<D>::over_ranks(double local) const {
  return distributed_ ? core::mpi::allreduce_sum(local) : local;
}

template <int D>
double FokkerPlanckSolver<D>::max_over_ranks(double local) const {
  return distributed_ ? core::mpi::allreduce_max(local) : local;
}

template <int D>
FokkerPlanckSolver<D>::FokkerPlanckSolver(const potentials::Landscape<D>& landscape, potentials::Schedule schedule, FokkerPlanckOptions opts)
    : grid_(landscape.grid()), f_(landscape.f()), schedule_(schedule), opts_(opts), rho_(landscape.grid().shape()) {
  opts.check();
  distributed_ = opts.distributed && core::mpi::size() > 1;
  if (distributed_) {
    if constexpr (D == 1) {
      core::throw_invalid("fokker_planck.distributed", "a 1D grid on " + std::to_string(core::mpi::size()) + " MPI ranks",
                          "a 2D or 3D grid (a 1D grid runs on one rank)");
    } else {
      const std::size_t n0 = grid_.n(0), m = grid_.size() / n0;
      std::size_t first = 0, rows = 0;
      if (opts.line_solve == LineSolve::transpose) {
        transpose_.emplace(n0, m);
        first = transpose_->first();
        rows = transpose_->count();
      } else {
        const auto layout = grids::slab_layout<D>(grid_.shape(), false);  // FFTW's blocks, as the transpose's
        first = layout.offset[0];
        rows = layout.local[0];
      }
      f_ = grids::as_block("landscape", landscape.f(), first, rows, true);
      rho_ = RField(f_.global_extent(), f_.extent(), f_.offset(), true);
      if (transpose_) {
        t_in_.assign(transpose_->capacity(), 0.0);
        t_out_.assign(transpose_->capacity(), 0.0);
        std::copy(f_.begin(), f_.end(), t_in_.begin());
        transpose_->forward(t_in_.data(), t_out_.data());
        f_transposed_.assign(t_out_.begin(), t_out_.begin() + static_cast<std::ptrdiff_t>(transpose_->t_count() * n0));
      } else {
        const bool periodic = grid_.boundary() == grids::Boundary::periodic;
        const bool absorbing = grid_.boundary() == grids::Boundary::absorbing;
        if (periodic) core::require_at_least("grid.n (periodic Fokker-Planck)", static_cast<long long>(n0), 3);
        // extras per line: with absorbing walls [Σ ρ, CN's absorbed mass, θ times the two walls'
        // rates]; CN alone [Σ ρ] (the mass projection's reference, which backward Euler's solve
        // sums itself: LineTotals::rhs_sum); none otherwise
        const bool cn = opts.scheme == FpScheme::crank_nicolson;
        partitioned_.emplace(n0, m, first, rows, periodic, absorbing ? 4 : cn ? 1 : 0);
        // the rows of f beyond the slab's edges (a row that does not exist is fetched wrapped and unused)
        const long wanted[2] = {first > 0 ? static_cast<long>(first) - 1 : static_cast<long>(n0) - 1,
                                first + rows < n0 ? static_cast<long>(first + rows) : 0};
        std::vector<double> halo(2 * m);
        core::mpi::fetch_rows(std::span<const double>(f_.data(), f_.size()), m, static_cast<long>(first), wanted, halo);
        f_below_.assign(halo.begin(), halo.begin() + static_cast<std::ptrdiff_t>(m));
        f_above_.assign(halo.begin() + static_cast<std::ptrdiff_t>(m), halo.end());
        const int p = core::mpi::rank(), P = core::mpi::size();
        rank_below_ = p > 0 ? p - 1 : (periodic ? P - 1 : -1);
        rank_above_ = p + 1 < P ? p + 1 : (periodic ? 0 : -1);
        for (auto* v : {&pt_sub_, &pt_diag_, &pt_sup_}) v->assign(rows * m, 0.0);
        pt_extras_.assign(partitioned_->extras() * m, 0.0);
        for (auto* v : {&pt_prev_, &pt_save_, &rho_below_, &rho_above_}) v->assign(m, 0.0);
      }
    }
  } else if (!f_.whole()) {
    grids::require_shape("landscape", f_, grid_.shape());
  }
  for (int a = 0; a < D; ++a) {
    std::size_t stride = 1;
    for (int b = a + 1; b < D; ++b) stride *= grid_.n(b);
    lines_[a] = {grid_.n(a), stride, rho_.size() / grid_.n(a)};
  }
  // distributed axis 0: the transposed array's whole lines, or the slab's segments of every line
  if (transpose_) lines_[0] = {grid_.n(0), 1, transpose_->t_count()};
  if (partitioned()) lines_[0] = {rho_.extent()[0], grid_.size() / grid_.n(0), grid_.size() / grid_.n(0)};
  for (int a = 0; a < D; ++a) {
    if (opts.scheme == FpScheme::crank_nicolson)
      axes_[a].theta = (a == D - 1) ? opts.dt / 2 : opts.dt / 4;
    else
      axes_[a].theta = opts.dt;
    half_[a].theta = opts.dt / 2;
  }
  if (grid_.boundary() == grids::Boundary::periodic)
    for (int a = 0; a < D; ++a) core::require_at_least("grid.n (periodic Fokker-Planck)", static_cast<long long>(grid_.n(a)), 3);
  build(axes_, schedule_.T(coefficient_time(0)));
  if (extrapolated()) {
    build(half_, schedule_.T(0.5 * opts.dt));
    full_ = rho_;
  }
  if (opts.control.adaptive()) {
    controller_ = core::StepController(2, opts.dt, opts.control.tolerance, opts.control.horizon);
    work21_ = rho_;
    work31_ = rho_;
  }
}

void FokkerPlanckOptions::check() const {
  core::require_positive("fokker_planck.dt", dt);
  control.check("fokker_planck", dt);
  if (control.adaptive() && scheme != FpScheme::extrapolated_euler)
    core::throw_invalid("fokker_planck.tolerance", core::format_value(control.tolerance),
                        "0 with scheme = \"" + std::string(core::name_of(scheme)) + "\" (error control needs scheme = \"extrapolated_euler\")");
}

template <int D>
void FokkerPlanckSolver<D>::ensure_outflow_buffer() {
  std::size_t maxlines = 0;
  for (const auto& l : lines_) maxlines = std::max(maxlines, l[2]);
  if (grid_.boundary() == grids::Boundary::absorbing && line_outflow_.size() < maxlines) line_outflow_.resize(maxlines);
}

template <int D>
void FokkerPlanckSolver<D>::check_finite_mass() const {
  const double m = mass();
  if (!std::isfinite(m))
    throw core::NumericalError("fokker-planck: the density became non-finite by step " + std::to_string(steps_) + " (t = " + core::format_value(t_) +
                               ")");
}

template <int D>
void FokkerPlanckSolver<D>::set_error_horizon(double h) {
  core::require_positive("fokker_planck.horizon", h);
  controller_.set_horizon(h);
}

template <int D>
void FokkerPlanckSolver<D>::prepare(FactorSet& set, double theta, double T) {
  if (set[0].theta == theta && set[0].built_T == T) return;
  for (int a = 0; a < D; ++a) set[a].theta = theta;
  build(set, T);
  set[0].built_T = T;
}

template <int D>
typename FokkerPlanckSolver<D>::Trial FokkerPlanckSolver<D>::trial_step(double h) {
  const std::size_t n = rho_.size();
  const double* r0 = rho_.data();
  double *a11 = full_.data(), *a21 = work21_.data(), *a31 = work31_.data();
  // the copies, and the probability the errors are fractions of: mass + outflow at the step's
  // start (a function of the state alone, so that a restart sees the same value)
  const double reference = over_ranks(core::parallel_sum(static_cast<std::ptrdiff_t>(n), [=](std::ptrdiff_t i) {
                             a11[i] = a21[i] = a31[i] = r0[i];
                             return r0[i];
                           })) * grid_.cell_volume() + outflow_;
  // the Aitken–Neville table's first column: 1, 2 and 3 backward-Euler sub-steps, each with its
  // coefficients frozen at the end of the sub-step (as the fixed-step extrapolation does)
  std::array<double, 3> out{0, 0, 0};
  prepare(axes_, h, schedule_.T(t_ + h));
  for (int a = 0; a < D; ++a) out[0] += sweep(axes_, a, a11);
  for (int k = 1; k <= 2; ++k) {
    prepare(half_, h / 2, schedule_.T(t_ + k * (h / 2)));
    for (int a = 0; a < D; ++a) out[1] += sweep(half_, a, a21);
  }
  for (int k = 1; k <= 3; ++k) {
    prepare(third_, h / 3, schedule_.T(t_ + k * (h / 3)));
    for (int a = 0; a < D; ++a) out[2] += sweep(third_, a, a31);
  }
  // T32 = 3·T31 − 2·T21 (into a21) and ‖T33 − T32‖ = ‖3·T31 − 4·T21 + T11‖/2, with the negative
  // part of T32 in the same pass
  const auto sums = core::parallel_sums<2>(static_cast<std::ptrdiff_t>(n), [=](std::ptrdiff_t i, std::array<double, 2>& acc) {
    const double e = 0.5 * (3 * a31[i] - 4 * a21[i] + a11[i]);
    const double c = 3 * a31[i] - 2 * a21[i];
    a21[i] = c;
    acc[0] += std::abs(e);
    acc[1] += c < 0 ? -c : 0.0;
  });
  const double cell = grid_.cell_volume();
  double err = over_ranks(sums[0]) * cell + 0.5 * std::abs(3 * out[2] - 4 * out[1] + out[0]);
  double outflow = 3 * out[2] - 2 * out[1];
  const bool limited = over_ranks(sums[1]) > 0;
  if (limited) {
    // the smallest θ with (1 − θ)·T32 + θ·T31 ≥ 0 everywhere (a max: the same for any order)
    double theta = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (a21[i] < 0) theta = std::max(theta, -a21[i] / (a31[i] - a21[i]));
    theta = max_over_ranks(theta);
    const double moved = over_ranks(core::parallel_sum(static_cast<std::ptrdiff_t>(n), [=](std::ptrdiff_t i) {
      const double d = a31[i] - a21[i];
      const double v = a21[i] + theta * d;
      a21[i] = v < 0 ? 0.0 : v;  // ≥ 0 in exact arithmetic; a rounding below 0 where the limit binds
      return std::abs(d);
    }));
    err += theta * (moved * cell + std::abs(out[2] - outflow));
    outflow += theta * (out[2] - outflow);
  }
  // Below 16 ulp the estimate is rounding, which a smaller step cannot reduce (and the
  // allowance tol·h/H shrinks with h): an error-per-unit-time controller would shrink the step
  // to nothing.  The rounding level is taken off, so that steps grow again once the truncation
  // error falls below it.
  constexpr double kRounding = 16 * std::numeric_limits<double>::epsilon();
  return {std::max(0.0, err / reference - kRounding), outflow, limited};
}

template <int D>
void FokkerPlanckSolver<D>::advance_to(double t_target) {
  if (!opts_.control.adaptive())
    core::throw_invalid("advance_to", "a solver with fixed steps", "fokker_planck.tolerance > 0 (use advance(n) for fixed steps)");
  ensure_outflow_buffer();
  Trial last{};
  controller_.drive(
      t_, t_target, opts_.control.min_step(opts_.dt), "fokker-planck", "fokker_planck.dt_min",
      [&](double h) {
        last = trial_step(h);
        return last.error;
      },
      [&](double) {
        const double* c = work21_.data();
        double* r = rho_.data();
        core::parallel_for(static_cast<std::ptrdiff_t>(rho_.size()), [=](std::ptrdiff_t i) { r[i] = c[i]; });
        outflow_ += last.outflow;
        limited_steps_ += last.limited ? 1 : 0;
        ++steps_;
      },
      [] {});  // a trial leaves rho untouched
  check_finite_mass();
}

template <int D>
void FokkerPlanckSolver<D>::build(FactorSet& set, double T) {
  core::require_positive("T", T);
  const bool cn = opts_.scheme == FpScheme::crank_nicolson;
  const bool periodic = grid_.boundary() == grids::Boundary::periodic;
  const bool absorbing = grid_.boundary() == grids::Boundary::absorbing;
  double pe_partitioned = 0;  // the partitioned axis 0's Péclet number (its faces to the next slab included)
  for (int a = 0; a < D; ++a) {
    if (partitioned() && a == 0) {
      double max_out = 0;
      build_partitioned(set[0], T, pe_partitioned, max_out);
      if (cn) positivity_violation_ = set[0].theta * max_over_ranks(max_out);
      if (cn && positivity_violation_ > 1) {
        const double dt_max = opts_.dt / positivity_violation_;
        core::throw_invalid("fokker_planck.dt", core::format_value(opts_.dt),
                            "<= " + core::format_value(dt_max) + " for crank_nicolson at T = " + core::format_value(T) +
                                " (its positivity limit; backward_euler is positive for every dt)");
      }
      continue;
    }
    const Lines L = as_lines(lines_[static_cast<std::size_t>(a)]);
    const double* fa = axis_f(a);
    const std::size_t cells = L.count * L.n;
    const double c = T / (grid_.spacing(a) * grid_.spacing(a));
    AxisFactors& A = set[a];
    const double dt = A.theta;  // the factor is (I − θ L_a); θ = dt for backward Euler
    A.lower.assign(cells, 0.0);
    if (cn) {
      A.rate_fwd.assign(cells, 0.0);
      A.rate_bwd.assign(cells, 0.0);
    }
    A.diag_inv.assign(cells, 0.0);
    A.upper.assign(cells, 0.0);
    A.absorb_rate.assign(absorbing ? 2 * L.count : 0, 0.0);
    if (periodic) {
      A.correction.assign(cells, 0.0);
      A.sm_factor.assign(L.count, 0.0);
      A.corner_last.assign(L.count, 0.0);
    }
    auto build_line = [&](std::ptrdiff_t line, double* work) {
      const std::size_t b0 = L.base(static_cast<std::size_t>(line)), n = L.n, s = L.stride;
      auto at = [&](std::size_t k) { return b0 + k * s; };                                             // cell in ρ and f
      auto ci = [&](std::size_t k) { return L.coef(static_cast<std::size_t>(line), k); };              // in the coefficients
      auto fwd = [&](std::size_t k) { return c * bernoulli((fa[at((k + 1) % n)] - fa[at(k)]) / T); };  // k → k+1
      auto bwd = [&](std::size_t k) { return c * bernoulli((fa[at(k)] - fa[at((k + 1) % n)]) / T); };  // k+1 → k
      // Tridiagonal (I − dt L_a) on the line: sub, diag, sup; corners for periodic lines.
      double *sub = work, *diag = work + n, *sup = work + 2 * n;
      for (std::size_t k = 0; k < n; ++k) {
        sub[k] = 0;
        diag[k] = 1;
        sup[k] = 0;
      }
      for (std::size_t k = 0; k + 1 < n; ++k) {
        const double rf = fwd(k), rb = bwd(k);
        if (cn) {
          A.rate_fwd[ci(k)] = rf;
          A.rate_bwd[ci(k)] = rb;
        }
        diag[k] += dt * rf;
        diag[k + 1] += dt * rb;
        sup[k] = -dt * rb;
        sub[k + 1] = -dt * rf;
      }
      double alpha = 0, beta = 0;  // A[n−1][0], A[0][n−1]
      if (periodic) {
        const double rf = fwd(n - 1), rb = bwd(n - 1);  // face (n−1, 0)
        if (cn) {
          A.rate_fwd[ci(n - 1)] = rf;
          A.rate_bwd[ci(n - 1)] = rb;
        }
        diag[n - 1] += dt * rf;
        diag[0] += dt * rb;
        alpha = -dt * rb;  // row n−1 gains from cell 0
        beta = -dt * rf;   // row 0 gains from cell n−1
      }
      if (absorbing) {
        // ρ = 0 on the wall itself, the cell face half a cell beyond the end cells (f extrapolated
        // linearly to it): a Scharfetter–Gummel flux over the distance h/2.  (A zero in a ghost
        // cell one spacing away would move the wall h/2 outwards: a first-order error in every
        // decay rate, which the Dirichlet-rate test catches.)
        const double r0 = 2 * c * bernoulli((fa[at(0)] - fa[at(1)]) / (2 * T)), r1 = 2 * c * bernoulli((fa[at(n - 1)] - fa[at(n - 2)]) / (2 * T));
        diag[0] += dt * r0;
        diag[n - 1] += dt * r1;
        A.absorb_rate[2 * static_cast<std::size_t>(line)] = r0;
        A.absorb_rate[2 * static_cast<std::size_t>(line) + 1] = r1;
      }
      double gamma = 0;
      if (periodic) {
        // Sherman–Morrison: A = A' + u vᵀ, u = (γ, 0, …, α), v = (1, 0, …, β/γ)
        gamma = -diag[0];
        diag[0] -= gamma;
        diag[n - 1] -= alpha * beta / gamma;
      }
      // Thomas factors
      double cprev = 0;
      for (std::size_t k = 0; k < n; ++k) {
        const double pivot = diag[k] - (k > 0 ? sub[k] * cprev : 0.0);
        cprev = sup[k] / pivot;
        A.lower[ci(k)] = sub[k];
        A.diag_inv[ci(k)] = 1 / pivot;
        A.upper[ci(k)] = cprev;
      }
      if (periodic) {
        // z = A'⁻¹ u, kept per line
        double* z = work + 3 * n;
        for (std::size_t k = 0; k < n; ++k) z[k] = 0;
        z[0] = gamma;
        z[n - 1] = alpha;
        for (std::size_t k = 0; k < n; ++k) z[k] = (z[k] - (k > 0 ? A.lower[ci(k)] * z[k - 1] : 0.0)) * A.diag_inv[ci(k)];
        for (std::size_t k = n - 1; k-- > 0;) z[k] -= A.upper[ci(k)] * z[k + 1];
        for (std::size_t k = 0; k < n; ++k) A.correction[ci(k)] = z[k];
        const double vz = z[0] + beta / gamma * z[n - 1];
        A.sm_factor[static_cast<std::size_t>(line)] = 1 / (1 + vz);
        A.corner_last[static_cast<std::size_t>(line)] = beta / gamma;
      }
    };
    for_lines(static_cast<std::ptrdiff_t>(L.count), build_line);
    if (cn) {
      // the explicit half (I + θ L_a) is non-negative iff θ·out_k ≤ 1 in every cell
      double max_out = 0;
      for (std::size_t line = 0; line < L.count; ++line) {
        for (std::size_t k = 0; k < L.n; ++k) {
          const std::size_t i = L.coef(line, k), im = L.coef(line, (k + L.n - 1) % L.n);
          double out = (k + 1 < L.n || periodic) ? A.rate_fwd[i] : 0.0;
          if (k > 0 || periodic) out += A.rate_bwd[im];
          if (absorbing && k == 0) out += A.absorb_rate[2 * line];
          if (absorbing && k + 1 == L.n) out += A.absorb_rate[2 * line + 1];
          max_out = std::max(max_out, out);
        }
      }
      positivity_violation_ = A.theta * max_over_ranks(max_out);  // every rank decides alike
    }
    if (cn && positivity_violation_ > 1) {
      const double dt_max = opts_.dt / positivity_violation_;
      core::throw_invalid("fokker_planck.dt", core::format_value(opts_.dt),
                          "<= " + core::format_value(dt_max) + " for crank_nicolson at T = " + core::format_value(T) +
                              " (its positivity limit; backward_euler is positive for every dt)");
    }
  }
  double pe = pe_partitioned;
  for (int a = partitioned() ? 1 : 0; a < D; ++a) {
    const Lines L = as_lines(lines_[static_cast<std::size_t>(a)]);
    const double* fa = axis_f(a);
    for (std::size_t line = 0; line < L.count; ++line) {
      const std::size_t b0 = L.base(line);
      for (std::size_t k = 0; k + 1 < L.n; ++k) pe = std::max(pe, std::abs(fa[b0 + (k + 1) * L.stride] - fa[b0 + k * L.stride]) / T);
    }
  }
  max_peclet_ = max_over_ranks(pe);
}

template <int D>
void FokkerPlanckSolver<D>::solve_axis(const AxisFactors& A, int a, double* r) {
  const Lines L = as_lines(lines_[static_cast<std::size_t>(a)]);
  const bool periodic = grid_.boundary() == grids::Boundary::periodic;
  const bool absorbing = grid_.boundary() == grids::Boundary::absorbing;
  std::vector<double>& out_per_line = line_outflow_;
  const std::ptrdiff_t count = static_cast<std::ptrdiff_t>(L.count);
  const bool cn = opts_.scheme == FpScheme::crank_nicolson;
  // Lines are solved in batches of B = kBatch (16) side by side: the Thomas recurrences run along k, the
  // lanes across lines, so the loops vectorise and a strided axis is read in contiguous runs.
  // Each lane does exactly the scalar operations in the scalar order (remainder lines use B = 1),
  // so results do not depend on how lines are batched or threaded.
  auto solve_lines = [&]<std::size_t B>(std::size_t first, double* work) {
    const std::size_t n = L.n, s = L.stride;
    double* y = work;            // y[k·B + b]
    double* rhs = work + n * B;  // right-hand side: ρ (backward Euler) or (I + θ L_a) ρ (CN)
    std::size_t base[B], line[B];
    double absorbed_old[B], before[B], after[B];
    for (std::size_t b = 0; b < B; ++b) {
      line[b] = first + b;
      base[b] = L.base(line[b]);
      absorbed_old[b] = before[b] = after[b] = 0;
    }
    // coefficients of (line b, cell k) sit at c0 + k·B + b (see Lines::coef)
    const std::size_t c0 = L.coef(first, 0);
    // How the batch lies in ρ decides the loop order of the gather and the write-back: lanes
    // adjacent in memory (an outer axis, stride a multiple of B): vector loads/stores along b;
    // lines contiguous (the last axis): each lane streams its own line; otherwise element-wise.
    // Every lane still sums and scales in the order k = 0..n−1, so results are bit-identical.
    const bool lanes_adjacent = B > 1 && s > 1 && base[B - 1] == base[0] + (B - 1);  // no block edge inside the batch
    const bool lines_contiguous = B > 1 && s == 1;
    auto in_memory_order = [&](auto&& visit) {  // visit(k, b, i): cell k of lane b is ρ[i]
      if (lanes_adjacent) {
        for (std::size_t k = 0; k < n; ++k)
#pragma omp simd
          for (std::size_t b = 0; b < B; ++b) visit(k, b, base[0] + k * s + b);
      } else if (lines_contiguous) {
        for (std::size_t b = 0; b < B; ++b)
          for (std::size_t k = 0; k < n; ++k) visit(k, b, base[b] + k);
      } else {
        for (std::size_t k = 0; k < n; ++k)
#pragma omp simd
          for (std::size_t b = 0; b < B; ++b) visit(k, b, base[b] + k * s);
      }
    };
    if (cn) {
      const double th = A.theta;
      for (std::size_t k = 0; k < n; ++k) {
        const bool has_next = k + 1 < n || periodic, has_prev = k > 0 || periodic;
        const bool edge = absorbing && (k == 0 || k + 1 == n);
#pragma omp simd
        for (std::size_t b = 0; b < B; ++b) {
          const std::size_t i = base[b] + k * s, ip = base[b] + ((k + 1) % n) * s, im = base[b] + ((k + n - 1) % n) * s;
          const std::size_t ck = c0 + k * B + b, ckm = c0 + ((k + n - 1) % n) * B + b;
          double out = has_next ? A.rate_fwd[ck] : 0.0;
          double in = 0;
          if (has_next) in += A.rate_bwd[ck] * r[ip];
          if (has_prev) {
            out += A.rate_bwd[ckm];
            in += A.rate_fwd[ckm] * r[im];
          }
          if (edge) {
            const double ra = A.absorb_rate[2 * line[b] + (k == 0 ? 0 : 1)];
            out += ra;
            absorbed_old[b] += th * ra * r[i];
          }
          rhs[k * B + b] = r[i] + th * (in - out * r[i]);
          before[b] += r[i];
        }
      }
    } else {
      in_memory_order([&](std::size_t k, std::size_t b, std::size_t i) {
        rhs[k * B + b] = r[i];
        before[b] += r[i];
      });
    }
    grids::thomas_lanes(rhs, y, A.lower.data() + c0, A.diag_inv.data() + c0, A.upper.data() + c0, n, std::integral_constant<std::size_t, B>{});
    if (periodic) {
      double m[B];
      for (std::size_t b = 0; b < B; ++b) m[b] = (y[b] + A.corner_last[line[b]] * y[(n - 1) * B + b]) * A.sm_factor[line[b]];
      for (std::size_t k = 0; k < n; ++k)
#pragma omp simd
        for (std::size_t b = 0; b < B; ++b) y[k * B + b] -= m[b] * A.correction[c0 + k * B + b];
    }
    // Exact arithmetic conserves each line's mass (unit column sums); the LU solve leaves a
    // round-off error that grows with dt·rates (the condition number).  Projecting back onto
    // the conserved mass, a factor 1 + O(ε·cond), keeps conservation at round-off level for
    // every dt, and positivity and π are unaffected.
    for (std::size_t k = 0; k < n; ++k)
#pragma omp simd
      for (std::size_t b = 0; b < B; ++b) after[b] += y[k * B + b];
    double scale[B];
    for (std::size_t b = 0; b < B; ++b) {
      double out = absorbed_old[b];
      if (absorbing) out += A.theta * (A.absorb_rate[2 * line[b]] * y[b] + A.absorb_rate[2 * line[b] + 1] * y[(n - 1) * B + b]);
      scale[b] = after[b] + out > 0 ? before[b] / (after[b] + out) : 1.0;
      if (absorbing) out_per_line[line[b]] += out * scale[b];
    }
    in_memory_order([&](std::size_t k, std::size_t b, std::size_t i) { r[i] = y[k * B + b] * scale[b]; });
  };
  const std::ptrdiff_t batches = count / static_cast<std::ptrdiff_t>(kBatch);
  const std::ptrdiff_t rest = count - batches * static_cast<std::ptrdiff_t>(kBatch);
  for_lines(batches + rest, [&](std::ptrdiff_t j, double* work) {
    if (j < batches)
      solve_lines.template operator()<kBatch>(static_cast<std::size_t>(j) * kBatch, work);
    else
      solve_lines.template operator()<1>(static_cast<std::size_t>(batches * static_cast<std::ptrdiff_t>(kBatch) + (j - batches)), work);
  });
}

template <int D>
template <class F>
void FokkerPlanckSolver<D>::for_lines(std::ptrdiff_t count, const F& per_line) {
  // Lines are independent: threads split them, each with its own scratch (no allocation).
  std::size_t maxn = 0;
  for (int a = 0; a < D; ++a) maxn = std::max(maxn, grid_.n(a));
  const std::size_t per_thread = 2 * kBatch * maxn;  // solve: y and rhs of one batch (rebuild needs 4 lines)
  const int threads = core::thread_count();
  if (scratch_.size() < per_thread * static_cast<std::size_t>(threads)) scratch_.resize(per_thread * static_cast<std::size_t>(threads));
  if (static_cast<std::ptrdiff_t>(grid_.size()) >= core::kParallelThreshold && threads > 1) {
#pragma omp parallel num_threads(threads)
    {
      double* work = scratch_.data() + static_cast<std::size_t>(omp_get_thread_num()) * per_thread;
#pragma omp for schedule(static)
      for (std::ptrdiff_t line = 0; line < count; ++line) per_line(line, work);
    }
  } else {
    for (std::ptrdiff_t line = 0; line < count; ++line) per_line(line, scratch_.data());
  }
}

template <int D>
double FokkerPlanckSolver<D>::sweep(const FactorSet& set, int a, double* r) {
  const bool absorbing = grid_.boundary() == grids::Boundary::absorbing;
  if (absorbing) std::fill(line_outflow_.begin(), line_outflow_.end(), 0.0);
  if (partitioned() && a == 0) {
    solve_partitioned(set[a], r);
  } else if (distributed_ && a == 0) {
    // axis-0 lines: transpose so that they are local, solve, transpose back
    std::copy(r, r + rho_.size(), t_in_.data());
    transpose_->forward(t_in_.data(), t_out_.data());
    solve_axis(set[a], a, t_out_.data());
    transpose_->backward(t_out_.data(), t_in_.data());
    std::copy(t_in_.data(), t_in_.data() + rho_.size(), r);
  } else {
    solve_axis(set[a], a, r);
  }
  if (!absorbing) return 0;
  double o = 0;
  for (double v : line_outflow_) o += v;
  return over_ranks(o) * grid_.cell_volume();
}

template <int D>
void FokkerPlanckSolver<D>::build_partitioned(AxisFactors& A, double T, double& peclet, double& max_out) {
  const bool periodic = grid_.boundary() == grids::Boundary::periodic;
  const bool absorbing = grid_.boundary() == grids::Boundary::absorbing;
  const std::size_t R = partitioned_->rows(), m = partitioned_->m(), n = grid_.n(0), first = partitioned_->first();
  const double c = T / (grid_.spacing(0) * grid_.spacing(0)), th = A.theta;
  const double* f = f_.data();
  // the rates of every face e of the slab, between local rows e − 1 and e (e = 0 and R: the faces
  // to the neighbouring slabs), zero where a face does not exist (the ends of a non-periodic line)
  A.rate_fwd.assign((R + 1) * m, 0.0);
  A.rate_bwd.assign((R + 1) * m, 0.0);
  A.absorb_rate.assign(absorbing ? 2 * m : 0, 0.0);
  double* fwd = A.rate_fwd.data();
  double* bwd = A.rate_bwd.data();
  double pe = 0;
  for (std::size_t e = 0; e <= R; ++e) {
    const bool exists = periodic || ((e > 0 || first > 0) && (e < R || first + R < n));
    if (!exists) continue;
    const double* lo = e > 0 ? f + (e - 1) * m : f_below_.data();
    const double* hi = e < R ? f + e * m : f_above_.data();
    const bool counted = e > 0 ? (e < R || first + R < n) : false;  // one-rank Péclet: faces k, k+1 < n, each once
    for (std::size_t j = 0; j < m; ++j) {
      fwd[e * m + j] = c * bernoulli((hi[j] - lo[j]) / T);
      bwd[e * m + j] = c * bernoulli((lo[j] - hi[j]) / T);
      if (counted) pe = std::max(pe, std::abs(hi[j] - lo[j]) / T);
    }
  }
  peclet = pe;
  if (absorbing) {
    // the walls, as on one rank: ρ = 0 half a cell beyond the end cells, f extrapolated to it
    for (std::size_t j = 0; j < m && first == 0; ++j) A.absorb_rate[2 * j] = 2 * c * bernoulli((f[j] - (R > 1 ? f[m + j] : f_above_[j])) / (2 * T));
    const std::size_t o = (R - 1) * m;
    for (std::size_t j = 0; j < m && first + R == n; ++j)
      A.absorb_rate[2 * j + 1] = 2 * c * bernoulli((f[o + j] - (R > 1 ? f[o - m + j] : f_below_[j])) / (2 * T));
  }
  // the matrix rows of (I − θ L_0): sub couples row i to i − 1, sup to i + 1
  double *sub = pt_sub_.data(), *diag = pt_diag_.data(), *sup = pt_sup_.data();
  double mo = 0;
  for (std::size_t i = 0; i < R; ++i) {
    const std::size_t o = i * m;
    const bool wall0 = absorbing && first + i == 0, wall1 = absorbing && first + i + 1 == n;
    for (std::size_t j = 0; j < m; ++j) {
      double out = fwd[(i + 1) * m + j] + bwd[i * m + j];
      if (wall0) out += A.absorb_rate[2 * j];
      if (wall1) out += A.absorb_rate[2 * j + 1];
      sub[o + j] = -th * fwd[i * m + j];
      sup[o + j] = -th * bwd[(i + 1) * m + j];
      diag[o + j] = 1 + th * out;
      mo = std::max(mo, out);
    }
  }
  max_out = mo;
  partitioned_->factor(A.parted, sub, diag, sup);
}

template <int D>
void FokkerPlanckSolver<D>::solve_partitioned(const AxisFactors& A, double* r) {
  const bool cn = opts_.scheme == FpScheme::crank_nicolson;
  const bool absorbing = grid_.boundary() == grids::Boundary::absorbing;
  const std::size_t R = partitioned_->rows(), m = partitioned_->m(), n = grid_.n(0), first = partitioned_->first();
  const double th = A.theta;
  double* before = pt_extras_.data();  // extras: [Σ ρ (CN), CN's absorbed mass, θ·r_wall0, θ·r_wall1] per line
  double* absorbed = absorbing ? before + m : nullptr;
  std::fill(pt_extras_.begin(), pt_extras_.end(), 0.0);
  if (absorbing) {
    for (std::size_t j = 0; j < m; ++j) {
      before[2 * m + j] = first == 0 ? th * A.absorb_rate[2 * j] : 0.0;
      before[3 * m + j] = first + R == n ? th * A.absorb_rate[2 * j + 1] : 0.0;
    }
  }
  if (cn) {
    // the explicit half (I + θ L_0)ρ needs the neighbours' edge rows of ρ
    core::mpi::sendrecv(std::span<const double>(r, m), rank_below_, rho_above_, rank_above_);
    core::mpi::sendrecv(std::span<const double>(r + (R - 1) * m, m), rank_above_, rho_below_, rank_below_);
    const double *fwd = A.rate_fwd.data(), *bwd = A.rate_bwd.data();
    double *prev = pt_prev_.data(), *save = pt_save_.data();
    std::copy(rho_below_.begin(), rho_below_.end(), prev);  // old ρ of row i − 1
    for (std::size_t i = 0; i < R; ++i) {
      const std::size_t o = i * m;
      const double* next = i + 1 < R ? r + o + m : rho_above_.data();
#pragma omp simd
      for (std::size_t j = 0; j < m; ++j) {
        const double ri = r[o + j];
        save[j] = ri;
        const double in = bwd[(i + 1) * m + j] * next[j] + fwd[i * m + j] * prev[j];
        const double out = fwd[(i + 1) * m + j] + bwd[i * m + j];
        before[j] += ri;
        r[o + j] = ri + th * (in - out * ri);
      }
      // the walls' explicit halves: their loss leaves the line (as on one rank)
      for (int w = 0; w < 2 && absorbing; ++w) {
        if (w == 0 ? first + i != 0 : first + i + 1 != n) continue;
        for (std::size_t j = 0; j < m; ++j) {
          const double lost = th * A.absorb_rate[2 * j + static_cast<std::size_t>(w)] * save[j];
          absorbed[j] += lost;
          r[o + j] -= lost;
        }
      }
      std::swap(prev, save);
    }
  }
  // backward Euler: the right-hand side is ρ itself, whose sum the solve takes on its way
  const bool walls = absorbing;
  double* outflow = line_outflow_.data();
  partitioned_->solve(A.parted, r, before, [&](std::size_t j, const grids::LineTotals& t) {
    const double* x = t.extras;  // [Σ ρ, absorbed, θ·r0, θ·r1] summed over ranks
    double out = 0;
    if (walls) out = x[1] + x[2] * t.first + x[3] * t.last;
    const double reference = cn ? x[0] : t.rhs_sum;
    const double scale = t.sum + out > 0 ? reference / (t.sum + out) : 1.0;
    if (walls) outflow[j] += out * scale;
    return scale;
  });
}

template <int D>
void FokkerPlanckSolver<D>::advance(long n) {
  core::require_at_least("steps", n, 0);
  if (opts_.control.adaptive()) core::throw_invalid("advance", "fixed steps", "advance_to(t) under error control (fokker_planck.tolerance > 0)");
  ensure_outflow_buffer();
  const bool varying = !schedule_.is_constant();
  for (long s = 0; s < n; ++s) {
    if (varying) build(axes_, schedule_.T(coefficient_time(t_)));
    double* r = rho_.data();
    if (opts_.scheme == FpScheme::crank_nicolson) {
      // Strang over the axes: half steps on the outer axes around a full step on the last
      for (int a = 0; a + 1 < D; ++a) outflow_ += sweep(axes_, a, r);
      outflow_ += sweep(axes_, D - 1, r);
      for (int a = D - 2; a >= 0; --a) outflow_ += sweep(axes_, a, r);
    } else if (opts_.scheme == FpScheme::backward_euler) {
      for (int a = 0; a < D; ++a) outflow_ += sweep(axes_, a, r);
    } else {
      // Richardson: 2·S(dt/2)²ρ − S(dt)ρ cancels the O(dt) error of the Lie-split BE step S;
      // each S conserves mass and fixes π, so the combination does too.
      double* full = full_.data();
      std::copy(r, r + rho_.size(), full);
      double out_full = 0, out_half = 0;
      for (int a = 0; a < D; ++a) out_full += sweep(axes_, a, full);
      if (varying) build(half_, schedule_.T(t_ + 0.5 * opts_.dt));
      for (int a = 0; a < D; ++a) out_half += sweep(half_, a, r);
      if (varying) build(half_, schedule_.T(t_ + opts_.dt));
      for (int a = 0; a < D; ++a) out_half += sweep(half_, a, r);
      core::parallel_for(static_cast<std::ptrdiff_t>(rho_.size()), [=](std::ptrdiff_t i) { r[i] = 2 * r[i] - full[i]; });
      outflow_ += 2 * out_half - out_full;
    }
    t_ += opts_.dt;
    ++steps_;
  }
  check_finite_mass();
}

template <int D>
void FokkerPlanckSolver<D>::set_state(const RField& rho, double t, double outflow) {
  const std::size_t first = rho_.offset()[0] * (grid_.size() / grid_.n(0));
  const double* src = grids::block_values("initial density", rho, grid_.shape(), rho_.extent(), rho_.offset());
  // the first bad value over all ranks, so that every rank refuses alike
  double bad = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < rho_.size() && bad == std::numeric_limits<double>::infinity(); ++i)
    if (!std::isfinite(src[i]) || src[i] < 0) bad = static_cast<double>(first + i);
  if (distributed_) bad = core::mpi::allreduce_min(bad);
  if (bad != std::numeric_limits<double>::infinity()) {
    const auto i = static_cast<std::size_t>(bad);
    const bool mine = i >= first && i < first + rho_.size();
    double v = mine ? src[i - first] : 0.0;
    if (distributed_) v = core::mpi::allreduce_sum(mine ? v : 0.0);
    core::throw_invalid("initial density", core::format_value(v) + " at x = " + potentials::point_string(grid_, i), "finite and >= 0 everywhere");
  }
  const double m =
      over_ranks(core::parallel_sum(static_cast<std::ptrdiff_t>(rho_.size()), [=](std::ptrdiff_t i) { return src[i]; })) * grid_.cell_volume();
  if (!(m > 0)) core::throw_invalid("initial density", "mass " + core::format_value(m), "> 0 (normalisable)");
  core::require_non_negative("outflow", outflow);
  std::copy(src, src + rho_.size(), rho_.begin());
  t_ = t;
  outflow_ = outflow;
}

template <int D>
double FokkerPlanckSolver<D>::mass() const {
  const double* r = rho_.data();
  return over_ranks(core::parallel_sum(static_cast<std::ptrdiff_t>(rho_.size()), [=](std::ptrdiff_t i) { return r[i]; })) * grid_.cell_volume();
}

template <int D>
double FokkerPlanckSolver<D>::free_energy() const {
  const double T = schedule_.T(t_);
  const double *r = rho_.data(), *f = f_.data();
  return over_ranks(core::parallel_sum(static_cast<std::ptrdiff_t>(rho_.size()),
                                       [=](std::ptrdiff_t i) { return r[i] * f[i] + (r[i] > 0 ? T * r[i] * std::log(r[i]) : 0.0); })) *
         grid_.cell_volume();
}

template <int D>
std::array<typename FokkerPlanckSolver<D>::RField, D> FokkerPlanckSolver<D>::current() const {
  if (distributed_) core::throw_invalid("current", "a distributed solver", "one rank (the flux across a slab edge needs the next rank's row)");
  const double T = schedule_.T(t_);
  const bool periodic = grid_.boundary() == grids::Boundary::periodic;
  std::array<RField, D> J;
  for (int a = 0; a < D; ++a) {
    J[a] = RField(grid_.shape(), 0.0);
    const Lines L = lines_of(grid_, a);
    const double c = T / grid_.spacing(a);
    for (std::size_t line = 0; line < L.count; ++line) {
      const std::size_t b0 = L.base(line);
      for (std::size_t k = 0; k < L.n; ++k) {
        if (k + 1 == L.n && !periodic) break;
        const std::size_t i = b0 + k * L.stride, j = b0 + ((k + 1) % L.n) * L.stride;
        const double d = (f_[j] - f_[i]) / T;
        J[a][i] = c * (bernoulli(d) * rho_[i] - bernoulli(-d) * rho_[j]);
      }
    }
  }
  return J;
}

template <int D>
typename FokkerPlanckSolver<D>::RField FokkerPlanckSolver<D>::gibbs(double T) const {
  core::require_positive("T", T);
  RField p = f_;  // this rank's block
  double fmin = *std::min_element(f_.begin(), f_.end());
  if (distributed_) fmin = core::mpi::allreduce_min(fmin);  // one shift for all ranks
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = std::exp(-(f_[i] - fmin) / T);
  const double z =
      over_ranks(core::parallel_sum(static_cast<std::ptrdiff_t>(p.size()), [&](std::ptrdiff_t i) { return p[static_cast<std::size_t>(i)]; })) *
      grid_.cell_volume();
  for (double& v : p) v /= z;
  return p;
}

template class FokkerPlanckSolver<1>;
template class FokkerPlanckSolver<2>;
template class FokkerPlanckSolver<3>;

}  // namespace qtzflow::solver
