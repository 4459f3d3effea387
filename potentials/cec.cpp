#include "potentials/cec.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <mutex>

#include "core/error.hpp"
#include "core/version.hpp"
#include "potentials/cec2014_functions.hpp"
#include "potentials/differences.hpp"

#if QTZFLOW_HAVE_PAGMO
#include <pagmo/problems/cec2013.hpp>
#include <pagmo/problems/cec2014.hpp>
#endif

namespace qtzflow::potentials {

namespace {

constexpr std::string_view kSuiteNames[] = {"cec2014", "cec2013"};

std::string join(const std::vector<int>& v) {
  std::string s;
  for (int x : v) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

#if QTZFLOW_HAVE_PAGMO

// pagmo 2.18's cec2013 keeps its shift data private and offers no accessor (cec2014 has
// get_origin_shift): the optimum o_i is read through a pointer to the member, formed in an
// explicit instantiation, where access is not checked ([temp.spec] of the standard).
struct Cec2013Shift {
  using type = std::vector<double> pagmo::cec2013::*;
  friend type member(Cec2013Shift);
};
template <class Tag, typename Tag::type M>
struct ExposeMember {
  friend typename Tag::type member(Tag) { return M; }
};
template struct ExposeMember<Cec2013Shift, &pagmo::cec2013::m_origin_shift>;
// likewise cec2014's rotation matrices and shuffles, which Cec2014Function evaluates with
struct Cec2014Rotation {
  using type = std::vector<double> pagmo::cec2014::*;
  friend type member(Cec2014Rotation);
};
template struct ExposeMember<Cec2014Rotation, &pagmo::cec2014::m_rotation_matrix>;
struct Cec2014Shuffle {
  using type = std::vector<int> pagmo::cec2014::*;
  friend type member(Cec2014Shuffle);
};
template struct ExposeMember<Cec2014Shuffle, &pagmo::cec2014::m_shuffle>;

/// f* of function i: 100·i (cec2014); −1400, −1300, …, −100, then 100, …, 1400 (cec2013).
double f_star(bool is2014, int i) { return is2014 ? 100.0 * i : (i <= 14 ? -1500.0 + 100.0 * i : -1400.0 + 100.0 * i); }

constexpr double kStep = 2.5e-3 * 200;  // the differences' step: 2.5e-3 of the box [-100, 100], as an expression's

/// The same step on every axis.
struct SameStep {
  double operator[](std::size_t) const { return kStep; }
};

class CecObjective final : public Objective {
 public:
  CecObjective(bool is2014, int function, int dim)
      : Objective(is2014 ? "cec2014" : "cec2013", dim, Params{{"function", {double(function)}}}),
        is2014_(is2014),
        function_(function),
        id_(next_id_++) {
    lower_.assign(static_cast<std::size_t>(dim), -100.0);
    upper_.assign(static_cast<std::size_t>(dim), 100.0);
    std::vector<double> o;
    if (is2014) {
      const pagmo::cec2014 p(static_cast<unsigned>(function), static_cast<unsigned>(dim));
      o.assign(p.get_origin_shift().begin(), p.get_origin_shift().begin() + dim);
      f14_ = std::make_shared<const Cec2014Function>(function, dim, p.get_origin_shift(), p.*member(Cec2014Rotation{}),
                                                     p.*member(Cec2014Shuffle{}));
    } else {
      const pagmo::cec2013 p(static_cast<unsigned>(function), static_cast<unsigned>(dim));
      const auto& shift = p.*member(Cec2013Shift{});
      o.assign(shift.begin(), shift.begin() + dim);
    }
    // the suite's optimum; a shift outside the box (it is not, in either suite) would be a bug
    minima_.push_back({o, f_star(is2014, function), true});
  }

  double value(std::span<const double> x) const override {
    auto& w = work();
    if (is2014_) return f14_->evaluate(x.data(), w.w14);
    w.x.assign(x.begin(), x.end());
    return evaluate(w);
  }

  void gradient(std::span<const double> x, std::span<double> g) const override {
    auto& w = work();
    differences::gradient(x, g, SameStep{}, [&](std::size_t a, double xa) { return shifted(w, x, a, xa); });
  }

  double success_tolerance() const override { return 1e-8; }  // the competitions' "error below 1e-8 counts as 0"

  double laplacian(std::span<const double> x) const override {
    auto& w = work();
    const double f0 = value(x);
    return differences::laplacian(x, f0, SameStep{}, [&](std::size_t a, double xa) { return shifted(w, x, a, xa); });
  }

 private:
  /// A thread's own work arrays (cec2014) or pagmo problem (cec2013: pagmo's fitness writes
  /// mutable work arrays), and point.
  struct Work {
    Cec2014Function::Work w14;
    std::unique_ptr<pagmo::cec2013> p13;
    std::vector<double> x;
  };
  Work& work() const {
    // keyed by a process-unique id, never by address: a new objective at a freed one's address
    // must not find the old problem
    thread_local std::map<std::uint64_t, Work> cache;
    thread_local std::uint64_t last_id = 0;  // the objective this thread asked for last (ids start at 1)
    thread_local Work* last = nullptr;       // std::map nodes never move: the pointer stays valid
    if (last_id == id_) return *last;
    auto& w = cache[id_];
    last_id = id_;
    last = &w;
    if (w.w14.z.empty() && !w.p13) {
      if (is2014_)
        w.w14 = f14_->make_work();
      else
        w.p13 = std::make_unique<pagmo::cec2013>(static_cast<unsigned>(function_), static_cast<unsigned>(dim_));
    }
    return w;
  }
  double evaluate(Work& w) const { return is2014_ ? f14_->evaluate(w.x.data(), w.w14) : w.p13->fitness(w.x)[0]; }
  /// f with coordinate a moved to xa.
  double shifted(Work& w, std::span<const double> x, std::size_t a, double xa) const {
    w.x.assign(x.begin(), x.end());
    w.x[a] = xa;
    return evaluate(w);
  }

  bool is2014_;
  int function_;
  std::shared_ptr<const Cec2014Function> f14_;  ///< cec2014: pagmo's data, evaluated by qtzflow (bit-identical, faster)
  std::uint64_t id_;
  static inline std::atomic<std::uint64_t> next_id_{1};
};

#endif

}  // namespace

const std::vector<CecSuite>& cec_suites() {
#if QTZFLOW_HAVE_PAGMO
  static const std::vector<CecSuite> suites{{"cec2014", 30, {2, 10, 20, 30, 50, 100}},
                                            {"cec2013", 28, {2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}}};
#else
  static const std::vector<CecSuite> suites;
#endif
  return suites;
}

bool is_cec_suite(std::string_view name) { return std::find(std::begin(kSuiteNames), std::end(kSuiteNames), name) != std::end(kSuiteNames); }

std::unique_ptr<Objective> make_cec_objective(std::string_view suite, int function, int dim) {
  const auto& suites = cec_suites();
  const auto it = std::find_if(suites.begin(), suites.end(), [&](const CecSuite& s) { return s.name == suite; });
  if (it == suites.end())
    core::throw_invalid("objective.name", "\"" + std::string(suite) + "\"",
                        is_cec_suite(suite) ? "an objective of this build (the CEC suites come with pagmo2; qtzflow was built without it)"
                                            : "\"cec2014\" or \"cec2013\"");
  if (function < 1 || function > it->functions)
    core::throw_invalid("objective.function", std::to_string(function), "a function of " + it->name + ": 1 to " + std::to_string(it->functions));
  if (std::find(it->dims.begin(), it->dims.end(), dim) == it->dims.end())
    core::throw_invalid("dimension", std::to_string(dim), "one of " + join(it->dims) + " (the dimensions " + it->name + "'s data define)");
  const bool is2014 = it->name == "cec2014";
  if (is2014 && dim < 10 && ((function >= 17 && function <= 22) || function >= 29))
    core::throw_invalid("dimension", std::to_string(dim),
                        "at least 10 for cec2014 function " + std::to_string(function) + " (a hybrid function splits D into 3 to 5 parts)");
#if QTZFLOW_HAVE_PAGMO
  return std::make_unique<CecObjective>(is2014, function, dim);
#else
  return nullptr;  // unreachable: cec_suites() is empty
#endif
}

}  // namespace qtzflow::potentials
