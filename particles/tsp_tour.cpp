#include "particles/tsp_tour.hpp"

#include <string>
#include <utility>

#include "core/error.hpp"

namespace qtzflow::particles {

ArrayTour::ArrayTour(std::vector<int> cities) : city_(std::move(cities)), pos_(city_.size(), city_.size()) {
  const std::size_t n = city_.size();
  for (std::size_t p = 0; p < n; ++p) {
    const int c = city_[p];
    if (c < 0 || static_cast<std::size_t>(c) >= n || pos_[static_cast<std::size_t>(c)] != n)
      core::throw_invalid("tour", "city " + std::to_string(c) + " at position " + std::to_string(p),
                          "a permutation of 0.." + std::to_string(n == 0 ? 0 : n - 1));
    pos_[static_cast<std::size_t>(c)] = p;
  }
}

void ArrayTour::reverse_range(std::size_t first, std::size_t count) {
  std::size_t i = first, j = wrap(first + count - 1);
  for (std::size_t k = 0; k < count / 2; ++k) {
    const int ci = city_[i], cj = city_[j];
    put(i, cj);
    put(j, ci);
    i = wrap(i + 1);
    j = j == 0 ? size() - 1 : j - 1;
  }
}

void ArrayTour::apply_two_opt(int a, int b) {
  // reversing a⁺ … b or b⁺ … a gives the same cycle: the shorter one moves fewer cities
  const std::size_t n = size(), from = wrap(position(a) + 1), to = position(b);
  const std::size_t count = (to + n - from) % n + 1;
  if (count <= n - count)
    reverse_range(from, count);
  else
    reverse_range(wrap(to + 1), n - count);
}

void ArrayTour::apply_or_opt(int s, std::size_t length, int c, bool reversed) {
  const std::size_t n = size(), i = position(s);
  int segment[3];
  for (std::size_t k = 0; k < length; ++k) segment[k] = city_[wrap(i + k)];
  if (reversed)
    for (std::size_t k = 0; k < length / 2; ++k) std::swap(segment[k], segment[length - 1 - k]);
  // cyclic order: p S q … c d … p.  Either the g cities q … c move back by L and S goes after
  // them, or the h = n − L − g cities d … p move forward by L and S goes before them: the same
  // cycle c S d … p q … c.
  const std::size_t e_pos = wrap(i + length - 1);
  const std::size_t g = (position(c) + n - e_pos) % n, h = n - length - g;
  if (g <= h) {
    for (std::size_t k = 0; k < g; ++k) put(wrap(i + k), city_[wrap(i + length + k)]);
    for (std::size_t k = 0; k < length; ++k) put(wrap(i + g + k), segment[k]);
  } else {
    // d … p run backwards into the segment's place, last first
    for (std::size_t k = 0; k < h; ++k) put((e_pos + n - k) % n, city_[(i + n - 1 - k) % n]);
    const std::size_t start = (i + n - h) % n;
    for (std::size_t k = 0; k < length; ++k) put(wrap(start + k), segment[k]);
  }
}

std::array<int, 6> ArrayTour::double_bridge_ends(std::size_t p, std::size_t b, std::size_t c) const {
  return {city_[wrap(p % size())], city_[wrap(p % size() + 1)], city_[wrap(p % size() + b)], city_[wrap(p % size() + b + 1)],
          city_[wrap(p % size() + b + c)], city_[(p % size() + b + c + 1) % size()]};
}

double ArrayTour::double_bridge_delta(const potentials::TspInstance& t, std::size_t p, std::size_t b, std::size_t c) const {
  const auto [a1, b0, b1, c0, c1, d0] = double_bridge_ends(p, b, c);
  auto dist = [&](int x, int y) { return t.distance(static_cast<std::size_t>(x), static_cast<std::size_t>(y)); };
  return dist(a1, c0) + dist(c1, b0) + dist(b1, d0) - dist(a1, b0) - dist(b1, c0) - dist(c1, d0);
}

void ArrayTour::apply_double_bridge(std::size_t p, std::size_t b, std::size_t c) {
  const std::size_t first = wrap(p % size() + 1);
  scratch_.resize(b + c);
  for (std::size_t k = 0; k < c; ++k) scratch_[k] = city_[(first + b + k) % size()];  // C
  for (std::size_t k = 0; k < b; ++k) scratch_[c + k] = city_[(first + k) % size()];  // then B
  for (std::size_t k = 0; k < b + c; ++k) put((first + k) % size(), scratch_[k]);
}

void ArrayTour::assign(std::span<const int> cities) {
  for (std::size_t p = 0; p < size(); ++p) put(p, cities[p]);
}

std::vector<int> random_tour(std::size_t n, core::RandomStream& rng) {
  std::vector<int> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<int>(i);
  for (std::size_t i = n; i-- > 1;) std::swap(v[i], v[rng.below(i + 1)]);
  return v;
}

}  // namespace qtzflow::particles
