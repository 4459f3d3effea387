// The CEC 2014 functions, expression for expression as the competition's C code computes them
// (see the header): where a value is hoisted out of the per-call work, it is computed by the same
// expression, so the result does not change by one bit.  Do not "simplify" an expression here
// (x*x for pow(x, 2.0) is fine, GCC folds that itself; reordering a sum or a product is not).
#include "potentials/cec2014_functions.hpp"

#include <array>
#include <cmath>
#include <utility>

namespace qtzflow::potentials {

namespace {

constexpr double kInf = 1.0e99;  // the C code's weight at a component's own optimum
constexpr double kE = 2.7182818284590452353602874713526625;
constexpr double kPi = 3.1415926535897932384626433832795029;

// Weierstrass: a = 0.5, b = 3, k = 0 … 20
constexpr unsigned kWeierstrassTerms = 21;
struct WeierstrassTable {
  std::array<double, kWeierstrassTerms> a_k{};       // pow(a, k)
  std::array<double, kWeierstrassTerms> two_pi_b_k{};  // 2·π·pow(b, k), the product in the C code's order
  double offset = 0;                                  // Σ_k pow(a, k)·cos(2·π·pow(b, k)·0.5), summed in order
  WeierstrassTable() {
    for (unsigned k = 0; k < kWeierstrassTerms; ++k) {
      a_k[k] = std::pow(0.5, k);
      two_pi_b_k[k] = 2.0 * kPi * std::pow(3.0, k);
      offset += std::pow(0.5, k) * std::cos(2.0 * kPi * std::pow(3.0, k) * 0.5);
    }
  }
};
const WeierstrassTable& weierstrass_table() {
  static const WeierstrassTable t;
  return t;
}

// Katsuura: 2^j, j = 1 … 32 (exact, as is the division by them)
struct KatsuuraTable {
  std::array<double, 33> two_j{};
  KatsuuraTable() {
    for (unsigned j = 1; j <= 32; ++j) two_j[j] = std::pow(2.0, j);
  }
};
const KatsuuraTable& katsuura_table() {
  static const KatsuuraTable t;
  return t;
}

/// A hybrid function's split of nx coordinates into parts of the fractions gp (the last takes
/// the rest): sizes and first indices.
template <std::size_t N>
std::pair<std::array<unsigned, N>, std::array<unsigned, N>> split(unsigned nx, const std::array<double, N>& gp) {
  std::array<unsigned, N> size{}, first{};
  unsigned taken = 0;
  for (std::size_t i = 0; i + 1 < N; ++i) {
    size[i] = static_cast<unsigned>(std::ceil(gp[i] * nx));
    taken += size[i];
  }
  size[N - 1] = nx - taken;
  for (std::size_t i = 1; i < N; ++i) first[i] = first[i - 1] + size[i - 1];
  return {size, first};
}

}  // namespace

Cec2014Function::Cec2014Function(int function, int dim, std::vector<double> shift, std::vector<double> rotation, std::vector<int> shuffle)
    : function_(function),
      nx_(static_cast<unsigned>(dim)),
      shift_(std::move(shift)),
      rotation_(std::move(rotation)),
      shuffle_(std::move(shuffle)) {
  ellips_weights_.resize(nx_ + 1);
  for (unsigned nx = 1; nx <= nx_; ++nx)
    for (unsigned i = 0; i < nx; ++i) ellips_weights_[nx].push_back(std::pow(10.0, 6.0 * i / (nx - 1)));
  for (unsigned i = 0; i < nx_; ++i) griewank_root_.push_back(std::sqrt(1.0 + i));
  weierstrass_table();  // built here, not inside a timed run
  katsuura_table();
}

void Cec2014Function::shift_rotate(const double* x, double* out, unsigned nx, const double* os, const double* mr, double rate, bool shift,
                                   bool rotate, Work& w) const {
  double* y = w.y.data();
  if (rotate) {
    if (shift)
      for (unsigned i = 0; i < nx; ++i) y[i] = (x[i] - os[i]) * rate;
    else
      for (unsigned i = 0; i < nx; ++i) y[i] = x[i] * rate;
    for (unsigned i = 0; i < nx; ++i) {
      double s = 0;
      for (unsigned j = 0; j < nx; ++j) s = s + y[j] * mr[i * nx + j];
      out[i] = s;
    }
  } else if (shift) {
    for (unsigned i = 0; i < nx; ++i) out[i] = (x[i] - os[i]) * rate;
  } else {
    for (unsigned i = 0; i < nx; ++i) out[i] = x[i] * rate;
  }
}

double Cec2014Function::ellips(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 1.0, shift, rotate, w);
  const double* weight = ellips_weights_[nx].data();
  double f = 0.0;
  for (unsigned i = 0; i < nx; ++i) f += weight[i] * z[i] * z[i];
  return f;
}

double Cec2014Function::bent_cigar(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 1.0, shift, rotate, w);
  double f = z[0] * z[0];
  for (unsigned i = 1; i < nx; ++i) f += 1e6 * z[i] * z[i];
  return f;
}

double Cec2014Function::discus(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 1.0, shift, rotate, w);
  double f = 1e6 * z[0] * z[0];
  for (unsigned i = 1; i < nx; ++i) f += z[i] * z[i];
  return f;
}

double Cec2014Function::rosenbrock(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 2.048 / 100.0, shift, rotate, w);
  double f = 0.0;
  z[0] += 1.0;  // the optimum at (1, …, 1)
  for (unsigned i = 0; i + 1 < nx; ++i) {
    z[i + 1] += 1.0;
    const double t1 = z[i] * z[i] - z[i + 1];
    const double t2 = z[i] - 1.0;
    f += 100.0 * t1 * t1 + t2 * t2;
  }
  return f;
}

double Cec2014Function::ackley(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 1.0, shift, rotate, w);
  double s1 = 0.0, s2 = 0.0;
  for (unsigned i = 0; i < nx; ++i) {
    s1 += z[i] * z[i];
    s2 += std::cos(2.0 * kPi * z[i]);
  }
  s1 = -0.2 * std::sqrt(s1 / nx);
  s2 /= nx;
  return kE - 20.0 * std::exp(s1) - std::exp(s2) + 20.0;
}

double Cec2014Function::weierstrass(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate,
                                    Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 0.5 / 100.0, shift, rotate, w);
  const auto& t = weierstrass_table();
  double f = 0.0;
  for (unsigned i = 0; i < nx; ++i) {
    double s = 0.0;
    const double u = z[i] + 0.5;
    for (unsigned k = 0; k < kWeierstrassTerms; ++k) s += t.a_k[k] * std::cos(t.two_pi_b_k[k] * u);
    f += s;
  }
  return f - nx * t.offset;
}

double Cec2014Function::griewank(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 600.0 / 100.0, shift, rotate, w);
  double s = 0.0, p = 1.0;
  for (unsigned i = 0; i < nx; ++i) {
    s += z[i] * z[i];
    p *= std::cos(z[i] / griewank_root_[i]);
  }
  return 1.0 + s / 4000.0 - p;
}

double Cec2014Function::rastrigin(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 5.12 / 100.0, shift, rotate, w);
  double f = 0.0;
  for (unsigned i = 0; i < nx; ++i) f += (z[i] * z[i] - 10.0 * std::cos(2.0 * kPi * z[i]) + 10.0);
  return f;
}

double Cec2014Function::schwefel(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 1000.0 / 100.0, shift, rotate, w);
  double f = 0.0;
  for (unsigned i = 0; i < nx; ++i) {
    z[i] += 4.209687462275036e+002;
    if (z[i] > 500) {
      f -= (500.0 - std::fmod(z[i], 500)) * std::sin(std::pow(500.0 - std::fmod(z[i], 500), 0.5));
      const double t = (z[i] - 500.0) / 100;
      f += t * t / nx;
    } else if (z[i] < -500) {
      f -= (-500.0 + std::fmod(std::fabs(z[i]), 500)) * std::sin(std::pow(500.0 - std::fmod(std::fabs(z[i]), 500), 0.5));
      const double t = (z[i] + 500.0) / 100;
      f += t * t / nx;
    } else {
      f -= z[i] * std::sin(std::pow(std::fabs(z[i]), 0.5));
    }
  }
  return f + 4.189828872724338e+002 * nx;
}

double Cec2014Function::katsuura(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  const double exponent = 10.0 / std::pow(1.0 * nx, 1.2);
  shift_rotate(x, z, nx, os, mr, 5.0 / 100.0, shift, rotate, w);
  const auto& t = katsuura_table();
  double f = 1.0;
  for (unsigned i = 0; i < nx; ++i) {
    double s = 0.0;
    for (unsigned j = 1; j <= 32; ++j) {
      const double u = t.two_j[j] * z[i];
      s += std::abs(u - std::floor(u + 0.5)) / t.two_j[j];
    }
    f *= std::pow(1.0 + (i + 1) * s, exponent);
  }
  const double c = 10.0 / nx / nx;
  return f * c - c;
}

double Cec2014Function::happycat(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 5.0 / 100.0, shift, rotate, w);
  double r2 = 0.0, sum = 0.0;
  for (unsigned i = 0; i < nx; ++i) {
    z[i] = z[i] - 1.0;  // the optimum at (−1, …, −1)
    r2 += z[i] * z[i];
    sum += z[i];
  }
  return std::pow(std::abs(r2 - nx), 2 * (1.0 / 8.0)) + (0.5 * r2 + sum) / nx + 0.5;
}

double Cec2014Function::hgbat(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 5.0 / 100.0, shift, rotate, w);
  double r2 = 0.0, sum = 0.0;
  for (unsigned i = 0; i < nx; ++i) {
    z[i] = z[i] - 1.0;
    r2 += z[i] * z[i];
    sum += z[i];
  }
  return std::pow(std::abs(std::pow(r2, 2.0) - std::pow(sum, 2.0)), 2 * (1.0 / 4.0)) + (0.5 * r2 + sum) / nx + 0.5;
}

double Cec2014Function::grie_rosen(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 5.0 / 100.0, shift, rotate, w);
  double f = 0.0;
  auto term = [](double a, double b) {
    const double t1 = a * a - b;
    const double t2 = a - 1.0;
    const double t = 100.0 * t1 * t1 + t2 * t2;
    return (t * t) / 4000.0 - std::cos(t) + 1.0;
  };
  z[0] += 1.0;
  for (unsigned i = 0; i + 1 < nx; ++i) {
    z[i + 1] += 1.0;
    f += term(z[i], z[i + 1]);
  }
  f += term(z[nx - 1], z[0]);
  return f;
}

double Cec2014Function::escaffer6(const double* x, unsigned nx, const double* os, const double* mr, bool shift, bool rotate, Work& w) const {
  double* z = w.z.data();
  shift_rotate(x, z, nx, os, mr, 1.0, shift, rotate, w);
  auto term = [](double a, double b) {
    double t1 = std::sin(std::sqrt(a * a + b * b));
    t1 = t1 * t1;
    const double t2 = 1.0 + 0.001 * (a * a + b * b);
    return 0.5 + (t1 - 0.5) / (t2 * t2);
  };
  double f = 0.0;
  for (unsigned i = 0; i + 1 < nx; ++i) f += term(z[i], z[i + 1]);
  f += term(z[nx - 1], z[0]);
  return f;
}

double Cec2014Function::hybrid(int k, const double* x, const double* os, const double* mr, const int* s, bool shift, bool rotate,
                               Work& w) const {
  const unsigned nx = nx_;
  double* z = w.z.data();
  double* y = w.y.data();
  shift_rotate(x, z, nx, os, mr, 1.0, shift, rotate, w);
  for (unsigned j = 0; j < nx; ++j) y[j] = z[static_cast<unsigned>(s[j] - 1)];
  // the parts read y and write z (neither shifted nor rotated again): y stays intact throughout
  using Part = double (Cec2014Function::*)(const double*, unsigned, const double*, const double*, bool, bool, Work&) const;
  auto sum_parts = [&](const auto& gp, std::initializer_list<Part> parts) {
    const auto [size, first] = split(nx, gp);
    double fit[5];
    std::size_t i = 0;
    for (Part p : parts) {
      fit[i] = (this->*p)(&y[first[i]], size[i], os, mr, false, false, w);
      ++i;
    }
    double f = 0.0;
    for (std::size_t m = 0; m < i; ++m) f += fit[m];
    return f;
  };
  using C = Cec2014Function;
  constexpr std::array<double, 3> g3{0.3, 0.3, 0.4};
  constexpr std::array<double, 4> g4{0.2, 0.2, 0.3, 0.3};
  constexpr std::array<double, 5> g5{0.1, 0.2, 0.2, 0.2, 0.3};
  switch (k) {
    case 1: return sum_parts(g3, {&C::schwefel, &C::rastrigin, &C::ellips});
    case 2: return sum_parts(g3, {&C::bent_cigar, &C::hgbat, &C::rastrigin});
    case 3: return sum_parts(g4, {&C::griewank, &C::weierstrass, &C::rosenbrock, &C::escaffer6});
    case 4: return sum_parts(g4, {&C::hgbat, &C::discus, &C::grie_rosen, &C::rastrigin});
    case 5: return sum_parts(g5, {&C::escaffer6, &C::hgbat, &C::rosenbrock, &C::schwefel, &C::ellips});
    default: return sum_parts(g5, {&C::katsuura, &C::happycat, &C::grie_rosen, &C::schwefel, &C::ackley});
  }
}

double Cec2014Function::weigh(const double* x, const double* delta, const double* bias, double* fit, int n) const {
  const unsigned nx = nx_;
  const double* os = shift_.data();
  double w[5];
  double w_max = 0, w_sum = 0;
  for (int i = 0; i < n; ++i) {
    fit[i] += bias[i];
    w[i] = 0;
    for (unsigned j = 0; j < nx; ++j) w[i] += std::pow(x[j] - os[static_cast<unsigned>(i) * nx + j], 2.0);
    if (w[i] != 0)
      w[i] = std::pow(1.0 / w[i], 0.5) * std::exp(-w[i] / 2.0 / nx / std::pow(delta[i], 2.0));
    else
      w[i] = kInf;
    if (w[i] > w_max) w_max = w[i];
  }
  for (int i = 0; i < n; ++i) w_sum = w_sum + w[i];
  if (w_max == 0) {
    for (int i = 0; i < n; ++i) w[i] = 1;
    w_sum = n;
  }
  double f = 0.0;
  for (int i = 0; i < n; ++i) f = f + w[i] / w_sum * fit[i];
  return f;
}

double Cec2014Function::composition(int k, const double* x, Work& w) const {
  const unsigned nx = nx_;
  const double* os = shift_.data();
  const double* mr = rotation_.data();
  const int* ss = shuffle_.data();
  // component i: its shift row, its rotation matrix (and its shuffle)
  auto o = [&](int i) { return os + static_cast<std::size_t>(i) * nx; };
  auto m = [&](int i) { return mr + static_cast<std::size_t>(i) * nx * nx; };
  auto s = [&](int i) { return ss + static_cast<std::size_t>(i) * nx; };
  double fit[5];
  switch (k) {
    case 1: {
      const double delta[] = {10, 20, 30, 40, 50}, bias[] = {0, 100, 200, 300, 400};
      fit[0] = 10000 * rosenbrock(x, nx, o(0), m(0), true, true, w) / 1e+4;
      fit[1] = 10000 * ellips(x, nx, o(1), m(1), true, true, w) / 1e+10;
      fit[2] = 10000 * bent_cigar(x, nx, o(2), m(2), true, true, w) / 1e+30;
      fit[3] = 10000 * discus(x, nx, o(3), m(3), true, true, w) / 1e+10;
      fit[4] = 10000 * ellips(x, nx, o(4), m(4), true, false, w) / 1e+10;
      return weigh(x, delta, bias, fit, 5);
    }
    case 2: {
      const double delta[] = {20, 20, 20}, bias[] = {0, 100, 200};
      fit[0] = schwefel(x, nx, o(0), m(0), true, false, w);
      fit[1] = rastrigin(x, nx, o(1), m(1), true, true, w);
      fit[2] = hgbat(x, nx, o(2), m(2), true, true, w);
      return weigh(x, delta, bias, fit, 3);
    }
    case 3: {
      const double delta[] = {10, 30, 50}, bias[] = {0, 100, 200};
      fit[0] = 1000 * schwefel(x, nx, o(0), m(0), true, true, w) / 4e+3;
      fit[1] = 1000 * rastrigin(x, nx, o(1), m(1), true, true, w) / 1e+3;
      fit[2] = 1000 * ellips(x, nx, o(2), m(2), true, true, w) / 1e+10;
      return weigh(x, delta, bias, fit, 3);
    }
    case 4: {
      const double delta[] = {10, 10, 10, 10, 10}, bias[] = {0, 100, 200, 300, 400};
      fit[0] = 1000 * schwefel(x, nx, o(0), m(0), true, true, w) / 4e+3;
      fit[1] = 1000 * happycat(x, nx, o(1), m(1), true, true, w) / 1e+3;
      fit[2] = 1000 * ellips(x, nx, o(2), m(2), true, true, w) / 1e+10;
      fit[3] = 1000 * weierstrass(x, nx, o(3), m(3), true, true, w) / 400;
      fit[4] = 1000 * griewank(x, nx, o(4), m(4), true, true, w) / 100;
      return weigh(x, delta, bias, fit, 5);
    }
    case 5: {
      const double delta[] = {10, 10, 10, 20, 20}, bias[] = {0, 100, 200, 300, 400};
      fit[0] = 10000 * hgbat(x, nx, o(0), m(0), true, true, w) / 1000;
      fit[1] = 10000 * rastrigin(x, nx, o(1), m(1), true, true, w) / 1e+3;
      fit[2] = 10000 * schwefel(x, nx, o(2), m(2), true, true, w) / 4e+3;
      fit[3] = 10000 * weierstrass(x, nx, o(3), m(3), true, true, w) / 400;
      fit[4] = 10000 * ellips(x, nx, o(4), m(4), true, true, w) / 1e+10;
      return weigh(x, delta, bias, fit, 5);
    }
    case 6: {
      const double delta[] = {10, 20, 30, 40, 50}, bias[] = {0, 100, 200, 300, 400};
      fit[0] = 10000 * grie_rosen(x, nx, o(0), m(0), true, true, w) / 4e+3;
      fit[1] = 10000 * happycat(x, nx, o(1), m(1), true, true, w) / 1e+3;
      fit[2] = 10000 * schwefel(x, nx, o(2), m(2), true, true, w) / 4e+3;
      fit[3] = 10000 * escaffer6(x, nx, o(3), m(3), true, true, w) / 2e+7;
      fit[4] = 10000 * ellips(x, nx, o(4), m(4), true, true, w) / 1e+10;
      return weigh(x, delta, bias, fit, 5);
    }
    case 7: {
      const double delta[] = {10, 30, 50}, bias[] = {0, 100, 200};
      for (int i = 0; i < 3; ++i) fit[i] = hybrid(i + 1, x, o(i), m(i), s(i), true, true, w);
      return weigh(x, delta, bias, fit, 3);
    }
    default: {
      const double delta[] = {10, 30, 50}, bias[] = {0, 100, 200};
      for (int i = 0; i < 3; ++i) fit[i] = hybrid(i + 4, x, o(i), m(i), s(i), true, true, w);
      return weigh(x, delta, bias, fit, 3);
    }
  }
}

double Cec2014Function::evaluate(const double* x, Work& w) const {
  const unsigned nx = nx_;
  const double* os = shift_.data();
  const double* mr = rotation_.data();
  double f = 0;
  switch (function_) {
    case 1: f = ellips(x, nx, os, mr, true, true, w); break;
    case 2: f = bent_cigar(x, nx, os, mr, true, true, w); break;
    case 3: f = discus(x, nx, os, mr, true, true, w); break;
    case 4: f = rosenbrock(x, nx, os, mr, true, true, w); break;
    case 5: f = ackley(x, nx, os, mr, true, true, w); break;
    case 6: f = weierstrass(x, nx, os, mr, true, true, w); break;
    case 7: f = griewank(x, nx, os, mr, true, true, w); break;
    case 8: f = rastrigin(x, nx, os, mr, true, false, w); break;
    case 9: f = rastrigin(x, nx, os, mr, true, true, w); break;
    case 10: f = schwefel(x, nx, os, mr, true, false, w); break;
    case 11: f = schwefel(x, nx, os, mr, true, true, w); break;
    case 12: f = katsuura(x, nx, os, mr, true, true, w); break;
    case 13: f = happycat(x, nx, os, mr, true, true, w); break;
    case 14: f = hgbat(x, nx, os, mr, true, true, w); break;
    case 15: f = grie_rosen(x, nx, os, mr, true, true, w); break;
    case 16: f = escaffer6(x, nx, os, mr, true, true, w); break;
    default:
      if (function_ <= 22)
        f = hybrid(function_ - 16, x, os, mr, shuffle_.data(), true, true, w);
      else
        f = composition(function_ - 22, x, w);
  }
  return f + 100.0 * function_;
}

}  // namespace qtzflow::potentials
