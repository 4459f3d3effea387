// qtzflow/core/random.hpp — counter-based random streams (Random123's Philox4x64-10).
//
// A stream is named by (seed, stream id): its k-th 256-bit block is Philox(counter = (k, id),
// key = seed), so every particle or run draws from its own stream whatever thread runs it and
// in whatever order, which makes ensembles bit-reproducible for any thread count.  There is no
// state to share and nothing to seed serially.
// Conventions: uniform() in [0, 1) with 53 random bits; below(n) in [0, n) by the
// multiply-high map (bias ≤ n/2⁶⁴, far below any statistic we measure); normal() by
// Box–Muller (Random123's boxmuller, both outputs used).
#pragma once

#include <Random123/philox.h>
#include <Random123/u01fixedpt.h>
#include <Random123/boxmuller.hpp>

#include <cstdint>

namespace qtzflow::core {

class RandomStream {
  __extension__ typedef unsigned __int128 Wide;

 public:
  RandomStream(std::uint64_t seed, std::uint64_t stream) : key_{{seed, 0x9E3779B97F4A7C15ULL}}, ctr_{{0, stream, 0, 0}} {}

  /// The next raw 64-bit word.
  std::uint64_t bits() {
    if (used_ == 4) refill();
    return block_.v[used_++];
  }
  /// Uniform in [0, 1).
  double uniform() { return ::u01fixedpt_closed_open_64_double(bits()); }
  /// Uniform in [a, b).
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  /// Uniform integer in [0, n), n ≥ 1.
  std::uint64_t below(std::uint64_t n) { return static_cast<std::uint64_t>((static_cast<Wide>(bits()) * n) >> 64); }
  /// Standard normal.
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const std::uint64_t u0 = bits(), u1 = bits();
    const r123::double2 z = r123::boxmuller(u0, u1);
    spare_ = z.y;
    has_spare_ = true;
    return z.x;
  }

 private:
  void refill() {
    block_ = r123::Philox4x64()(ctr_, key_);
    ++ctr_.v[0];
    used_ = 0;
  }
  r123::Philox4x64::key_type key_;
  r123::Philox4x64::ctr_type ctr_;
  r123::Philox4x64::ctr_type block_{};
  int used_ = 4;
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace qtzflow::core
