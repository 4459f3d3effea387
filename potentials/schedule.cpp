#include "potentials/schedule.hpp"

#include <cmath>

#include "core/error.hpp"

namespace qtzflow::potentials {

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
  return {Kind::paper, C_q / (2 * eta), std::exp2(-1 / tau), tau};
}

double Schedule::T(double t) const {
  switch (kind_) {
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
