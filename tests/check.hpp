// Explicit tolerance checks.  doctest's Approx(x).epsilon(e) accepts |a − b| < e·(1 + max(|a|, |b|)),
// which is neither absolute nor relative; these say which, and print both sides and the bound.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <iomanip>

/// |a − b| ≤ tol (an absolute tolerance).
#define CHECK_ABS(a, b, tol)                                                                                                                \
  do {                                                                                                                                      \
    const double check_a_ = (a), check_b_ = (b), check_tol_ = (tol);                                                                        \
    CHECK_MESSAGE(std::abs(check_a_ - check_b_) <= check_tol_,                                                                              \
                  #a " = " << std::setprecision(17) << check_a_ << ", expected " << check_b_ << " within " << check_tol_ << " (absolute)"); \
  } while (0)

/// |a − b| ≤ rel·|b| (a tolerance relative to the expected value b).
#define CHECK_REL(a, b, rel)                                                                                                                \
  do {                                                                                                                                      \
    const double check_a_ = (a), check_b_ = (b), check_rel_ = (rel);                                                                        \
    CHECK_MESSAGE(std::abs(check_a_ - check_b_) <= check_rel_ * std::abs(check_b_),                                                         \
                  #a " = " << std::setprecision(17) << check_a_ << ", expected " << check_b_ << " within " << check_rel_ << " (relative)"); \
  } while (0)
