#include "particles/ensemble.hpp"

#include <Random123/philox.h>
#include <Random123/boxmuller.hpp>

#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/memory.hpp"
#include "core/mpi.hpp"
#include "core/parallel.hpp"
#include "core/random.hpp"
#include "particles/langevin.hpp"
#include "particles/quantizer.hpp"
#include "particles/walls.hpp"

namespace qtzflow::particles {

namespace {
constexpr std::uint64_t kNoiseKey = 0x4C414E47'4556494EULL;  // "LANGEVIN": noise, apart from the initial draws
}

template <int D>
ParticleEnsemble<D>::ParticleEnsemble(const potentials::Objective& f, const grids::Grid<D>& grid, potentials::Schedule schedule, ParticleOptions opts)
    : f_(f), grid_(grid), schedule_(schedule), opts_(opts) {
  core::require_positive("particles.dt", opts.dt);
  if (opts.dynamics != ParticleDynamics::langevin) {
    core::require_positive("particles.delta", opts.delta);
    core::require_positive("schedule.C_q", opts.C_q);
  }
  if (opts.clock == QtzClock::fokker_planck) {
    if (opts.dynamics != ParticleDynamics::qtz_dither)
      core::throw_invalid("particles.clock", "\"fokker_planck\"",
                          "\"moves\" for this algorithm: only the dithered quantizer has a Fokker-Planck limit (docs/theory.md)");
    core::require_at_least("particles.moves_per_dt", opts.moves_per_step, 1);
  }
  if (f.dim() != D) core::throw_invalid("objective dimension", std::to_string(f.dim()), std::to_string(D) + " (the grid's)");
  if (grid.boundary() == grids::Boundary::absorbing)
    core::throw_invalid("grid.boundary", "\"absorbing\"", "\"reflecting\" or \"periodic\" for particles");
  distributed_ = opts.distributed && core::mpi::active();
}

template <int D>
std::size_t ParticleEnsemble<D>::take_block(std::size_t count) {
  total_ = count;
  first_ = 0;
  if (!distributed_) return count;
  const auto b = core::mpi::block_of(static_cast<long>(count), core::mpi::rank(), core::mpi::size());
  first_ = static_cast<std::size_t>(b.first);
  return static_cast<std::size_t>(b.last - b.first);
}

template <int D>
double ParticleEnsemble<D>::over_ranks(double local) const {
  return distributed_ ? core::mpi::allreduce_sum(local) : local;
}

template <int D>
void ParticleEnsemble<D>::sample_initial(std::size_t count, const std::vector<double>& center, const std::vector<double>& width, double t) {
  core::require_at_least("particles.count", static_cast<long long>(count), 1);
  core::require_memory("particles.count", static_cast<double>(count) * (8.0 * D + 8),
                       core::format_value(static_cast<double>(count)) + " particles (positions and acceptance counts)");
  if (!width.empty() && (width.size() != D || center.size() != D))
    core::throw_invalid("initial.width", std::to_string(width.size()) + " values", std::to_string(D));
  const std::size_t local = take_block(count);
  x_.assign(local * D, 0.0);
  double* x = x_.data();
  const auto& lo = grid_.lower();
  const auto& hi = grid_.upper();
  const std::uint64_t seed = opts_.seed, first = first_;
  const std::ptrdiff_t m = static_cast<std::ptrdiff_t>(local);
#pragma omp parallel for schedule(static) num_threads(core::thread_count())
  for (std::ptrdiff_t p = 0; p < m; ++p) {
    core::RandomStream rng(seed, first + static_cast<std::uint64_t>(p));  // the global index: any split gives the same particles
    for (int attempt = 0;; ++attempt) {
      bool inside = true;
      for (int a = 0; a < D; ++a) {
        const double v = width.empty() ? rng.uniform(lo[a], hi[a]) : center[a] + width[a] * rng.normal();
        inside = inside && v >= lo[a] && v <= hi[a];
        x[p * D + a] = v;
      }
      if (inside) break;
      if (attempt > 100000) {
        // unreachable unless the Gaussian has (numerically) no mass in the box
        for (int a = 0; a < D; ++a) x[p * D + a] = detail::reflect(x[p * D + a], lo[a], hi[a]);
        break;
      }
    }
  }
  t_ = t;
  steps_ = 0;
  accepted_.assign(local, 0);
  counted_steps_ = 0;
}

template <int D>
void ParticleEnsemble<D>::set_positions(std::vector<double> xs, double t, long steps) {
  if (xs.size() % D != 0 || xs.empty())
    core::throw_invalid("particle positions", std::to_string(xs.size()) + " values", "a positive multiple of " + std::to_string(D));
  for (std::size_t i = 0; i < xs.size(); ++i)
    if (!(xs[i] >= grid_.lower()[i % D] && xs[i] <= grid_.upper()[i % D]))
      core::throw_invalid("particle positions", core::format_value(xs[i]), "inside the box");
  const std::size_t local = take_block(xs.size() / D);
  if (distributed_) {
    const auto from = xs.begin() + static_cast<std::ptrdiff_t>(first_ * D);
    x_.assign(from, from + static_cast<std::ptrdiff_t>(local * D));
  } else if (xs.size() == x_.size()) {
    std::copy(xs.begin(), xs.end(), x_.begin());  // the same storage: views of it see the new positions
  } else {
    x_ = std::move(xs);
  }
  t_ = t;
  steps_ = steps;
  accepted_.assign(local_size(), 0);
  counted_steps_ = 0;
}

template <int D>
void ParticleEnsemble<D>::advance(long n) {
  core::require_at_least("steps", n, 0);
  // in blocks, so that the per-step tables stay small for any n; the draws are addressed by the
  // global step, so the split changes nothing
  constexpr long kBlock = 4096;
  // the times of the steps are those of one call, t + k dt, whatever the blocks
  const double t0 = t_;
  for (long done = 0; done < n; done += kBlock) advance_block(std::min(kBlock, n - done), t0, done);
}

template <int D>
void ParticleEnsemble<D>::advance_block(long n, double t0, long k0) {
  const bool langevin = opts_.dynamics == ParticleDynamics::langevin, dither = opts_.dynamics == ParticleDynamics::qtz_dither;
  const double dt = opts_.dt;
  const bool fp_clock = dither && opts_.clock == QtzClock::fokker_planck;
  const long moves = fp_clock ? opts_.moves_per_step : 1;
  // per step, computed once for every particle: Langevin's noise amplitude √(2T dt), or Q_p and
  // the proposal size (docs/theory.md: the dithered quantizer in Fokker-Planck time)
  std::vector<double> per_step(static_cast<std::size_t>(n)), step_delta(static_cast<std::size_t>(n), opts_.delta);
  for (long k = 0; k < n; ++k) {
    const double t = t0 + static_cast<double>(k0 + k) * dt;
    const double T = schedule_.T(t);
    if (!(std::isfinite(T) && T > 0))  // a schedule of the caller's, checked as the grid engines check it
      core::throw_invalid("T", core::format_value(T) + " at t = " + core::format_value(t),
                          "finite and > 0 (the schedule's temperature)");
    const auto i = static_cast<std::size_t>(k);
    if (langevin) {
      per_step[i] = std::sqrt(2 * T * dt);
    } else if (fp_clock) {
      per_step[i] = 1 / (4 * T);                                           // q = 4T: T_eff = q/4 = T
      step_delta[i] = 2 * std::sqrt(T * dt / static_cast<double>(moves));  // m δ²/q = dt
    } else {
      per_step[i] = opts_.C_q / (2 * T);
    }
  }
  double* x = x_.data();
  long* acc = accepted_.data();
  const auto lo = grid_.lower(), hi = grid_.upper();
  const std::uint64_t seed = opts_.seed, step0 = static_cast<std::uint64_t>(steps_), first = first_;
  const potentials::Objective& f = f_;
  const std::ptrdiff_t m = static_cast<std::ptrdiff_t>(local_size());
  const bool periodic = grid_.boundary() == grids::Boundary::periodic;
  auto fold = [&](double v, int a) { return periodic ? detail::wrap(v, lo[a], hi[a]) : detail::reflect(v, lo[a], hi[a]); };
  std::exception_ptr error;
#pragma omp parallel for schedule(static) num_threads(core::thread_count())
  for (std::ptrdiff_t p = 0; p < m; ++p) {
    // one particle through all n steps: its state stays in registers
    std::array<double, D> y, g;
    for (int a = 0; a < D; ++a) y[a] = x[p * D + a];
    const std::uint64_t id = first + static_cast<std::uint64_t>(p);  // the draws follow the global index
    double fy = langevin ? 0.0 : f.value(y);
    long accepted = 0;
    const r123::Philox4x64::key_type key{{seed, kNoiseKey}};
    r123::Philox4x64 philox;
    for (long k = 0; k < n; ++k) {
      const std::uint64_t step = step0 + static_cast<std::uint64_t>(k);
      const double s = per_step[static_cast<std::size_t>(k)], delta = step_delta[static_cast<std::size_t>(k)];
      // move j of the step draws from counter (step, p, block, j): one move per step is the
      // original addressing, so the moves clock is unchanged
      for (long j = 0; j < moves; ++j) {
        const auto u = philox(r123::Philox4x64::ctr_type{{step, id, 0, static_cast<std::uint64_t>(j)}}, key);
        const r123::double2 z01 = r123::boxmuller(u.v[0], u.v[1]);
        const double z[3] = {z01.x, z01.y, D > 2 ? r123::boxmuller(u.v[2], u.v[3]).x : 0.0};
        if (langevin) {
          langevin_step(
              f, y, g, D, dt, s, [&](std::size_t a) { return z[a]; }, [&](double v, std::size_t a) { return fold(v, static_cast<int>(a)); });
        } else {
          for (int a = 0; a < D; ++a) g[a] = fold(y[a] + delta * z[a], a);  // g holds the candidate
          const double fc = f.value(g);
          bool take;
          if (dither) {
            // D <= 2 leaves u.v[2], u.v[3] unused by the proposal: the dithers come from them,
            // one Philox block per move (BENCHMARKS.md: 4-10 % faster); D = 3 draws block 1
            const auto w = D > 2 ? philox(r123::Philox4x64::ctr_type{{step, id, 1, static_cast<std::uint64_t>(j)}}, key)
                                 : r123::Philox4x64::ctr_type{{0, 0, u.v[2], u.v[3]}};
            take = quantized_not_worse_dithered(fc, fy, s, ::u01fixedpt_closed_open_64_double(w.v[2]) - 0.5,
                                                ::u01fixedpt_closed_open_64_double(w.v[3]) - 0.5);
          } else {
            take = quantized_not_worse(fc, fy, s);
          }
          if (take) {
            y = g;
            fy = fc;
            ++accepted;
          }
        }
      }
    }
    bool finite = true;
    for (int a = 0; a < D; ++a) {
      finite = finite && std::isfinite(y[a]);
      x[p * D + a] = y[a];
    }
    acc[p] += accepted;
    if (!finite) {
#pragma omp critical
      if (!error) error = std::make_exception_ptr(core::NumericalError("particles: particle " + std::to_string(id) + " became non-finite"));
    }
  }
  // every rank learns of a failure on any one (else the others would wait in the next reduction)
  if (distributed_ && core::mpi::allreduce_max(error ? 1.0 : 0.0) > 0 && !error)
    error = std::make_exception_ptr(core::NumericalError("particles: a particle on another rank became non-finite"));
  if (error) std::rethrow_exception(error);
  steps_ += n;
  counted_steps_ += n * moves;
  t_ = t0 + static_cast<double>(k0 + n) * dt;
}

template <int D>
double ParticleEnsemble<D>::acceptance_rate() const {
  if (opts_.dynamics == ParticleDynamics::langevin || counted_steps_ == 0) return 0;
  const double total = over_ranks(static_cast<double>(std::accumulate(accepted_.begin(), accepted_.end(), 0L)));  // exact below 2^53
  return total / (static_cast<double>(size()) * static_cast<double>(counted_steps_));
}

template <int D>
typename ParticleEnsemble<D>::RField ParticleEnsemble<D>::histogram(std::size_t count) const {
  if (count < 1 || count > size())
    core::throw_invalid("histogram count", std::to_string(count), "1 .. " + std::to_string(size()) + " (the ensemble's size)");
  RField h(grid_.shape(), 0.0);
  const std::size_t m = count;
  // this rank's particles among the first `count`; the counts are integers, summed exactly
  const std::size_t mine = count > first_ ? std::min(count - first_, local_size()) : 0;
  for (std::size_t p = 0; p < mine; ++p) {
    std::size_t idx = 0;
    for (int a = 0; a < D; ++a) {
      const double u = (x_[p * D + static_cast<std::size_t>(a)] - grid_.lower()[a]) / grid_.spacing(a);
      const std::size_t i = std::min(grid_.n(a) - 1, static_cast<std::size_t>(std::max(0.0, u)));  // the upper wall belongs to the last cell
      idx = idx * grid_.n(a) + i;
    }
    h[idx] += 1;
  }
  if (distributed_) core::mpi::allreduce_sum(h.values());
  const double w = 1 / (static_cast<double>(m) * grid_.cell_volume());
  for (double& v : h) v *= w;
  return h;
}

template class ParticleEnsemble<1>;
template class ParticleEnsemble<2>;
template class ParticleEnsemble<3>;

}  // namespace qtzflow::particles
