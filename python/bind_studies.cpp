// Optimizer runs and whole configured runs (scenario::run) with progress callbacks.
#include <cmath>
#include <csignal>

#include "bindings.hpp"
#include "core/parallel.hpp"
#include "io/tsplib.hpp"
#include "particles/optimizers.hpp"
#include "scenario/config.hpp"
#include "scenario/optimize.hpp"
#include "scenario/run.hpp"

namespace qtzflow::python {

namespace {

/// Optimizer options from keywords (the names of `qtzflow optimize`'s flags, without dashes);
/// a keyword the algorithm does not take is a ValueError listing the ones it does.
particles::OptimizerOptions optimizer_options(const std::string& algorithm, long budget, std::uint64_t seed, double tolerance, const py::kwargs& kw) {
  particles::OptimizerOptions o;
  o.budget = budget;
  o.seed = seed;
  o.tolerance = tolerance;
  particles::AlgorithmSettings st;
  std::vector<std::string> accepted;
  auto take = [&](const char* name, auto& field) {
    accepted.emplace_back(name);
    if (kw.contains(name)) field = kw[name].cast<std::decay_t<decltype(field)>>();
  };
  take("restarts", o.restarts);  // every algorithm (continuous problems)
  switch (particles::algorithm_from_string(algorithm)) {
    case particles::Algorithm::qtz:
    case particles::Algorithm::qtz_local:
    case particles::Algorithm::qtz_dither:
      accepted.emplace_back("h_schedule");
      if (kw.contains("h_schedule")) st.h_schedule = core::parse_name<particles::QpRule>(kw["h_schedule"].cast<std::string>(), "h_schedule");
      take("qp", st.qp);
      take("delta", st.delta);
      take("eta", st.eta);
      take("local", st.local);
      break;
    case particles::Algorithm::sa:
    case particles::Algorithm::qia:
      take("T0", st.sa_T0);
      take("cooling", st.sa_cooling);
      take("delta", st.delta);
      take("local", st.local);
      break;
    case particles::Algorithm::qtz_nl:
    case particles::Algorithm::qtz_dither_nl:
      accepted.emplace_back("h_schedule");
      if (kw.contains("h_schedule")) st.h_schedule = core::parse_name<particles::QpRule>(kw["h_schedule"].cast<std::string>(), "h_schedule");
      take("qp", st.qp);
      take("eta", st.eta);
      take("neighbours", st.neighbours);
      break;
    case particles::Algorithm::sa_nl:
    case particles::Algorithm::ils:
      take("neighbours", st.neighbours);
      break;
    case particles::Algorithm::langevin:
      accepted.emplace_back("T");
      if (kw.contains("T")) st.schedule = to_schedule(kw["T"]);
      take("dt", st.dt);
      break;
    case particles::Algorithm::pimc:
      take("replicas", st.replicas);
      take("T", st.pimc_T);
      take("gamma0", st.pimc_gamma0);
      break;
    case particles::Algorithm::pagmo_sa:
      break;
    case particles::Algorithm::cmaes:
    case particles::Algorithm::de1220:
    case particles::Algorithm::sade:
    case particles::Algorithm::xnes:
    case particles::Algorithm::pso:
      take("population", st.population);
      break;
  }
  for (const auto& [k, v] : kw) {
    const auto key = k.cast<std::string>();
    if (std::find(accepted.begin(), accepted.end(), key) == accepted.end()) {
      std::string list;
      for (const auto& a : accepted) list += (list.empty() ? "" : ", ") + a;
      core::throw_invalid(key, py::repr(v).cast<std::string>(), "absent: " + algorithm + " takes " + (list.empty() ? "no options" : list));
    }
  }
  // a keyword the algorithm takes but its other settings leave unused (qp without the fixed
  // h-schedule, delta without local proposals): refused as the CLI refuses the flag
  const auto a = particles::algorithm_from_string(algorithm);
  const std::pair<const char*, const char*> settings[] = {{"h_schedule", "h_schedule"}, {"qp", "qp"}, {"delta", "delta"}, {"eta", "eta"},
                                                          {"local", "local"}, {"T0", "sa_T0"}, {"cooling", "sa_cooling"}, {"dt", "dt"},
                                                          {"replicas", "replicas"}, {"gamma0", "pimc_gamma0"}, {"population", "population"},
                                                          {"neighbours", "neighbours"},
                                                          {"T", a == particles::Algorithm::pimc ? "pimc_T" : "schedule"}};
  for (const auto& [keyword, setting] : settings)
    if (kw.contains(keyword))
      if (const auto why = particles::unused_setting(a, st, setting); !why.empty())
        core::throw_invalid(keyword, py::repr(kw[keyword]).cast<std::string>(), "absent: " + why);
  o.algorithm = particles::algorithm_options(algorithm, st);
  return o;
}

particles::ContinuousProblem problem_of(const potentials::Objective& f, const py::object& lower, const py::object& upper) {
  if (lower.is_none() && upper.is_none()) return particles::ContinuousProblem(f);
  auto box = [&](const py::object& v, const std::vector<double>& def) {
    if (v.is_none()) return def;
    if (py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v)) return std::vector<double>(static_cast<std::size_t>(f.dim()), v.cast<double>());
    return v.cast<std::vector<double>>();
  };
  return particles::ContinuousProblem(f, box(lower, f.lower()), box(upper, f.upper()));
}

/// The start tour: given, or the nearest-neighbour tour from city 0 (the QTZ authors' start).
std::vector<int> start_of(const potentials::TspInstance& t, const py::object& start) {
  return start.is_none() ? t.nearest_neighbour_tour(0) : start.cast<std::vector<int>>();
}

/// The CLI's study warnings (scenario::study_warnings) as RuntimeWarnings.
void warn_study(const std::vector<particles::RunResult>& rs, const std::string& algorithm, long budget, bool tsp) {
  scenario::OptimizeReport rep;
  rep.algorithm = algorithm;
  rep.budget = budget;
  rep.runs = static_cast<long>(rs.size());
  rep.results = rs;
  rep.summary = scenario::summarise(rs);
  rep.tsp = tsp;
  for (const auto& w : scenario::study_warnings(rep)) warn_python(w);
}

/// An ensemble's results as arrays, one entry per run (best_x: runs × width, NaN-padded).
py::dict results_dict(const std::vector<particles::RunResult>& rs, std::size_t width, double reference) {
  const auto n = static_cast<py::ssize_t>(rs.size());
  const auto d = static_cast<py::ssize_t>(width);
  py::array_t<double> best(n), best_x({n, d});
  py::array_t<long> iterations(n), last(n), hit(n), final_h(n), restarts(n);
  py::array_t<bool> success(n);
  py::list stop;
  for (py::ssize_t r = 0; r < n; ++r) {
    const auto& x = rs[static_cast<std::size_t>(r)];
    best.mutable_at(r) = x.best;
    for (py::ssize_t a = 0; a < d; ++a)
      best_x.mutable_at(r, a) = a < static_cast<py::ssize_t>(x.best_x.size()) ? x.best_x[static_cast<std::size_t>(a)] : NAN;
    iterations.mutable_at(r) = x.iterations;
    last.mutable_at(r) = x.last_improvement;
    hit.mutable_at(r) = x.hit_iteration;
    final_h.mutable_at(r) = x.final_h;
    restarts.mutable_at(r) = x.restarts;
    success.mutable_at(r) = x.success;
    stop.append(std::string(particles::to_string(x.stop)));
  }
  return py::dict(py::arg("best") = best, py::arg("best_x") = best_x, py::arg("iterations") = iterations, py::arg("last_improvement") = last,
                  py::arg("hit_iteration") = hit, py::arg("final_h") = final_h, py::arg("success") = success, py::arg("stop") = stop,
                  py::arg("restarts") = restarts, py::arg("f_star") = reference);
}

py::dict result_dict(const particles::RunResult& r) {
  return py::dict(py::arg("best") = r.best, py::arg("best_x") = r.best_x, py::arg("iterations") = r.iterations,
                  py::arg("last_improvement") = r.last_improvement, py::arg("final_h") = r.final_h, py::arg("success") = r.success,
                  py::arg("hit_iteration") = r.hit_iteration, py::arg("stop") = std::string(particles::to_string(r.stop)),
                  py::arg("restarts") = r.restarts);
}

/// Calls a Python progress function after every snapshot (with the GIL).
class ProgressObserver final : public scenario::RunObserver {
 public:
  explicit ProgressObserver(py::object fn) : fn_(std::move(fn)) {}
  void on_warning(const std::string& m) override {
    py::gil_scoped_acquire gil;
    PyErr_WarnEx(PyExc_RuntimeWarning, m.c_str(), 1);
  }
  void on_snapshot(const scenario::RunProgress& p) override {
    if (fn_.is_none()) return;
    py::gil_scoped_acquire gil;
    const InPythonCallback in_callback;
    fn_(py::dict(py::arg("step") = p.step, py::arg("total_steps") = p.total_steps, py::arg("time") = p.time, py::arg("output") = p.output_path));
  }

 private:
  py::object fn_;
};

/// A value of a configuration dict: bool, int, float, str, or a list/tuple/NumPy array of them.
scenario::ConfigValue config_value(const py::handle& v, const std::string& key) {
  if (py::isinstance<py::bool_>(v)) return {v.cast<bool>()};
  if (py::isinstance<py::int_>(v)) {
    const int overflow = [&] {
      int o = 0;
      PyLong_AsLongLongAndOverflow(v.ptr(), &o);
      return o;
    }();
    if (overflow != 0) core::throw_invalid(key, py::str(v).cast<std::string>().substr(0, 40), "an integer within [-2^63, 2^63)");
    return {v.cast<long long>()};
  }
  if (py::isinstance<py::float_>(v)) return {v.cast<double>()};
  if (py::isinstance<py::str>(v)) return {v.cast<std::string>()};
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    std::vector<scenario::ConfigValue> a;
    for (const auto& e : v) a.push_back(config_value(e, key));
    return {std::move(a)};
  }
  if (py::hasattr(v, "tolist") && !py::isinstance<py::dict>(v)) return config_value(v.attr("tolist")(), key);  // NumPy arrays and scalars
  core::throw_invalid(key, py::repr(v).cast<std::string>().substr(0, 60) + " (" + py::type::of(v).attr("__name__").cast<std::string>() + ")",
                      "a number, string, boolean or list");
}

/// A configuration dict {section: {key: value}} as the reader's data (no TOML text in between).
scenario::ConfigData config_data(const py::dict& d) {
  scenario::ConfigData data;
  for (const auto& [section, keys] : d) {
    const auto name = py::str(section).cast<std::string>();
    if (!py::isinstance<py::dict>(keys))
      core::throw_invalid(name, py::repr(keys).cast<std::string>().substr(0, 60), "a table (dict) of keys, e.g. {\"T\": 0.5}");
    scenario::ConfigSection sec;
    for (const auto& [k, v] : keys.cast<py::dict>()) {
      const auto key = py::str(k).cast<std::string>();
      sec.emplace_back(key, config_value(v, name + "." + key));
    }
    data.emplace_back(name, std::move(sec));
  }
  return data;
}

/// The configuration a front end hands over: a dict, TOML text, or (path non-empty) a file read
/// as the CLI reads it -- its path is then an input no output may replace.
scenario::RunConfig parse_any(const py::object& config, const std::string& origin, const std::vector<std::string>& overrides, const std::string& path) {
  if (!path.empty()) return scenario::load_config(path, overrides);
  if (py::isinstance<py::dict>(config)) return scenario::parse_config(config_data(config.cast<py::dict>()), overrides, origin);
  return scenario::parse_config(config.cast<std::string>(), overrides, origin);
}

}  // namespace

/// The optimizers' keywords, in the docstrings of run_once and run_ensemble.
constexpr const char* kOptions = R"doc(
Options by algorithm (keywords; defaults are the authors'):
  qtz, qtz-dither, qtz-local:  h_schedule ("acceptances", "logarithmic", "fixed"), qp (fixed Q_p),
                               eta (Q_p = eta 2^h; 0 = the authors' choice), local, delta
  sa, qia:                     T0, cooling, local, delta
  langevin:                    T (number, Schedule or function of t), dt
  qtz-nl, qtz-dither-nl (TSP): h_schedule, qp, eta, neighbours (K nearest per candidate list, 10)
  sa-nl, ils (TSP):            neighbours
  pimc (TSP):                  replicas, T, gamma0
  pagmo-sa:                    none (when built with pagmo2)
  cmaes, de1220, sade, xnes, pso: population (0: the algorithm's default; with pagmo2)
  every algorithm (continuous):   restarts (start again when the algorithm stops before the budget)
Success: best <= f* + tolerance, with f* the objective's lowest known minimum (tolerance NaN: the
objective's, 1e-8 on the CEC suites and 1e-3 otherwise).)doc";

void bind_optimizers(py::module_& m) {
  m.def(
      "run_once",
      [](std::shared_ptr<potentials::Objective> f, const std::string& algorithm, std::uint64_t run, long budget, std::uint64_t seed, double tolerance,
         py::object lower, py::object upper, const py::kwargs& kw) {
        if (!f) core::throw_invalid("objective", "None", "a qtzflow.Objective");
        const auto o = optimizer_options(algorithm, budget, seed, tolerance, kw);
        particles::validate(o, false);
        const auto p = problem_of(*f, lower, upper);
        particles::RunResult r;
        released(*f, [&] { r = particles::run_once(p, o, run); });
        return result_dict(r);
      },
      py::arg("objective"), py::arg("algorithm") = "qtz", py::arg("run") = 0, py::arg("budget") = 10000, py::arg("seed") = 1,
      py::arg("tolerance") = NAN, py::arg("lower") = py::none(), py::arg("upper") = py::none(),
      (std::string("One optimizer run (run number `run` of the seed's streams) on the objective's box or [lower, upper].\n"
                   "Returns best, best_x, iterations, last_improvement, final_h, success, hit_iteration, stop.\n") +
       kOptions)
          .c_str());

  m.def(
      "run_ensemble",
      [](std::shared_ptr<potentials::Objective> f, const std::string& algorithm, long runs, long budget, std::uint64_t seed, double tolerance,
         py::object lower, py::object upper, const py::kwargs& kw) {
        if (!f) core::throw_invalid("objective", "None", "a qtzflow.Objective");
        const auto o = optimizer_options(algorithm, budget, seed, tolerance, kw);
        const auto p = problem_of(*f, lower, upper);
        std::vector<particles::RunResult> rs;
        released(*f, [&] { rs = particles::run_ensemble(p, o, runs); });
        warn_study(rs, algorithm, budget, false);
        return results_dict(rs, static_cast<std::size_t>(f->dim()), p.f_star);
      },
      py::arg("objective"), py::arg("algorithm") = "qtz", py::arg("runs") = 30, py::arg("budget") = 10000, py::arg("seed") = 1,
      py::arg("tolerance") = NAN, py::arg("lower") = py::none(), py::arg("upper") = py::none(),
      (std::string("runs independent optimizer runs (OpenMP threads; the same numbers for any thread count).\n"
                   "Returns a dict of arrays, one entry per run: best, best_x (runs x d), iterations, last_improvement,\n"
                   "hit_iteration, final_h, success, stop; and f_star.\n") +
       kOptions)
          .c_str());

  py::class_<potentials::TspInstance, std::shared_ptr<potentials::TspInstance>>(m, "TspInstance",
                                                                                R"doc(A travelling-salesman instance: n cities and their distances.

Made by qtzflow.tsp(path) (a TSPLIB file: EUC_2D, CEIL_2D, ATT, GEO, EXPLICIT) or
qtzflow.tsp_from_coordinates(x, y). Tours are permutations of 0 .. n-1; run_once and
run_ensemble accept an instance in place of an objective (qtz, qtz-dither, sa, qia, pimc, and
the neighbour-list algorithms qtz-nl, qtz-dither-nl, sa-nl, ils).
)doc")
      .def_property_readonly("name", &potentials::TspInstance::name, "the instance's name")
      .def_property_readonly("size", &potentials::TspInstance::size, "the number of cities n")
      .def_property_readonly(
          "metric", [](const potentials::TspInstance& t) { return std::string(potentials::to_string(t.metric())); }, "how distances were computed")
      .def_property(
          "optimum",
          [](const potentials::TspInstance& t) -> py::object { return t.optimum ? py::object(py::float_(*t.optimum)) : py::object(py::none()); },
          [](potentials::TspInstance& t, py::object v) {
            if (v.is_none()) {
              t.optimum.reset();
              return;
            }
            const double o = v.cast<double>();
            if (!(std::isfinite(o) && o > 0)) core::throw_invalid("optimum", core::format_value(o), "a finite tour length > 0");
            t.optimum = o;
          },
          "a known optimal tour length (the success threshold is optimum (1 + tolerance)), or None")
      .def("distance", &potentials::TspInstance::distance, py::arg("i"), py::arg("j"), "the distance between cities i and j")
      .def(
          "tour_length", [](const potentials::TspInstance& t, const std::vector<int>& tour) { return t.tour_length(tour); }, py::arg("tour"),
          "the closed length of a tour (ValueError unless it is a permutation of 0 .. n-1)")
      .def("nearest_neighbour_tour", &potentials::TspInstance::nearest_neighbour_tour, py::arg("start") = 0,
           "the greedy nearest-neighbour tour from a city (ties to the lower index)");
  m.def(
      "tsp",
      [](const std::string& path, bool unrounded) {
        auto t = std::make_shared<potentials::TspInstance>(io::read_tsplib(path, unrounded));
        const double opt = unrounded ? -1 : io::tsplib_known_optimum(t->name());  // the table's lengths are TSPLIB's rounded ones
        if (opt > 0) t->optimum = opt;
        return t;
      },
      py::arg("path"), py::arg("unrounded") = false,
      "reads a TSPLIB file (unrounded: EUC_2D distances not rounded, the QTZ authors' convention); the known optimum of "
      "the 15 instances in qtzflow's data/tsplib and of dantzig42, gr120, ulysses16 and ulysses22 is filled in (not for unrounded readings)");
  m.def(
      "tsp_from_coordinates",
      [](std::vector<double> x, std::vector<double> y, const std::string& name) {
        return std::make_shared<potentials::TspInstance>(
            potentials::TspInstance::from_coordinates(name, std::move(x), std::move(y), potentials::TspMetric::euclidean));
      },
      py::arg("x"), py::arg("y"), py::arg("name") = "cities", "an instance of Euclidean (unrounded) distances between the points (x[i], y[i])");
  m.def(
      "run_once",
      [](std::shared_ptr<potentials::TspInstance> t, const std::string& algorithm, std::uint64_t run, long budget, std::uint64_t seed,
         double tolerance, py::object start, const py::kwargs& kw) {
        if (!t) core::throw_invalid("problem", "None", "a qtzflow.TspInstance");
        const auto o = optimizer_options(algorithm, budget, seed, tolerance, kw);
        particles::validate(o, true);
        const auto tour = start_of(*t, start);
        t->tour_length(tour);
        particles::RunResult r;
        {
          py::gil_scoped_release nogil;
          r = particles::run_once(*t, o, run, tour);
        }
        return result_dict(r);
      },
      py::arg("problem"), py::arg("algorithm") = "qtz", py::arg("run") = 0, py::arg("budget") = 10000, py::arg("seed") = 1,
      py::arg("tolerance") = NAN, py::arg("start") = py::none(),
      "One optimizer run on a TSP instance from `start` (default: the nearest-neighbour tour from city 0); best_x is the best tour.");
  m.def(
      "run_ensemble",
      [](std::shared_ptr<potentials::TspInstance> t, const std::string& algorithm, long runs, long budget, std::uint64_t seed, double tolerance,
         py::object start, const py::kwargs& kw) {
        if (!t) core::throw_invalid("problem", "None", "a qtzflow.TspInstance");
        const auto o = optimizer_options(algorithm, budget, seed, tolerance, kw);
        const auto tour = start_of(*t, start);
        std::vector<particles::RunResult> rs;
        {
          py::gil_scoped_release nogil;
          rs = particles::run_ensemble(*t, o, runs, tour);
        }
        warn_study(rs, algorithm, budget, true);
        return results_dict(rs, t->size(), t->optimum ? *t->optimum : NAN);
      },
      py::arg("problem"), py::arg("algorithm") = "qtz", py::arg("runs") = 30, py::arg("budget") = 10000, py::arg("seed") = 1,
      py::arg("tolerance") = NAN, py::arg("start") = py::none(),
      "runs independent optimizer runs on a TSP instance (a dict of arrays; best_x: runs x n tours; f_star: the optimum or NaN)");
}

void bind_runs(py::module_& m) {
  m.def(
      "_run_config",
      [](const py::object& config, const std::string& origin, const std::vector<std::string>& overrides, const std::string& output,
         const std::string& restart, py::object progress, const std::string& path) {
        auto c = parse_any(config, origin, overrides, path);
        ProgressObserver obs(std::move(progress));
        scenario::RunOptions o;
        o.output = output;
        o.restart = restart;
        o.observers.push_back(&obs);
        // Ctrl-C is looked for between steps (with the GIL): the run then writes a snapshot at the
        // step it reached and returns status "stopped"; another exception a signal handler
        // raised stops it the same way and is raised once it has returned
        PyObject *type = nullptr, *value = nullptr, *trace = nullptr;
        o.stop_requested = [&]() -> int {
          py::gil_scoped_acquire gil;
          if (type != nullptr || PyErr_CheckSignals() == 0) return type != nullptr ? SIGINT : 0;
          if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
            PyErr_Clear();
            return SIGINT;
          }
          PyErr_Fetch(&type, &value, &trace);
          return SIGINT;
        };
        scenario::RunOutcome out;
        {
          py::gil_scoped_release nogil;
          out = scenario::run(c, o);
        }
        if (type != nullptr) {
          PyErr_Restore(type, value, trace);
          throw py::error_already_set();
        }
        const char* status = out.status == scenario::RunOutcome::Status::completed ? "completed"
                             : out.status == scenario::RunOutcome::Status::stopped ? "stopped"
                                                                                   : "failed";
        return py::dict(py::arg("status") = status, py::arg("signal") = out.stop_value, py::arg("error") = out.error, py::arg("step") = out.step,
                        py::arg("time") = out.time, py::arg("snapshots") = out.snapshots, py::arg("output") = out.output_path,
                        py::arg("xdmf") = out.xdmf_path);
      },
      py::arg("config"), py::arg("origin"), py::arg("overrides"), py::arg("output"), py::arg("restart"), py::arg("progress"), py::arg("path") = "");

  m.def(
      "_config_text",
      [](const py::object& config, const std::vector<std::string>& overrides, const std::string& origin, const std::string& path) {
        return parse_any(config, origin, overrides, path).text;
      },
      py::arg("config"), py::arg("overrides"), py::arg("origin"), py::arg("path") = "");
  m.def(
      "default_config", [] { return scenario::default_config_text(); }, "the built-in default scenario as TOML text");

  m.def("threads", &core::thread_count, "the OpenMP threads the engines use");
  // what python/qtzflow/__init__.py sets before loading this module (core/parallel.hpp), for its test
  m.attr("wait_policy") = py::make_tuple(core::kWaitPolicyVariable, core::kWaitPolicy);
  m.def("set_threads", &core::set_thread_count, py::arg("n"), "sets the OpenMP threads the engines use (FFT plans made afterwards follow)");
}

void bind_studies(py::module_& m) {
  bind_optimizers(m);
  bind_runs(m);
}

}  // namespace qtzflow::python
