// Split-step step time against FFTW's own transform time on the same grid.
//
// For each grid and thread count: the median time of one real-time Strang step (merged
// half-steps: one V pass, forward FFT, one K pass, backward FFT) divided by the median time of
// FFTW's forward + backward in-place transform with a plan of the same rigor (FFTW_MEASURE).
// Also the imaginary-time step (r2c/c2r) against FFTW's r2c + c2r, and FFTW's round-off norm
// bias per transform pair (the floor of real-time norm conservation).
// Usage: bench_split_step [--quick]    (quick: fewer samples, skips 1024² and 128³)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "bench_common.hpp"
#include "core/parallel.hpp"
#include "grids/fft.hpp"
#include "solver/split_step.hpp"

using namespace qtzflow;

namespace {

template <int D>
grids::Field<double, D> harmonic_potential(const grids::Grid<D>& g) {
  grids::Field<double, D> V(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    double s = 0;
    for (double v : x) s += v * v;
    V[i] = 0.5 * s;
  });
  return V;
}

template <int D>
grids::Field<double, D> gaussian(const grids::Grid<D>& g) {
  grids::Field<double, D> start(g.shape());
  grids::for_each_point(g, [&](std::size_t i, const auto& x) {
    double r2 = 0;
    for (double v : x) r2 += (v - 1) * (v - 1);
    start[i] = std::exp(-r2);
  });
  return start;
}

/// Median of the per-sample ratio a/b, where every sample times a and b back to back (so that
/// machine noise hits both alike), plus the medians of a and b themselves.
struct Paired {
  double a, b, ratio;
};
template <class A, class B>
Paired paired(int samples, long reps, A&& a, B&& b) {
  std::vector<double> ta, tb, r;
  for (int k = 0; k < samples; ++k) {
    ta.push_back(bench::median_seconds(1, reps, a));
    tb.push_back(bench::median_seconds(1, reps, b));
    r.push_back(ta.back() / tb.back());
  }
  auto med = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {med(ta), med(tb), med(r)};
}

template <int D>
void run_case(const grids::Grid<D>& g, const char* label, int threads, int samples) {
  core::set_thread_count(threads);
  const auto shape = g.shape();
  const std::size_t n = g.size();
  // about 50 ms of transforms per sample
  const long reps = std::max<long>(1, static_cast<long>(5e7 / (static_cast<double>(n) * std::log2(static_cast<double>(n)))));

  // Real time: FFTW's in-place forward + backward (FFTW_MEASURE) against our merged Strang
  // step; advance(reps) per sample, so the per-call norm check is amortised as in a run.
  grids::ComplexFft<D> fft(shape, grids::PlanRigor::measure);
  grids::Field<grids::complex, D> u(shape, grids::complex(1.0, 0.5));
  solver::SplitStepOptions opt;
  opt.mode = solver::TimeMode::real;
  opt.dt = 1e-3;
  solver::SplitStepSolver<D> s(g, harmonic_potential(g), 0.5, opt);
  s.set_state(gaussian(g));
  const auto re = paired(
      samples, 1, [&] { s.advance(reps); },
      [&] {
        for (long r = 0; r < reps; ++r) {
          fft.forward(u);
          fft.backward(u);
        }
      });

  // Imaginary time (r2c): our step against FFTW's r2c + c2r.
  grids::RealFft<D> rfft(shape, grids::PlanRigor::measure);
  grids::Field<double, D> r(shape, 1.0);
  grids::Field<grids::complex, D> c(rfft.spectral_extent());
  opt.mode = solver::TimeMode::imaginary;
  solver::SplitStepSolver<D> si(g, harmonic_potential(g), 0.5, opt);
  si.set_state(gaussian(g));
  const auto im = paired(
      samples, 1, [&] { si.advance(reps); },
      [&] {
        for (long k = 0; k < reps; ++k) {
          rfft.forward(r, c);
          rfft.backward(c, r);
        }
      });

  const double per = 1e3 / static_cast<double>(reps);
  std::printf("| %s | %d | %.3g | %.3g | **%.2f** | %.3g | %.3g | **%.2f** |\n", label, threads, re.b * per, re.a * per, re.ratio, im.b * per,
              im.a * per, im.ratio);
  std::fflush(stdout);
}

/// Relative norm change per FFTW forward+backward pair on a chirped Gaussian (1D, 128 points).
void fft_norm_bias() {
  const std::size_t n = 128;
  grids::Field<grids::complex, 1> u({n});
  for (std::size_t i = 0; i < n; ++i) {
    const double x = -10 + 20.0 * (static_cast<double>(i) + 0.5) / n;
    u[i] = std::polar(std::exp(-0.5 * (x - 2) * (x - 2)), -0.3 * x * x);
  }
  grids::ComplexFft<1> fft({n}, grids::PlanRigor::estimate);
  auto norm = [&] {
    double s = 0;
    for (auto& v : u) s += std::norm(v);
    return s;
  };
  const double n0 = norm();
  const int pairs = 10000;
  for (int k = 0; k < pairs; ++k) {
    fft.forward(u);
    for (auto& v : u) v *= fft.normalisation();
    fft.backward(u);
  }
  std::printf("\nFFTW round-off: relative norm change per forward+backward pair (1D, n = 128, chirped Gaussian): %.2e\n", (norm() - n0) / n0 / pairs);
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int samples = quick ? 3 : 11;
  std::printf("bench_split_step — %s — %s, %d hardware threads\n\n", bench::utc_now().c_str(), bench::cpu_model().c_str(), core::thread_count());
  std::printf(
      "Times in ms, medians of %d samples; ratio = median over samples of (our step / FFTW's own transform pair),\n"
      "both timed back to back in every sample.\n\n",
      samples);
  std::printf("| grid | threads | FFTW c2c fwd+bwd | Strang step (real) | ratio | FFTW r2c+c2r | Strang step (imag.) | ratio |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (int threads : {1, 2}) {
    run_case(grids::Grid<1>({4096}, {-20.0}, {20.0}), "4096", threads, samples);
    run_case(grids::Grid<2>({256, 256}, {-10.0, -10.0}, {10.0, 10.0}), "256²", threads, samples);
    if (!quick) {
      run_case(grids::Grid<2>({1024, 1024}, {-10.0, -10.0}, {10.0, 10.0}), "1024²", threads, samples);
      run_case(grids::Grid<3>({128, 128, 128}, {-8.0, -8.0, -8.0}, {8.0, 8.0, 8.0}), "128³", threads, samples);
    }
  }
  fft_norm_bias();
  return 0;
}
