#include "potentials/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "potentials/formula.hpp"

namespace qtzflow::potentials {

struct Schedule::Shared {
  std::vector<double> t, T;                     // table: knots
  std::vector<double> alpha, beta;              // table: per interval, the end slopes over the secant (in [0, 3])
  std::unique_ptr<Formula> formula;             // expression
  std::function<double(double)> fn_T, fn_Tdot;  // function
  std::string key;
};

namespace {

/// Fritsch–Carlson slopes: the harmonic mean of neighbouring secants where they agree in sign,
/// 0 at a local extremum, one-sided three-point ends limited likewise (Moler's pchip).  In long
/// double, whose range (to 1e4932) holds every secant of finite knots: a tiny interval between
/// large temperatures would overflow a double.
std::vector<long double> pchip_slopes(const std::vector<double>& x, const std::vector<double>& y) {
  using R = long double;
  const std::size_t n = x.size();
  std::vector<R> h(n - 1), del(n - 1), d(n, 0.0L);
  for (std::size_t k = 0; k + 1 < n; ++k) {
    h[k] = static_cast<R>(x[k + 1]) - static_cast<R>(x[k]);
    del[k] = (static_cast<R>(y[k + 1]) - static_cast<R>(y[k])) / h[k];
  }
  if (n == 2) return {del[0], del[0]};
  for (std::size_t k = 1; k + 1 < n; ++k)
    if (del[k - 1] * del[k] > 0) {
      const R w1 = 2 * h[k] + h[k - 1], w2 = h[k] + 2 * h[k - 1];
      d[k] = (w1 + w2) / (w1 / del[k - 1] + w2 / del[k]);
    }
  auto end = [](R h0, R h1, R d0, R d1) {
    R v = ((2 * h0 + h1) * d0 - h0 * d1) / (h0 + h1);
    if (v * d0 <= 0)
      v = 0;
    else if (d0 * d1 <= 0 && std::abs(v) > std::abs(3 * d0))
      v = 3 * d0;
    return v;
  };
  d[0] = end(h[0], h[1], del[0], del[1]);
  d[n - 1] = end(h[n - 2], h[n - 3], del[n - 2], del[n - 3]);
  return d;
}

/// The cubic on one interval in the form T = y0 + Δ p(s), s in [0, 1], Δ = y1 − y0: p(0) = 0,
/// p(1) = 1, p'(0) = α, p'(1) = β.  The Fritsch–Carlson limits keep α, β in [0, 3], so p stays in
/// [0, 1] and nothing overflows, however large the temperatures or small the interval.
double hermite_p(double s, double alpha, double beta) {
  const double s2 = s * s, s3 = s2 * s;
  return (s3 - 2 * s2 + s) * alpha + (-2 * s3 + 3 * s2) + (s3 - s2) * beta;
}
double hermite_dp(double s, double alpha, double beta) { return (3 * s * s - 4 * s + 1) * alpha + (-6 * s * s + 6 * s) + (3 * s * s - 2 * s) * beta; }

}  // namespace

Schedule Schedule::constant(double T) {
  core::require_positive("schedule.T", T);
  return {Kind::constant, T, 0};
}

Schedule Schedule::logarithmic(double c) {
  core::require_positive("schedule.c", c);
  return {Kind::logarithmic, c, 0};
}

Schedule Schedule::geometric(double T0, double gamma) {
  core::require_positive("schedule.T", T0);
  if (!(gamma > 0 && gamma < 1)) core::throw_invalid("schedule.gamma", core::format_value(gamma), "in (0, 1)");
  return {Kind::geometric, T0, gamma};
}

Schedule Schedule::paper(double C_q, double eta, double tau) {
  core::require_positive("schedule.C_q", C_q);
  core::require_positive("schedule.eta", eta);
  core::require_positive("schedule.tau", tau);
  // stored as the equivalent geometric law; c_ keeps τ for describe()
  Schedule s{Kind::paper, C_q / (2 * eta), std::exp2(-1 / tau), tau};
  s.C_q_ = C_q;
  return s;
}

Schedule Schedule::table(std::vector<double> t, std::vector<double> T, const std::string& key) {
  if (t.size() != T.size())
    core::throw_invalid(key, std::to_string(t.size()) + " times and " + std::to_string(T.size()) + " temperatures", "pairs (t, T)");
  if (t.size() < 2) core::throw_invalid(key, std::to_string(t.size()) + " points", "at least 2 points (t, T)");
  for (std::size_t k = 0; k < t.size(); ++k) {
    if (!std::isfinite(t[k]) || !std::isfinite(T[k]))
      core::throw_invalid(key, "point " + std::to_string(k) + " (" + core::format_value(t[k]) + ", " + core::format_value(T[k]) + ")",
                          "finite numbers");
    if (!(T[k] > 0)) core::throw_invalid(key, "T = " + core::format_value(T[k]) + " at t = " + core::format_value(t[k]), "T > 0 at every point");
    if (k == 0 && t[0] != 0) core::throw_invalid(key, "first time " + core::format_value(t[0]), "0 (the table starts at t = 0)");
    if (k > 0 && !(t[k] > t[k - 1]))
      core::throw_invalid(key, "t = " + core::format_value(t[k]) + " after t = " + core::format_value(t[k - 1]), "strictly increasing times");
  }
  auto sh = std::make_shared<Shared>();
  const auto slope = pchip_slopes(t, T);
  for (std::size_t k = 0; k + 1 < t.size(); ++k) {
    const long double h = static_cast<long double>(t[k + 1]) - t[k], delta = static_cast<long double>(T[k + 1]) - T[k], secant = delta / h;
    // Tdot reaches 3 |secant| (the limits above): it must be a number, or the engines' potential
    // (f Tdot / (2T^2) in imaginary time) and every derivative of T would overflow
    if (!(3 * std::abs(secant) <= static_cast<long double>(std::numeric_limits<double>::max())))
      core::throw_invalid(key,
                          "T from " + core::format_value(T[k]) + " to " + core::format_value(T[k + 1]) + " between t = " + core::format_value(t[k]) +
                              " and t = " + core::format_value(t[k + 1]) + " (a rate of change beyond double precision)",
                          "a table whose T changes at a rate |dT/dt| < 6e307");
    sh->alpha.push_back(delta == 0 ? 0.0 : static_cast<double>(slope[k] / secant));
    sh->beta.push_back(delta == 0 ? 0.0 : static_cast<double>(slope[k + 1] / secant));
  }
  sh->t = std::move(t);
  sh->T = std::move(T);
  sh->key = key;
  Schedule s(Kind::table, 0, 0);
  s.shared_ = std::move(sh);
  return s;
}

Schedule Schedule::expression(const std::string& formula, const Params& constants, const std::string& key) {
  auto sh = std::make_shared<Shared>();
  sh->formula = std::make_unique<Formula>(formula, std::vector<std::vector<std::string>>{{"t"}}, constants, key);
  sh->key = key;
  Schedule s(Kind::expression, 0, 0);
  s.shared_ = std::move(sh);
  const double T0 = s.T(0);
  if (!(std::isfinite(T0) && T0 > 0))
    core::throw_invalid(key, "\"" + core::shorten(formula, 120) + "\" = " + core::format_value(T0) + " at t = 0", "T > 0");
  return s;
}

Schedule Schedule::function(std::function<double(double)> T, std::function<double(double)> Tdot, const std::string& what) {
  if (!T) core::throw_invalid("schedule", "no callable", "a function of t");
  auto sh = std::make_shared<Shared>();
  sh->fn_T = std::move(T);
  sh->fn_Tdot = std::move(Tdot);
  sh->key = what;
  Schedule s(Kind::function, 0, 0);
  s.shared_ = std::move(sh);
  const double T0 = s.T(0);
  if (!(std::isfinite(T0) && T0 > 0)) core::throw_invalid("schedule", what + " = " + core::format_value(T0) + " at t = 0", "T > 0");
  return s;
}

void Schedule::require_positive_until(double t_end, double dt) const {
  if (kind_ != Kind::expression && kind_ != Kind::function) return;  // the closed forms and the table are > 0 by construction
  const double steps = std::ceil(t_end / dt - 1e-9);
  const long samples = static_cast<long>(std::min(2 * steps + 1, 2e6));
  for (long k = 0; k < samples; ++k) {
    const double t = samples == 1 ? 0 : t_end * static_cast<double>(k) / static_cast<double>(samples - 1);
    const double v = T(t);
    if (!(std::isfinite(v) && v > 0))
      core::throw_invalid(kind_ == Kind::function ? "schedule" : shared_->key,
                          (kind_ == Kind::function ? shared_->key : "\"" + core::shorten(shared_->formula->text(), 120) + "\"") + " = " +
                              core::format_value(v) + " at t = " + core::format_value(t),
                          "T > 0 and finite over the whole run, t in [0, " + core::format_value(t_end) + "]");
  }
}

double Schedule::T(double t) const {
  switch (kind_) {
    case Kind::table: {
      const auto& x = shared_->t;
      if (t >= x.back()) return shared_->T.back();
      if (t <= x.front()) return shared_->T.front();
      const std::size_t k = static_cast<std::size_t>(std::upper_bound(x.begin(), x.end(), t) - x.begin()) - 1;
      const double h = x[k + 1] - x[k], s = (t - x[k]) / h, y0 = shared_->T[k], y1 = shared_->T[k + 1];
      // between the two knots (monotone), also after rounding: never <= 0
      return std::clamp(y0 + (y1 - y0) * hermite_p(s, shared_->alpha[k], shared_->beta[k]), std::min(y0, y1), std::max(y0, y1));
    }
    case Kind::expression:
      return shared_->formula->evaluate(std::span<const double>(&t, 1));
    case Kind::function:
      return shared_->fn_T(t);
    case Kind::constant:
      return a_;
    case Kind::logarithmic:
      return a_ / std::log(t + 2);
    case Kind::geometric:
    case Kind::paper:
      return a_ * std::pow(b_, t);
  }
  return a_;
}

double Schedule::Tdot(double t) const {
  switch (kind_) {
    case Kind::table: {
      const auto& x = shared_->t;
      if (t >= x.back() || t < x.front()) return 0;
      const std::size_t k = static_cast<std::size_t>(std::upper_bound(x.begin(), x.end(), t) - x.begin()) - 1;
      const double h = x[k + 1] - x[k], s = (t - x[k]) / h, y0 = shared_->T[k], y1 = shared_->T[k + 1];
      return (y1 - y0) / h * hermite_dp(s, shared_->alpha[k], shared_->beta[k]);
    }
    case Kind::function:
      if (shared_->fn_Tdot) return shared_->fn_Tdot(t);
      [[fallthrough]];
    case Kind::expression: {
      const double h = 1e-4 * (1 + std::abs(t));
      const double m2 = T(t - 2 * h), m1 = T(t - h), p1 = T(t + h), p2 = T(t + 2 * h);
      if (std::isfinite(m2) && std::isfinite(m1)) return (m2 - 8 * m1 + 8 * p1 - p2) / (12 * h);
      const double p0 = T(t), p3 = T(t + 3 * h), p4 = T(t + 4 * h);  // one-sided, 4th order
      return (-25 * p0 + 48 * p1 - 36 * p2 + 16 * p3 - 3 * p4) / (12 * h);
    }
    case Kind::constant:
      return 0;
    case Kind::logarithmic: {
      const double l = std::log(t + 2);
      return -a_ / ((t + 2) * l * l);
    }
    case Kind::geometric:
    case Kind::paper:
      return a_ * std::pow(b_, t) * std::log(b_);
  }
  return 0;
}

std::string Schedule::describe() const {
  switch (kind_) {
    case Kind::table:
      return "table of " + std::to_string(shared_->t.size()) + " points (t, T), monotone cubic, T = " + core::format_value(shared_->T.back()) +
             " after t = " + core::format_value(shared_->t.back());
    case Kind::expression:
      return "T(t) = " + shared_->formula->text();
    case Kind::function:
      return shared_->key;
    case Kind::constant:
      return "constant T = " + core::format_value(a_);
    case Kind::logarithmic:
      return "logarithmic T = " + core::format_value(a_) + "/ln(t+2)";
    case Kind::geometric:
      return "geometric T = " + core::format_value(a_) + "*" + core::format_value(b_) + "^t";
    case Kind::paper:
      return "paper T = C_q/(2 eta 2^(t/" + core::format_value(c_) + ")) = " + core::format_value(a_) + "*2^(-t/" + core::format_value(c_) + ")";
  }
  return "";
}

}  // namespace qtzflow::potentials
