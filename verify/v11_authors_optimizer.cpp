// qtzflow verify: v11_authors_optimizer (see verify/experiments.hpp for what it checks).
//
// QTZ as published — blind candidates uniform in the box, the plain quantizer, Q_p = η·2^h with
// h the number of acceptances — run R times from uniform starts, with the loop instrumented:
// the current point after every acceptance (the law at level h) and the quantization errors
// u = Q_p·(f^Q − f) of both values of every accepted comparison.  Against the paper's density
// picture: Gibbs at T(h) = C_q/(2 Q_p(h)) (C_q = 2, the paper's), errors white (uniform on
// [−1/2, 1/2), independent).  The loop is particles::QuantizedOptimizer with the draws of
// run_once, so the runs are the optimizer's own (checked: the same best value, run by run).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/parallel.hpp"
#include "core/random.hpp"
#include "grids/basins.hpp"
#include "particles/optimizers.hpp"
#include "particles/quantizer.hpp"
#include "potentials/objective.hpp"
#include "verify/experiments.hpp"
#include "verify/physics.hpp"

namespace qtzflow::verify {

namespace {

constexpr int kLevels = 25;  ///< levels h = 0 .. kLevels − 1 recorded

struct Trace {
  double eta = 0, best = 0;
  int final_h = 0;
  bool success = false;
  std::vector<double> x;            ///< [h]: the current point once h acceptances are made (NaN: not reached)
  std::vector<double> u_candidate;  ///< [h]: Q_p (f^Q − f) of the candidate accepted at level h
  std::vector<double> u_current;    ///< [h]: the same for the current value it was compared with
  std::vector<double> u_first;      ///< [h]: Q_p (f^Q − f) of the first candidate offered at level h, accepted or not
};

Trace traced_run(const particles::ContinuousProblem& p, long budget, std::uint64_t seed, std::uint64_t r, double target) {
  core::RandomStream rng(seed, r);
  const double lo = p.lower[0], hi = p.upper[0];
  double x = rng.uniform(lo, hi);
  double fx = p.f->value(std::span<const double>(&x, 1));
  Trace t;
  t.x.assign(kLevels, std::nan(""));
  t.u_candidate.assign(kLevels, std::nan(""));
  t.u_current.assign(kLevels, std::nan(""));
  t.u_first.assign(kLevels, std::nan(""));
  t.x[0] = x;
  t.best = fx;
  particles::QuantizedOptimizer q(fx, particles::QpRule::per_acceptance, 0, false, rng);
  t.eta = q.eta();
  long it = 0;
  while (it < budget && !q.finished()) {
    q.begin_iteration(++it, rng);
    const double c = rng.uniform(lo, hi);
    const double fc = p.f->value(std::span<const double>(&c, 1));
    const int h = q.h();
    const double qp = q.qp(), fq_current = q.quantized_current();
    if (h < kLevels && std::isnan(t.u_first[h])) t.u_first[h] = (particles::quantize(fc, qp) - fc) * qp;
    if (q.offer(fc, rng)) {
      if (h < kLevels) {
        t.u_candidate[h] = (particles::quantize(fc, qp) - fc) * qp;
        t.u_current[h] = (fq_current - fx) * qp;
      }
      x = c;
      fx = fc;
      t.best = std::min(t.best, fc);
      if (h + 1 < kLevels) t.x[h + 1] = x;
    }
  }
  t.final_h = q.h();
  t.success = t.best <= target;
  return t;
}

/// Kolmogorov–Smirnov distance of the sample from U(−1/2, 1/2).
double ks_uniform(std::vector<double> u) {
  std::sort(u.begin(), u.end());
  double d = 0;
  const double n = static_cast<double>(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double F = u[i] + 0.5;
    d = std::max({d, std::abs(F - static_cast<double>(i) / n), std::abs(static_cast<double>(i + 1) / n - F)});
  }
  return d;
}

/// Gibbs e^(−f/T) on the sampled f: mean f and the global basin's mass.
struct GibbsMoments {
  double mean_f, mass_global;
};
GibbsMoments gibbs(const std::vector<double>& f, const std::vector<int>& global, double T) {
  const double fmin = *std::min_element(f.begin(), f.end());
  double z = 0, zf = 0, zg = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    const double w = std::exp(-(f[i] - fmin) / T);
    z += w;
    zf += w * f[i];
    zg += global[i] ? w : 0;
  }
  return {zf / z, zg / z};
}

/// T with Gibbs mean f = target (bisection in log T; the mean grows with T).
double fitted_temperature(const std::vector<double>& f, const std::vector<int>& global, double target) {
  double a = std::log(1e-9), b = std::log(1e3);
  for (int k = 0; k < 100; ++k) {
    const double m = (a + b) / 2;
    (gibbs(f, global, std::exp(m)).mean_f < target ? a : b) = m;
  }
  return std::exp((a + b) / 2);
}

}  // namespace

void v11_authors_optimizer(Experiment& e) {
  const bool quick = e.quick();
  const long runs = quick ? 2000 : 20000, budget = 10000;
  const std::uint64_t seed = 111;
  e.attr("runs", static_cast<double>(runs));
  e.attr("budget", static_cast<double>(budget));
  struct Case {
    std::string name;
    std::unique_ptr<potentials::Objective> f;
  };
  std::vector<Case> cases;
  cases.push_back({"washboard", potentials::make_objective("washboard", 1)});
  cases.push_back({"tilted_double_well", potentials::make_objective("double_well", 1, {{"c", {0.3}}})});
  for (const auto& cs : cases) {
    const particles::ContinuousProblem prob(*cs.f);
    const double target = prob.f_star + 1e-3;
    std::vector<Trace> tr(static_cast<std::size_t>(runs));
#pragma omp parallel for schedule(dynamic, 64) num_threads(core::thread_count())
    for (long r = 0; r < runs; ++r) tr[static_cast<std::size_t>(r)] = traced_run(prob, budget, seed, static_cast<std::uint64_t>(r), target);
    // the instrumented loop is the optimizer's own
    particles::OptimizerOptions o;
    o.budget = budget;
    o.seed = seed;
    double mismatch = 0;
    for (long r = 0; r < 50; ++r)
      mismatch =
          std::max(mismatch, std::abs(particles::run_once(prob, o, static_cast<std::uint64_t>(r)).best - tr[static_cast<std::size_t>(r)].best));
    e.close(cs.name + ": instrumented loop against run_once, max |best difference| over 50 runs", mismatch, 0, 0,
            "the same algorithm and the same draws: bit-identical");

    // sampled f on a fine grid, the global basin's cells
    const std::size_t n = 1 << 16;
    const grids::Grid<1> g({n}, {prob.lower[0]}, {prob.upper[0]}, grids::Boundary::reflecting);
    grids::Field<double, 1> fs(g.shape());
    for (std::size_t i = 0; i < n; ++i) {
      const double xi = g.x(0, i);
      fs[i] = cs.f->value(std::span<const double>(&xi, 1));
    }
    const auto basins = grids::find_basins(g, fs);
    std::vector<double> fv(fs.begin(), fs.end());
    std::vector<int> global(n);
    for (std::size_t i = 0; i < n; ++i) global[i] = basins.label[i] == 0;
    auto cell = [&](double x) { return std::min(n - 1, static_cast<std::size_t>(std::max(0.0, (x - g.lower()[0]) / g.spacing(0)))); };
    // the modal η: runs with the same η share Q_p(h), hence the paper's T(h)
    std::map<double, long> eta_count;
    for (const auto& t : tr) ++eta_count[t.eta];
    const double eta = std::max_element(eta_count.begin(), eta_count.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
    std::vector<double> f_global;
    for (std::size_t i = 0; i < n; ++i)
      if (global[i]) f_global.push_back(fv[i]);
    const std::vector<int> all_global(f_global.size(), 1);
    std::vector<double> cq_local, ks_first, n_accepted;
    std::vector<double> hs, T_paper, T_fit, cq_eff, p_global, gibbs_global_paper, gibbs_global_fit, ks_cand, ks_curr, reached;
    for (int h = 0; h < kLevels; ++h) {
      std::vector<double> fx, uc, uk, ufirst, fx_global;
      long in_global = 0, count = 0, total_reached = 0;
      for (const auto& t : tr) {
        if (!std::isnan(t.u_first[h])) ufirst.push_back(t.u_first[h]);
        if (!std::isnan(t.u_candidate[h])) {
          uc.push_back(t.u_candidate[h]);
          uk.push_back(t.u_current[h]);
        }
        if (std::isnan(t.x[h])) continue;
        ++total_reached;
        if (t.eta != eta) continue;
        ++count;
        fx.push_back(cs.f->value(std::span<const double>(&t.x[h], 1)));
        in_global += global[cell(t.x[h])];
        if (global[cell(t.x[h])]) fx_global.push_back(fx.back());
      }
      if (count < runs / 10 || uc.size() < 100) break;
      double mf = 0;
      for (double v : fx) mf += v / static_cast<double>(fx.size());
      const double Tp = 2.0 / (2 * std::ldexp(eta, h));  // C_q = 2
      const double Tf = fitted_temperature(fv, global, mf);
      double mg = 0;
      for (double v : fx_global) mg += v / static_cast<double>(fx_global.size());
      cq_local.push_back(2 * std::ldexp(eta, h) * fitted_temperature(f_global, all_global, mg));
      ks_first.push_back(ks_uniform(ufirst) * std::sqrt(static_cast<double>(ufirst.size())));
      hs.push_back(h);
      T_paper.push_back(Tp);
      T_fit.push_back(Tf);
      cq_eff.push_back(2 * std::ldexp(eta, h) * Tf);
      p_global.push_back(static_cast<double>(in_global) / static_cast<double>(count));
      gibbs_global_paper.push_back(gibbs(fv, global, Tp).mass_global);
      gibbs_global_fit.push_back(gibbs(fv, global, Tf).mass_global);
      ks_cand.push_back(ks_uniform(uc));
      ks_curr.push_back(ks_uniform(uk));
      n_accepted.push_back(static_cast<double>(uc.size()));
      reached.push_back(static_cast<double>(total_reached) / static_cast<double>(runs));
      if (h == 2 || h == 6 || h == 10 || h == 14) {
        // the law of x_h (modal-η runs) beside Gibbs at the paper's T(h), on 240 bins
        // (bin b holds the fine cells c with c·bins/n = b: 240 does not divide 2^16)
        const std::size_t bins = 240;
        const double bin_width = (prob.upper[0] - prob.lower[0]) / static_cast<double>(bins);
        std::vector<double> hist(bins, 0.0), gib(bins, 0.0);
        for (const auto& t : tr)
          if (!std::isnan(t.x[h]) && t.eta == eta) hist[cell(t.x[h]) * bins / n] += 1 / (static_cast<double>(count) * bin_width);
        const double fmin = *std::min_element(fv.begin(), fv.end());
        double z = 0;
        for (std::size_t c = 0; c < n; ++c) z += std::exp(-(fv[c] - fmin) / Tp);
        for (std::size_t c = 0; c < n; ++c) gib[c * bins / n] += std::exp(-(fv[c] - fmin) / Tp) / (z * bin_width);
        e.put(cs.name + "/law_h" + std::to_string(h) + "/histogram", hist);
        e.put(cs.name + "/law_h" + std::to_string(h) + "/gibbs_at_T_paper", gib);
      }
    }
    long successes = 0;
    double mean_final_h = 0;
    for (const auto& t : tr) {
      successes += t.success;
      mean_final_h += t.final_h / static_cast<double>(runs);
    }
    const std::string k = cs.name + "/";
    e.attr(k + "eta_modal", eta);
    e.put(k + "h", hs);
    e.put(k + "T_paper", T_paper);
    e.put(k + "T_fit", T_fit);
    e.put(k + "C_q_effective", cq_eff);
    e.put(k + "p_global_measured", p_global);
    e.put(k + "gibbs_global_mass_at_T_paper", gibbs_global_paper);
    e.put(k + "gibbs_global_mass_at_T_fit", gibbs_global_fit);
    e.put(k + "ks_u_candidate", ks_cand);
    e.put(k + "ks_u_current", ks_curr);
    e.put(k + "n_accepted_comparisons", n_accepted);
    e.put(k + "fraction_reaching_h", reached);
    e.put(k + "C_q_effective_in_global_basin", cq_local);
    e.put(k + "ks_sqrt_n_u_first_candidate", ks_first);
    std::vector<double> xb(240);
    for (std::size_t b = 0; b < xb.size(); ++b) xb[b] = prob.lower[0] + (static_cast<double>(b) + 0.5) * (prob.upper[0] - prob.lower[0]) / 240;
    e.put(k + "law_x", xb);
    const double p_success = static_cast<double>(successes) / static_cast<double>(runs);
    e.attr(k + "success_probability", p_success);
    e.attr(k + "mean_final_h", mean_final_h);
    const std::size_t L = hs.size();
    // (1) the scaling T ∝ 1/Q_p: the Gibbs-matched C_q = 2 Q_p T_fit
    std::vector<double> deep;  // levels where every run is in the global basin (P >= 0.999)
    for (std::size_t l = 0; l < L; ++l)
      if (p_global[l] >= 0.999) deep.push_back(cq_eff[l]);
    if (deep.size() >= 3) {
      const auto [lo, hi] = std::minmax_element(deep.begin(), deep.end());
      e.at_least(cs.name + ": min of C_q,eff = 2 Q_p(h) T_fit(h) over the levels with P(global) >= 0.999 (paper: 2)", *lo, 3.0,
                 "breaks: x_h is uniform on the previous band's sublevel set (a lowest-band law, V6), whose Gibbs-matched T is 2-4x "
                 "C_q/(2 Q_p) with C_q = 2; measured 4.2 .. 8.1 (full run)");
      e.at_most(cs.name + ": max/min of C_q,eff over those levels", *hi / *lo, quick ? 3.0 : 2.5,
                "holds: T_fit falls like 1/Q_p(h) (the paper's scaling) once the runs sit in the global well; measured 1.75 (full), "
                "2.4 with the quick run's 2000 runs");
    } else {
      e.at_least(cs.name + ": C_q,eff from level 2 to the deepest level recorded (ratio)", cq_eff[L - 1] / cq_eff[2], 3.0,
                 "breaks: the law is a mixture, runs still crossing from the second-best well (f - f* = 0.025) late arrive with "
                 "f - f* >> q and dominate the mean; measured ratio 9.6 (full run)");
    }
    // (2) white noise
    std::vector<double> ks_ratio;  // KS over its 1 % critical value 1.63/sqrt(n)
    for (std::size_t l = 0; l < L; ++l) ks_ratio.push_back(ks_cand[l] / (1.63 / std::sqrt(n_accepted[l])));
    std::nth_element(ks_ratio.begin(), ks_ratio.begin() + static_cast<std::ptrdiff_t>(L / 2), ks_ratio.end());
    e.at_least(cs.name + ": median over h of KS(u of accepted candidates, U(-1/2, 1/2)) / its 1 % critical value", ks_ratio[L / 2], 2.0,
               "breaks for the comparisons that drive the search: an accepted candidate lies in a band at or below the current one, "
               "so its error is truncated where the band holds f*; measured KS 0.08 .. 0.25 at every level (9x .. 14x critical, full run)");
    double ks_late = 0;
    for (std::size_t l = 6; l < L; ++l) ks_late = std::max(ks_late, ks_first[l]);
    e.at_most(cs.name + ": max over h >= 6 of sqrt(n) KS(u of an arbitrary candidate, U(-1/2, 1/2))", ks_late, 2.0,
              "holds for an arbitrary evaluation once the range of f spans >= 64 bands: Kolmogorov's law, P(max of ~15 levels > 2.0) "
              "~ 1 %; measured <= 1.54");
    {
      std::string law;
      if (deep.size() >= 3) {
        const auto [lo, hi] = std::minmax_element(deep.begin(), deep.end());
        law = "C_q,eff = 2 Q_p(h) T_fit(h) = " + number_text(*lo, 2) + " .. " + number_text(*hi, 2) +
              " at the levels where every run is in the global basin (the paper's C_q = 2: T_fit scales as 1/Q_p but is " + number_text(*lo / 2, 2) +
              " .. " + number_text(*hi / 2, 2) + "x the paper's T)";
      } else {
        law = "C_q,eff = 2 Q_p(h) T_fit(h) grows from " + number_text(cq_eff[2], 2) + " (h = 2) to " + number_text(cq_eff[L - 1], 2) +
              " (h = " + std::to_string(L - 1) + "): runs reaching the global well late from the second-best one make the law a mixture, not Gibbs";
      }
      std::sort(ks_ratio.begin(), ks_ratio.end());
      e.finding(
          "authors' QTZ on the " + cs.name + " (" + std::to_string(runs) + " runs): " + law +
          "; accepted comparisons are not white noise (KS distance of their quantization error from uniform: " + number_text(ks_ratio[L / 2], 2) +
          "x its 1 % critical value at the median level, " + number_text(ks_ratio.front(), 2) + " .. " + number_text(ks_ratio.back(), 2) +
          "x over the levels) while an arbitrary evaluation is (sqrt(n) KS <= " + number_text(ks_late, 2) + " for h >= 6, critical 1.63)");
    }
    // (3) basin mass against the density picture
    double gap = 0;
    for (std::size_t l = 0; l < L; ++l) gap = std::max(gap, gibbs_global_paper[l] - p_global[l]);
    e.at_least(cs.name + ": max over h of [global mass of Gibbs at the paper's T(h)] - P(x_h in the global basin)", gap, 0.15,
               "breaks mid-search: blind proposals fill the sublevel set by volume, not by Boltzmann weight (measured 0.30 washboard, "
               "0.20 double well; sampling sigma <= 0.006)");
    e.finding("authors' QTZ on the " + cs.name + ": P(x_h in the global basin) trails the Gibbs mass at the paper's T(h) by up to " +
              number_text(gap, 2) + " mid-search (blind proposals fill a sublevel set by volume); at the end the success probability " +
              number_text(p_success, 4) + " meets the T -> 0 prediction");
    e.close(cs.name + ": success probability against the global mass of Gibbs at the paper's T(final h)", p_success,
            gibbs(fv, global, 1 / std::ldexp(eta, static_cast<int>(std::lround(mean_final_h)))).mass_global, 0.01,
            "holds at the end: T(h) -> 0 puts all Gibbs mass in the global basin and nearly every run ends there (washboard: 0.5 % stay "
            "in the second-best well)");
  }
}

}  // namespace qtzflow::verify
