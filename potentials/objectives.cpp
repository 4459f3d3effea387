// The built-in objectives of docs/objectives.md and their registry.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <optional>

#include "core/error.hpp"
#include "potentials/cec.hpp"
#include "potentials/objective.hpp"

namespace qtzflow::potentials {

namespace {

using core::format_value;
using std::numbers::pi;
constexpr double kInf = std::numeric_limits<double>::infinity();

/// Roots of x³ + p x + q = 0, ascending (one or three real roots).
std::vector<double> depressed_cubic_roots(double p, double q) {
  const double disc = 4 * p * p * p + 27 * q * q;
  if (p < 0 && disc < 0) {
    const double m = 2 * std::sqrt(-p / 3);
    const double th = std::acos(3 * q / (p * m)) / 3;
    std::vector<double> r{m * std::cos(th), m * std::cos(th - 2 * pi / 3), m * std::cos(th - 4 * pi / 3)};
    std::sort(r.begin(), r.end());
    return r;
  }
  const double s = std::sqrt(q * q / 4 + p * p * p / 27);
  return {std::cbrt(-q / 2 + s) + std::cbrt(-q / 2 - s)};
}

/// Minima of a separable f = Σ g(x_i) from the per-coordinate minima of g: all combinations
/// (listed for d <= 10), global first.
std::vector<Minimum> separable_minima(int d, const std::vector<double>& xs, const std::function<double(double)>& g) {
  std::vector<Minimum> out;
  const std::size_t m = xs.size();
  const std::size_t best =
      static_cast<std::size_t>(std::min_element(xs.begin(), xs.end(), [&](double a, double b) { return g(a) < g(b); }) - xs.begin());
  std::size_t combos = 1;
  for (int i = 0; i < d && combos < 1025; ++i) combos *= m;
  if (combos > 1024) combos = 1;  // only the global minimum for large d
  for (std::size_t c = 0; c < combos; ++c) {
    Minimum mn{std::vector<double>(static_cast<std::size_t>(d)), 0.0, true};
    std::size_t r = c;
    for (int i = 0; i < d; ++i) {
      const std::size_t k = combos == 1 ? best : r % m;
      r /= m;
      mn.x[static_cast<std::size_t>(i)] = xs[k];
      mn.f += g(xs[k]);
      mn.global = mn.global && k == best;
    }
    out.push_back(mn);
  }
  std::stable_sort(out.begin(), out.end(), [](const Minimum& a, const Minimum& b) { return a.f < b.f; });
  return out;
}

class Base : public Objective {
 public:
  Base(std::string name, int dim, Params p, double lo, double hi) : Objective(std::move(name), dim, std::move(p)) {
    lower_.assign(static_cast<std::size_t>(dim), lo);
    upper_.assign(static_cast<std::size_t>(dim), hi);
  }
  double scalar(const char* key) const { return params_.at(key).front(); }
  /// Per-axis parameter value on axis i (length 1 broadcasts).
  double axis_param(const char* key, std::size_t i) const {
    const auto& v = params_.at(key);
    return v.size() == 1 ? v[0] : v[i];
  }
  void single_minimum(std::vector<double> x, double f) { minima_.push_back({std::move(x), f, true}); }
  std::vector<double> zeros() const { return std::vector<double>(static_cast<std::size_t>(dim_), 0.0); }
};

// ---------------------------------------------------------------------------------------------
class Harmonic final : public Base {
 public:
  Harmonic(int d, Params p) : Base("harmonic", d, std::move(p), -5, 5) {
    for (std::size_t i = 0; i < static_cast<std::size_t>(d); ++i) {
      a_.push_back(axis_param("a", i));
      core::require_positive("objective.a", a_.back());
    }
    single_minimum(zeros(), 0.0);
  }
  double value(std::span<const double> x) const override {
    double s = 0;
    for (std::size_t i = 0; i < x.size(); ++i) s += a_[i] * x[i] * x[i];
    return 0.5 * s;
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = a_[i] * x[i];
  }
  double laplacian(std::span<const double>) const override {
    double s = 0;
    for (double a : a_) s += a;
    return s;
  }

 private:
  std::vector<double> a_;
};

class DoubleWell final : public Base {
 public:
  DoubleWell(int d, Params p) : Base("double_well", d, std::move(p), -2, 2), c_(scalar("c")) {
    core::require_finite("objective.c", c_);
    // Critical points per coordinate: 4x³ − 4x + c = 0; minima where 12x² − 4 > 0.
    std::vector<double> mins;
    for (double r : depressed_cubic_roots(-1.0, c_ / 4))
      if (12 * r * r - 4 > 0) mins.push_back(r);
    minima_ = separable_minima(d, mins, [this](double x) { return g(x); });
  }
  double g(double x) const { return (x * x - 1) * (x * x - 1) + c_ * x; }
  double value(std::span<const double> x) const override {
    double s = 0;
    for (double xi : x) s += g(xi);
    return s;
  }
  void gradient(std::span<const double> x, std::span<double> gr) const override {
    for (std::size_t i = 0; i < x.size(); ++i) gr[i] = 4 * x[i] * (x[i] * x[i] - 1) + c_;
  }
  double laplacian(std::span<const double> x) const override {
    double s = 0;
    for (double xi : x) s += 12 * xi * xi - 4;
    return s;
  }

 private:
  double c_;
};

class Washboard final : public Base {
 public:
  Washboard(int d, Params p) : Base("washboard", d, std::move(p), -6, 6) {
    minima_.push_back({{-0.15688352814361697}, 0.003080400873015199, true});
    minima_.push_back({{0.4706505814179348}, 0.027723607768399106, false});
  }
  double value(std::span<const double> x) const override { return x[0] * x[0] / 8 + 2 * std::sin(10 * x[0]) + 2; }
  void gradient(std::span<const double> x, std::span<double> g) const override { g[0] = x[0] / 4 + 20 * std::cos(10 * x[0]); }
  double laplacian(std::span<const double> x) const override { return 0.25 - 200 * std::sin(10 * x[0]); }
};

class Rastrigin final : public Base {
 public:
  Rastrigin(int d, Params p) : Base("rastrigin", d, std::move(p), -5.12, 5.12) { single_minimum(zeros(), 0.0); }
  double value(std::span<const double> x) const override {
    double s = 10.0 * static_cast<double>(x.size());
    for (double xi : x) s += xi * xi - 10 * std::cos(2 * pi * xi);
    return s;
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = 2 * x[i] + 20 * pi * std::sin(2 * pi * x[i]);
  }
  double laplacian(std::span<const double> x) const override {
    double s = 0;
    for (double xi : x) s += 2 + 40 * pi * pi * std::cos(2 * pi * xi);
    return s;
  }
};

class Ackley final : public Base {
 public:
  Ackley(int d, Params p) : Base("ackley", d, std::move(p), -32.768, 32.768) { single_minimum(zeros(), 0.0); }
  double value(std::span<const double> x) const override {
    const double d = static_cast<double>(x.size());
    double s2 = 0, sc = 0;
    for (double xi : x) {
      s2 += xi * xi;
      sc += std::cos(2 * pi * xi);
    }
    return -20 * std::exp(-0.2 * std::sqrt(s2 / d)) - std::exp(sc / d) + 20 + std::numbers::e;
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    const double d = static_cast<double>(x.size());
    double s2 = 0, sc = 0;
    for (double xi : x) {
      s2 += xi * xi;
      sc += std::cos(2 * pi * xi);
    }
    const double rho = std::sqrt(s2), ec = std::exp(sc / d);
    // Radial part −20 exp(−a ρ), a = 0.2/√d: derivative 20 a e^{−aρ} along x/ρ (0 at the cone).
    const double a = 0.2 / std::sqrt(d), radial = rho > 0 ? 20 * a * std::exp(-a * rho) / rho : 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = radial * x[i] + (2 * pi / d) * std::sin(2 * pi * x[i]) * ec;
  }
  double laplacian(std::span<const double> x) const override {
    const double d = static_cast<double>(x.size());
    double s2 = 0, sc = 0;
    for (double xi : x) {
      s2 += xi * xi;
      sc += std::cos(2 * pi * xi);
    }
    const double rho = std::sqrt(s2), ec = std::exp(sc / d), a = 0.2 / std::sqrt(d);
    double lap;
    if (rho > 0) {
      const double e = std::exp(-a * rho);
      lap = -20 * a * a * e + (d - 1) / rho * 20 * a * e;
    } else {
      lap = x.size() > 1 ? kInf : -20 * a * a;
    }
    for (double xi : x) {
      const double s = std::sin(2 * pi * xi);
      lap += (4 * pi * pi / d) * ec * (std::cos(2 * pi * xi) - s * s / d);
    }
    return lap;
  }
};

class Griewank final : public Base {
 public:
  Griewank(int d, Params p) : Base("griewank", d, std::move(p), -600, 600) { single_minimum(zeros(), 0.0); }
  double value(std::span<const double> x) const override {
    double s = 0, prod = 1;
    for (std::size_t i = 0; i < x.size(); ++i) {
      s += x[i] * x[i] / 4000;
      prod *= std::cos(x[i] / std::sqrt(static_cast<double>(i + 1)));
    }
    return 1 + s - prod;
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    // ∏_{j≠i} cos u_j from prefix and suffix products (no division by a cosine that may vanish).
    const std::size_t d = x.size();
    std::vector<double> c(d), pre(d + 1, 1.0), suf(d + 1, 1.0);
    for (std::size_t i = 0; i < d; ++i) c[i] = std::cos(x[i] / std::sqrt(static_cast<double>(i + 1)));
    for (std::size_t i = 0; i < d; ++i) pre[i + 1] = pre[i] * c[i];
    for (std::size_t i = d; i-- > 0;) suf[i] = suf[i + 1] * c[i];
    for (std::size_t i = 0; i < d; ++i) {
      const double si = std::sqrt(static_cast<double>(i + 1));
      g[i] = x[i] / 2000 + std::sin(x[i] / si) / si * pre[i] * suf[i + 1];
    }
  }
  double laplacian(std::span<const double> x) const override {
    double prod = 1, inv = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      prod *= std::cos(x[i] / std::sqrt(static_cast<double>(i + 1)));
      inv += 1.0 / static_cast<double>(i + 1);
    }
    return static_cast<double>(x.size()) / 2000 + prod * inv;
  }
};

class StyblinskiTang final : public Base {
 public:
  StyblinskiTang(int d, Params p) : Base("styblinski_tang", d, std::move(p), -5, 5) {
    // Per coordinate g'(x) = 2x³ − 16x + 2.5 = 0  ⇔  x³ − 8x + 1.25 = 0; minima are the outer roots.
    const auto r = depressed_cubic_roots(-8.0, 1.25);
    minima_ = separable_minima(d, {r.front(), r.back()}, [](double x) { return 0.5 * (x * x * x * x - 16 * x * x + 5 * x); });
  }
  double value(std::span<const double> x) const override {
    double s = 0;
    for (double xi : x) s += xi * xi * xi * xi - 16 * xi * xi + 5 * xi;
    return 0.5 * s;
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = 2 * x[i] * x[i] * x[i] - 16 * x[i] + 2.5;
  }
  double laplacian(std::span<const double> x) const override {
    double s = 0;
    for (double xi : x) s += 6 * xi * xi - 16;
    return s;
  }
};

/// Radially symmetric objectives f = F(r): gradient F'(r) x/r, Laplacian F'' + (d−1)F'/r.
class Radial : public Base {
 public:
  using Base::Base;
  /// F(r), F'(r), F''(r).
  virtual void radial(double r, double& F, double& Fp, double& Fpp) const = 0;
  /// Limit of F'(r)/r at r → 0 when finite (F'(0) = 0), else +inf.
  virtual double fp_over_r_at_zero() const = 0;

  double value(std::span<const double> x) const final {
    double F, Fp, Fpp;
    radial(norm(x), F, Fp, Fpp);
    return F;
  }
  void gradient(std::span<const double> x, std::span<double> g) const final {
    const double r = norm(x);
    double F, Fp, Fpp;
    radial(r, F, Fp, Fpp);
    const double s = r > 0 ? Fp / r : 0.0;
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = s * x[i];
  }
  double laplacian(std::span<const double> x) const final {
    const double r = norm(x), d = static_cast<double>(x.size());
    double F, Fp, Fpp;
    radial(r, F, Fp, Fpp);
    if (r > 0) return Fpp + (d - 1) * Fp / r;
    const double lim = fp_over_r_at_zero();
    if (x.size() == 1) return Fpp;
    return std::isfinite(lim) ? Fpp + (d - 1) * lim : kInf;
  }
  static double norm(std::span<const double> x) {
    double s = 0;
    for (double xi : x) s += xi * xi;
    return std::sqrt(s);
  }
};

class Salomon final : public Radial {
 public:
  Salomon(int d, Params p) : Radial("salomon", d, std::move(p), -100, 100) { single_minimum(zeros(), 0.0); }
  void radial(double r, double& F, double& Fp, double& Fpp) const override {
    F = 1 - std::cos(2 * pi * r) + 0.1 * r;
    Fp = 2 * pi * std::sin(2 * pi * r) + 0.1;
    Fpp = 4 * pi * pi * std::cos(2 * pi * r);
  }
  double fp_over_r_at_zero() const override { return kInf; }
};

class DropWave final : public Radial {
 public:
  DropWave(int d, Params p) : Radial("drop_wave", d, std::move(p), -5.12, 5.12), shift_(scalar("shift")) { single_minimum(zeros(), shift_ - 1); }
  void radial(double r, double& F, double& Fp, double& Fpp) const override {
    const double N = 1 + std::cos(12 * r), Np = -12 * std::sin(12 * r), Npp = -144 * std::cos(12 * r);
    const double Dn = 0.5 * r * r + 2, Dp = r, Dpp = 1;
    const double u = N / Dn, up = (Np * Dn - N * Dp) / (Dn * Dn);
    const double upp = (Npp * Dn - N * Dpp) / (Dn * Dn) - 2 * Dp * (Np * Dn - N * Dp) / (Dn * Dn * Dn);
    F = shift_ - u;
    Fp = -up;
    Fpp = -upp;
  }
  double fp_over_r_at_zero() const override { return 72.5; }  // F''(0) = (144·2 + 2)/4

 private:
  double shift_;
};

class XinSheYang4 final : public Base {
 public:
  XinSheYang4(int d, Params p) : Base("xin_she_yang4", d, std::move(p), -10, 10), shift_(scalar("shift")) { single_minimum(zeros(), shift_ - 1); }
  // f = shift + (A − B)·h,  A = Σ sin² x_i,  B = exp(−Σ x_i²),  h = exp(−C),  C = Σ sin² √|x_i|.
  double value(std::span<const double> x) const override {
    double A = 0, S = 0, C = 0;
    for (double xi : x) {
      const double s = std::sin(xi), t = std::sin(std::sqrt(std::abs(xi)));
      A += s * s;
      S += xi * xi;
      C += t * t;
    }
    return shift_ + (A - std::exp(-S)) * std::exp(-C);
  }
  struct Parts {
    double A, B, h;
  };
  Parts parts(std::span<const double> x) const {
    double A = 0, S = 0, C = 0;
    for (double xi : x) {
      const double s = std::sin(xi), t = std::sin(std::sqrt(std::abs(xi)));
      A += s * s;
      S += xi * xi;
      C += t * t;
    }
    return {A, std::exp(-S), std::exp(-C)};
  }
  /// dC_i/dx_i and d²C_i/dx_i² of C_i = sin²√|x| (symmetric choice 0 at the kink x = 0).
  static void c_derivs(double x, double& c1, double& c2) {
    const double ax = std::abs(x);
    if (ax < 1e-12) {
      c1 = 0;
      c2 = -2.0 / 3.0;
      return;
    }
    const double s = std::sqrt(ax), sg = x > 0 ? 1.0 : -1.0;
    c1 = std::sin(2 * s) * sg / (2 * s);
    c2 = 2 * std::cos(2 * s) / (4 * ax) - std::sin(2 * s) / (4 * ax * s);
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    const auto [A, B, h] = parts(x);
    for (std::size_t i = 0; i < x.size(); ++i) {
      double c1, c2;
      c_derivs(x[i], c1, c2);
      g[i] = (std::sin(2 * x[i]) + 2 * x[i] * B) * h - (A - B) * h * c1;
    }
  }
  double laplacian(std::span<const double> x) const override {
    const auto [A, B, h] = parts(x);
    double lap = 0;
    for (double xi : x) {
      double c1, c2;
      c_derivs(xi, c1, c2);
      const double gi = std::sin(2 * xi) + 2 * xi * B;
      const double gii = 2 * std::cos(2 * xi) + 2 * B - 4 * xi * xi * B;
      const double hi = -h * c1, hii = h * (c1 * c1 - c2);
      lap += gii * h + 2 * gi * hi + (A - B) * hii;
    }
    return lap;
  }

 private:
  double shift_;
};

class Schaffer2 final : public Base {
 public:
  Schaffer2(int d, Params p) : Base("schaffer2", d, std::move(p), -100, 100) { single_minimum(zeros(), 0.0); }
  double value(std::span<const double> x) const override {
    const double a = x[0] * x[0] - x[1] * x[1], q = 1 + 0.001 * (x[0] * x[0] + x[1] * x[1]);
    const double s = std::sin(a);
    return 0.5 + (s * s - 0.5) / (q * q);
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    const double a = x[0] * x[0] - x[1] * x[1], q = 1 + 0.001 * (x[0] * x[0] + x[1] * x[1]);
    const double S = std::sin(a) * std::sin(a), s2a = std::sin(2 * a);
    const double Sx = 2 * x[0] * s2a, Sy = -2 * x[1] * s2a;
    g[0] = Sx / (q * q) - 2 * (S - 0.5) * 0.002 * x[0] / (q * q * q);
    g[1] = Sy / (q * q) - 2 * (S - 0.5) * 0.002 * x[1] / (q * q * q);
  }
  double laplacian(std::span<const double> x) const override {
    const double a = x[0] * x[0] - x[1] * x[1], q = 1 + 0.001 * (x[0] * x[0] + x[1] * x[1]);
    const double S = std::sin(a) * std::sin(a), s2a = std::sin(2 * a), c2a = std::cos(2 * a);
    const double q2 = q * q, q3 = q2 * q, q4 = q3 * q;
    double lap = 0;
    for (int i = 0; i < 2; ++i) {
      const double sg = i == 0 ? 1.0 : -1.0, xi = x[static_cast<std::size_t>(i)];
      const double Si = sg * 2 * xi * s2a, Sii = 8 * xi * xi * c2a + sg * 2 * s2a;
      const double qi = 0.002 * xi, qii = 0.002;
      lap += Sii / q2 - 4 * Si * qi / q3 + 6 * (S - 0.5) * qi * qi / q4 - 2 * (S - 0.5) * qii / q3;
    }
    return lap;
  }
};

class Himmelblau final : public Base {
 public:
  Himmelblau(int d, Params p) : Base("himmelblau", d, std::move(p), -5, 5) {
    minima_ = {{{3.0, 2.0}, 0.0, true},
               {{-2.805118086952745, 3.131312518250573}, 0.0, true},
               {{-3.779310253377747, -3.2831859912861696}, 0.0, true},
               {{3.5844283403304917, -1.8481265269644036}, 0.0, true}};
  }
  double value(std::span<const double> x) const override {
    const double A = x[0] * x[0] + x[1] - 11, B = x[0] + x[1] * x[1] - 7;
    return A * A + B * B;
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    const double A = x[0] * x[0] + x[1] - 11, B = x[0] + x[1] * x[1] - 7;
    g[0] = 4 * x[0] * A + 2 * B;
    g[1] = 2 * A + 4 * x[1] * B;
  }
  double laplacian(std::span<const double> x) const override {
    const double A = x[0] * x[0] + x[1] - 11, B = x[0] + x[1] * x[1] - 7;
    return 4 * A + 8 * x[0] * x[0] + 2 + 4 * B + 8 * x[1] * x[1] + 2;
  }
};

class Rosenbrock final : public Base {
 public:
  Rosenbrock(int d, Params p) : Base("rosenbrock", d, std::move(p), -2.048, 2.048) {
    single_minimum(std::vector<double>(static_cast<std::size_t>(d), 1.0), 0.0);
  }
  double value(std::span<const double> x) const override {
    double s = 0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i) {
      const double u = x[i + 1] - x[i] * x[i], v = x[i] - 1;
      s += 100 * u * u + v * v;
    }
    return s;
  }
  void gradient(std::span<const double> x, std::span<double> g) const override {
    for (std::size_t i = 0; i < x.size(); ++i) g[i] = 0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i) {
      const double u = x[i + 1] - x[i] * x[i];
      g[i] += -400 * x[i] * u + 2 * (x[i] - 1);
      g[i + 1] += 200 * u;
    }
  }
  double laplacian(std::span<const double> x) const override {
    double s = 0;
    for (std::size_t i = 0; i + 1 < x.size(); ++i) s += -400 * x[i + 1] + 1200 * x[i] * x[i] + 2 + 200;
    return s;
  }
};

// ---------------------------------------------------------------------------------------------
using Factory = std::function<std::unique_ptr<Objective>(int, Params)>;
struct Entry {
  ObjectiveInfo info;
  std::vector<std::string> per_axis;  ///< parameters that accept length d
  Factory make;
};

template <class T>
Factory factory() {
  return [](int d, Params p) { return std::unique_ptr<Objective>(new T(d, std::move(p))); };
}

constexpr int kAnyDim = 1 << 20;

const std::vector<Entry>& registry() {
  static const std::vector<Entry> r = {
      {{"harmonic", "1/2 sum a_i x_i^2", 1, kAnyDim, {{"a", {1.0}}}}, {"a"}, factory<Harmonic>()},
      {{"double_well", "sum (x_i^2-1)^2 + c x_i", 1, kAnyDim, {{"c", {0.0}}}}, {}, factory<DoubleWell>()},
      {{"washboard", "x^2/8 + 2 sin(10x) + 2", 1, 1, {}}, {}, factory<Washboard>()},
      {{"rastrigin", "10d + sum x_i^2 - 10 cos(2 pi x_i)", 1, kAnyDim, {}}, {}, factory<Rastrigin>()},
      {{"ackley", "-20 exp(-0.2 sqrt(mean x^2)) - exp(mean cos 2 pi x) + 20 + e", 1, kAnyDim, {}}, {}, factory<Ackley>()},
      {{"griewank", "1 + sum x_i^2/4000 - prod cos(x_i/sqrt(i))", 1, kAnyDim, {}}, {}, factory<Griewank>()},
      {{"styblinski_tang", "1/2 sum x_i^4 - 16 x_i^2 + 5 x_i", 1, kAnyDim, {}}, {}, factory<StyblinskiTang>()},
      {{"salomon", "1 - cos(2 pi |x|) + 0.1 |x|", 1, kAnyDim, {}}, {}, factory<Salomon>()},
      {{"xin_she_yang4", "shift + (sum sin^2 x_i - exp(-|x|^2)) exp(-sum sin^2 sqrt|x_i|)", 1, kAnyDim, {{"shift", {2.0}}}},
       {},
       factory<XinSheYang4>()},
      {{"drop_wave", "shift - (1 + cos(12|x|))/(|x|^2/2 + 2)", 1, kAnyDim, {{"shift", {1.0}}}}, {}, factory<DropWave>()},
      {{"schaffer2", "0.5 + (sin^2(x1^2-x2^2) - 0.5)/(1 + 0.001|x|^2)^2", 2, 2, {}}, {}, factory<Schaffer2>()},
      {{"himmelblau", "(x1^2+x2-11)^2 + (x1+x2^2-7)^2", 2, 2, {}}, {}, factory<Himmelblau>()},
      {{"rosenbrock", "sum 100(x_{i+1}-x_i^2)^2 + (x_i-1)^2", 2, kAnyDim, {}}, {}, factory<Rosenbrock>()},
  };
  return r;
}

std::string join_names(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& n : v) s += (s.empty() ? "" : ", ") + n;
  return s.empty() ? "(none)" : s;
}

}  // namespace

const std::vector<ObjectiveInfo>& objective_catalog() {
  static const std::vector<ObjectiveInfo> c = [] {
    std::vector<ObjectiveInfo> v;
    for (const auto& e : registry()) v.push_back(e.info);
    return v;
  }();
  return c;
}

void Objective::set_known_minima(const std::vector<std::vector<double>>& points) {
  const auto d = static_cast<std::size_t>(dim_);
  for (const auto& m : points) {
    if (m.size() != d) core::throw_invalid("objective.minima", std::to_string(m.size()) + " coordinates", std::to_string(d) + " per minimum");
    for (std::size_t a = 0; a < d; ++a)
      if (!(m[a] >= lower_[a] && m[a] <= upper_[a]))
        core::throw_invalid("objective.minima", core::format_value(m[a]) + " on axis " + std::to_string(a), "inside the domain");
    const double fm = value(m);
    if (!std::isfinite(fm)) core::throw_invalid("objective.minima", "f = " + core::format_value(fm), "a point where f is finite");
    minima_.push_back({m, fm, false});
  }
  std::stable_sort(minima_.begin(), minima_.end(), [](const Minimum& a, const Minimum& b) { return a.f < b.f; });
  for (auto& m : minima_) m.global = m.f <= minima_.front().f + 1e-12 * std::max(1.0, std::abs(minima_.front().f));
}

namespace {

/// A CEC suite's function: "cec2014" with params {function: N}, or "cec2014:N".
std::unique_ptr<Objective> make_suite_function(std::string_view name, int dim, const Params& params) {
  const auto colon = name.find(':');
  const std::string suite(name.substr(0, colon));
  std::optional<double> number;
  if (colon != std::string_view::npos) {
    const std::string digits(name.substr(colon + 1));
    if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      core::throw_invalid("objective.name", "\"" + std::string(name) + "\"", suite + ":N with N a function number, e.g. " + suite + ":5");
    number = std::stod(digits);
  }
  for (const auto& [key, val] : params) {
    if (key != "function")
      throw core::UnknownName("objective." + key, "objective." + key + ": unknown parameter of objective " + suite + "; known: function");
    if (number) core::throw_invalid("objective.function", "given twice", "either " + suite + ":N or objective.function = N");
    if (val.size() != 1) core::throw_invalid("objective.function", std::to_string(val.size()) + " values", "a single function number");
    number = val[0];
  }
  if (!number) core::throw_invalid("objective.function", "missing", "the function number of " + suite + " (function = N, or name = \"" + suite + ":N\")");
  if (!(std::isfinite(*number) && *number == std::floor(*number) && std::abs(*number) < 1e6))
    core::throw_invalid("objective.function", core::format_value(*number), "a whole function number");
  return make_cec_objective(suite, static_cast<int>(*number), dim);
}

}  // namespace

std::unique_ptr<Objective> make_objective(std::string_view name, int dim, const Params& params) {
  if (is_cec_suite(name.substr(0, name.find(':')))) return make_suite_function(name, dim, params);
  const auto& reg = registry();
  const auto it = std::find_if(reg.begin(), reg.end(), [&](const Entry& e) { return e.info.name == name; });
  if (it == reg.end()) {
    std::vector<std::string> names;
    for (const auto& e : reg) names.push_back(e.info.name);
    for (const auto& s : cec_suites()) names.push_back(s.name + ":1.." + std::to_string(s.functions));
    throw core::UnknownName("objective.name", "objective.name = \"" + std::string(name) + "\": unknown objective; known: " + join_names(names));
  }
  const auto& info = it->info;
  if (dim < info.min_dim || dim > info.max_dim) {
    // kAnyDim bounds the "any dimension" objectives: one point of 2^20 coordinates is already 8 MiB
    const std::string range =
        info.max_dim == kAnyDim        ? "in [" + std::to_string(info.min_dim) + ", 2^20 = " + std::to_string(kAnyDim) + "] (qtzflow's limit on any dimension)"
        : info.min_dim == info.max_dim ? std::to_string(info.min_dim)
                                       : "in [" + std::to_string(info.min_dim) + ", " + std::to_string(info.max_dim) + "]";
    core::throw_invalid("dimension", std::to_string(dim), range + " for objective " + info.name);
  }
  Params p = info.defaults;
  for (const auto& [key, val] : params) {
    if (!info.defaults.contains(key)) {
      std::vector<std::string> known;
      for (const auto& [k, v] : info.defaults) known.push_back(k);
      throw core::UnknownName("objective." + key,
                              "objective." + key + ": unknown parameter of objective " + info.name + "; known: " + join_names(known));
    }
    const bool per_axis = std::find(it->per_axis.begin(), it->per_axis.end(), key) != it->per_axis.end();
    if (val.size() != 1 && !(per_axis && val.size() == static_cast<std::size_t>(dim)))
      core::throw_invalid("objective." + key, std::to_string(val.size()) + " values",
                          per_axis ? "1 or d = " + std::to_string(dim) + " values" : "a single number");
    for (double v : val) core::require_finite("objective." + key, v);
    p[key] = val;
  }
  return it->make(dim, std::move(p));
}

}  // namespace qtzflow::potentials
