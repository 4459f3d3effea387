// The three engines: split-step Schrödinger, Fokker–Planck, particle ensembles.
#include <algorithm>
#include <limits>
#include <memory>

#include "bindings.hpp"
#include "particles/ensemble.hpp"
#include "potentials/sampling.hpp"
#include "scenario/advice.hpp"
#include "scenario/config.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/split_step.hpp"

namespace qtzflow::python {

namespace {

template <template <int> class S>
using ByDim = std::variant<std::unique_ptr<S<1>>, std::unique_ptr<S<2>>, std::unique_ptr<S<3>>>;

// Every engine class holds a lock (EngineLock): the methods run under it, one thread at a time.
/// The numerical advice of scenario/advice.hpp for an engine stepped by hand: checked when the
/// engine is made and again whenever T has fallen by 10 % since the last check (a check is one
/// pass over the grid, so an annealed run of many advance(1) calls pays it a few times, not per
/// step); each engine warns once.
struct Advisor {
  std::function<std::string(double t0, double t1)> advice;  ///< "" when all is well
  std::function<double(double)> T;
  double checked_T = 0;
  bool warned = false;
  void check(double t0, double t1) {
    if (warned || !advice) return;
    const double T1 = T(t1);
    if (checked_T > 0 && !(T1 < 0.9 * checked_T)) return;
    checked_T = T1;
    const auto m = advice(t0, t1);
    if (!m.empty()) warned = true, warn_python(m);
  }
};

struct PySplitStep {
  PyGrid grid;
  std::shared_ptr<potentials::Objective> objective;
  ByDim<solver::SplitStepSolver> s;
  bool real = true;
  potentials::PotentialKind potential = potentials::PotentialKind::witten;
  std::shared_ptr<EngineLock> lock = std::make_shared<EngineLock>();
  Advisor advisor{};
};

struct PyFokkerPlanck {
  PyGrid grid;
  std::shared_ptr<potentials::Objective> objective;
  ByDim<solver::FokkerPlanckSolver> s;
  std::shared_ptr<EngineLock> lock = std::make_shared<EngineLock>();
  Advisor advisor{};
};

/// The whole grid's rows: a Python engine runs on one process.
template <int D>
scenario::RowBlock all_rows(const grids::Grid<D>& g) {
  return {0, g.shape()[0], false};
}

/// What `positions` views point into while the walkers' storage is replaced: the storage they
/// were made of stays alive (holding the walkers as they were) as long as one of them lives.
struct RetiredPositions {
  std::vector<double> storage;
};

struct PyEnsemble {
  PyGrid grid;
  std::shared_ptr<potentials::Objective> objective;  // the ensemble holds a reference to it
  ByDim<particles::ParticleEnsemble> e;
  std::shared_ptr<EngineLock> lock = std::make_shared<EngineLock>();
  /// Shared with every live `positions` view (use_count() > 1 while one lives).
  std::shared_ptr<RetiredPositions> views = std::make_shared<RetiredPositions>();
  /// Before a call that may reallocate the walkers (another count): if views of the current
  /// storage live, hand them that storage and give the ensemble a copy, so that no view ever
  /// points into freed memory.
  template <class E>
  void detach_views(E& ensemble) {
    if (views.use_count() > 1) {
      views->storage = ensemble.detach_positions();
      views = std::make_shared<RetiredPositions>();
    }
  }
};

double points_of(const PyGrid& g) {
  double points = 1;
  for (auto n : g.shape()) points *= static_cast<double>(n);
  return points;
}

/// n steps of a grid engine (split-step or Fokker–Planck), Ctrl-C looked for every
/// core::steps_per_stop_check(grid points) steps.
template <class P>
void advance_grid_engine(P& p, long n) {
  core::require_at_least("n", n, 0);
  std::visit([&](auto& s) { p.advisor.check(s->time(), s->time() + static_cast<double>(n) * s->options().dt); }, p.s);
  const long per_check = core::steps_per_stop_check(points_of(p.grid));
  std::visit([&](auto& s) { advance_interruptibly(*p.objective, n, per_check, s->steps(), [&](long k) { s->advance(k); }); }, p.s);
}

/// Error-controlled steps of a grid engine to exactly time t, the GIL released meanwhile.
template <class P>
void advance_grid_engine_to(P& p, double t) {
  std::visit(
      [&](auto& s) {
        p.advisor.check(s->time(), t);
        released(*p.objective, [&] { s->advance_to(t); });
      },
      p.s);
}

/// f sampled on the grid; a Python exception raised by a function objective wins over the
/// non-finite values it left behind.
template <int D>
potentials::Landscape<D> landscape(const potentials::Objective& f, const grids::Grid<D>& g) {
  try {
    auto l = potentials::Landscape<D>(f, g);
    rethrow_callable(f);
    return l;
  } catch (const core::InvalidArgument&) {
    rethrow_callable(f);
    throw;
  }
}

/// The step controller's record (core::StepController::State) under the names the run's
/// diagnostics use where they coincide.
py::dict step_state_dict(const core::StepController::State& st) {
  return py::dict(py::arg("dt_next") = st.next, py::arg("error_ratio") = st.eps_prev, py::arg("accepted") = st.accepted,
                  py::arg("rejected") = st.rejected, py::arg("dt_last") = st.last_step, py::arg("error_last") = st.last_error);
}

template <int D>
py::dict eigenstate_dict(const solver::Eigenstate<D>& e, const std::vector<std::size_t>& shape) {
  return py::dict(py::arg("energy") = e.energy, py::arg("steps") = e.steps, py::arg("converged") = e.converged,
                  py::arg("phi") = copy_of(shape, e.phi.data()));
}

}  // namespace

// The keywords' defaults: the configuration structs' (one default per option).
const scenario::SchrodingerConfig kSchrodinger;
const scenario::FokkerPlanckConfig kFokkerPlanck;
const scenario::ParticlesConfig kParticles;
template <class E>
std::string word(E v) {
  return std::string(core::name_of(v));
}

void bind_split_step(py::module_& m) {
  py::class_<PySplitStep>(m, "SplitStepSolver", R"doc(Split-step Fourier solver of the Schrödinger equation on a periodic grid.

    real time       i dpsi/dt = H psi,   H = -T Laplacian + V          (units: hbar = 1, mass 1/(2T))
    imaginary time  dphi/dt = -H phi, renormalised every step (phi -> ground state)

with V the witten potential V_T = |grad f|^2/(4T) - lap f/2 (+ f Tdot/(2T^2) in imaginary
time under a schedule), whose ground state is e^(-f/2T) (rho = phi^2 is the Gibbs density), or
V = f (potential="objective"). T follows the schedule. FFTs are unnormalised FFTW transforms;
psi is stored so that sum |psi|^2 h^d = norm.

    SplitStepSolver(grid, objective, T, dt=1e-3, mode="real", scheme="strang",
                    potential="witten", absorber_width=0, absorber_strength=0, fft_planning="measure",
                    tolerance=0, dt_min=None, horizon=0)

The keywords are [schrodinger]'s keys, with its defaults (docs/config.md). T: a number, a
qtzflow.Schedule or a function of t. scheme: strang, yoshida4, chin4, emb43 (yoshida4 and emb43
real time only). Error control (tolerance > 0): advance_to(t) picks the steps (dt is the first
and largest one) so that the L2 error of the state relative to its norm stays near tolerance over
`horizon` (default: the span of the first advance_to); step_state gives the controller's record
(docs/theory.md, "Error-controlled time steps"). fft_planning: measure or patient (FFTW times candidate plans, kept in the
wisdom cache) or estimate (instant, slower steps). absorber_strength needs an absorber_width.
`state` is a writable view of psi (complex128, real time) or phi (float64, imaginary time); it
starts uniform (normalised in imaginary time): set it with `state = array` or set_state.
)doc")
      .def(py::init([](const PyGrid& g, std::shared_ptr<potentials::Objective> f, py::object T, double dt, const std::string& mode,
                       const std::string& scheme, const std::string& potential, double absorber_width, py::object absorber_strength,
                       const std::string& fft_planning, double tolerance, py::object dt_min, double horizon) {
             if (!f) core::throw_invalid("objective", "None", "a qtzflow.Objective");
             // the keywords are [schrodinger]'s keys: one struct, one check, one set of unused keys
             scenario::SchrodingerConfig c;
             c.mode = core::parse_name<solver::TimeMode>(mode, "mode");
             c.scheme = core::parse_name<solver::SplitScheme>(scheme, "scheme");
             scenario::require_engine_memory(scenario::EngineKind::schrodinger, points_of(g), g.dim(), 0, tolerance > 0, c.scheme);
             c.tolerance = tolerance;
             if (!dt_min.is_none()) {
               c.dt_min = dt_min.cast<double>();
               if (const auto why = c.unused_reason("dt_min"); !why.empty()) core::throw_invalid("dt_min", core::format_value(c.dt_min), "absent: " + why);
             }
             c.potential = core::parse_name<potentials::PotentialKind>(potential, "potential");
             c.fft_planning = core::parse_name<grids::PlanRigor>(fft_planning, "fft_planning");
             c.dt = c.t_end = dt;  // a stepping engine has no end time: t_end's checks pass with one step
             c.absorber_width = absorber_width;
             if (!absorber_strength.is_none()) {
               c.absorber_strength = absorber_strength.cast<double>();
               if (const auto why = c.unused_reason("absorber_strength"); !why.empty())
                 core::throw_invalid("absorber_strength", core::format_value(c.absorber_strength), "absent: " + why);
             }
             c.check();
             auto o = c.solver_options();
             core::require_non_negative("horizon", horizon);
             o.control.horizon = horizon;  // 0: the span of the first advance_to (no t_end here)
             const auto kind = c.potential;
             const auto schedule = to_schedule(T);
             auto out = std::make_unique<PySplitStep>(PySplitStep{g, f, {}, o.mode == solver::TimeMode::real, kind});
             with_dim(g.dim(), [&](auto D) {
               constexpr int d = decltype(D)::value;
               const auto land = landscape<d>(*f, g.as<d>());
               auto solver = std::make_unique<solver::SplitStepSolver<d>>(land, kind, schedule, o);
               solver->set_state(grids::Field<double, d>(g.as<d>().shape(), 1.0));  // uniform until the caller sets one
               out->s = std::move(solver);
               if (c.mode == solver::TimeMode::imaginary && kind == potentials::PotentialKind::witten) {
                 const auto minima = grids::find_basins(g.as<d>(), land.f()).minimum_value;
                 out->advisor = {[minima, schedule](double, double t1) { return scenario::imaginary_time_floor_advice(minima, schedule.T(t1), "T(t)"); },
                                 [schedule](double t) { return schedule.T(t); }};
               }
             });
             out->advisor.check(0, 0);  // T(0): the numerical advice at once
             return out;
           }),
           py::arg("grid"), py::arg("objective"), py::arg("T"), py::arg("dt") = kSchrodinger.dt, py::arg("mode") = word(kSchrodinger.mode),
           py::arg("scheme") = word(kSchrodinger.scheme), py::arg("potential") = word(kSchrodinger.potential),
           py::arg("absorber_width") = kSchrodinger.absorber_width, py::arg("absorber_strength") = py::none(),
           py::arg("fft_planning") = word(kSchrodinger.fft_planning), py::arg("tolerance") = kSchrodinger.tolerance,
           py::arg("dt_min") = py::none(), py::arg("horizon") = 0.0,
           "a solver on the grid for the objective at temperature T (number, Schedule or function of t); the state starts uniform")
      .def_property(
          "state",
          [](py::object self) -> py::array {
            auto& p = self.cast<PySplitStep&>();
            return std::visit(
                [&](auto& s) -> py::array {
                  if (p.real) return view(p.grid.shape(), s->psi().data(), self);
                  return view(p.grid.shape(), s->phi().data(), self);
                },
                p.s);
          },
          guarded([](PySplitStep& p, const py::object& a) {
            std::visit(
                [&](auto& s) {
                  constexpr int d = dim_of<std::decay_t<decltype(*s)>>::value;
                  if (p.real)
                    s->set_state(to_field<grids::complex, d>(a, p.grid.as<d>(), "state"), s->time());
                  else
                    s->set_state(to_field<double, d>(a, p.grid.as<d>(), "state"), s->time());
                },
                p.s);
          }),
          "the state: a writable view of psi (real time) or phi (imaginary time); assigning an array sets it (checked, normalised in imaginary time)")
      .def("set_state", guarded([](PySplitStep& p, const py::object& a, double t) {
             std::visit(
                 [&](auto& s) {
                   constexpr int d = dim_of<std::decay_t<decltype(*s)>>::value;
                   if (p.real)
                     s->set_state(to_field<grids::complex, d>(a, p.grid.as<d>(), "state"), t);
                   else
                     s->set_state(to_field<double, d>(a, p.grid.as<d>(), "state"), t);
                 },
                 p.s);
           }),
           py::arg("state"), py::arg("t") = 0.0, "sets the state and the time (checked; normalised in imaginary time)")
      .def("advance", guarded([](PySplitStep& p, long n) { advance_grid_engine(p, n); }), py::arg("n") = 1,
           "n steps of dt (the GIL is released meanwhile); refused under error control")
      .def("advance_to", guarded([](PySplitStep& p, double t) { advance_grid_engine_to(p, t); }),
           py::arg("t"), "error-controlled steps to exactly time t (tolerance > 0; the GIL is released meanwhile)")
      .def_property_readonly("step_state", guarded([](const PySplitStep& p) {
                               return std::visit([](const auto& s) { return step_state_dict(s->step_state()); }, p.s);
                             }),
                             "the step controller's record: next step, last step and its error, accepted / rejected steps")
      .def("relax", guarded([](PySplitStep& p, double tolerance, long max_steps, long check_every) {
             return std::visit(
                 [&](auto& s) -> py::dict {
                   constexpr int d = dim_of<std::decay_t<decltype(*s)>>::value;
                   solver::Eigenstate<d> e;
                   released(*p.objective, [&] { e = s->relax(tolerance, max_steps, check_every); });
                   return eigenstate_dict<d>(e, p.grid.shape());
                 },
                 p.s);
           }),
           py::arg("tolerance") = 1e-10, py::arg("max_steps") = 100000, py::arg("check_every") = 100,
           "imaginary time: relaxes the state to the ground state; returns energy, steps, converged and phi")
      .def("eigenstates", guarded([](PySplitStep& p, int count, py::object guess, double tolerance, long max_steps) {
             return std::visit(
                 [&](auto& s) -> py::list {
                   constexpr int d = dim_of<std::decay_t<decltype(*s)>>::value;
                   grids::Field<double, d> g0 =
                       guess.is_none() ? grids::Field<double, d>(p.grid.as<d>().shape(), 1.0) : to_field<double, d>(guess, p.grid.as<d>(), "guess");
                   std::vector<solver::Eigenstate<d>> es;
                   released(*p.objective, [&] { es = s->eigenstates(count, g0, tolerance, max_steps); });
                   py::list out;
                   for (const auto& e : es) out.append(eigenstate_dict<d>(e, p.grid.shape()));
                   return out;
                 },
                 p.s);
           }),
           py::arg("count"), py::arg("guess") = py::none(), py::arg("tolerance") = 1e-10, py::arg("max_steps") = 100000,
           "imaginary time: the count lowest eigenstates by relaxation and deflation (list of dicts)")
      .def("energy", guarded([](const PySplitStep& p) { return std::visit([](const auto& s) { return s->energy(); }, p.s); }), "<H> of the state")
      .def("norm", guarded([](const PySplitStep& p) { return std::visit([](const auto& s) { return s->norm(); }, p.s); }), "sum |psi|^2 h^d")
      .def_property_readonly("decay_energy",
                             guarded([](const PySplitStep& p) { return std::visit([](const auto& s) { return s->decay_energy(); }, p.s); }),
                             "imaginary time: the energy from the last step's norm decay")
      .def_property_readonly(
          "potential",
          [](py::object self) {
            auto& p = self.cast<PySplitStep&>();
            return std::visit([&](auto& s) { return view(p.grid.shape(), s->potential().data(), self); }, p.s);
          },
          "V at the current temperature (a read-only intent view)")
      .def_property_readonly("time", guarded([](const PySplitStep& p) { return std::visit([](const auto& s) { return s->time(); }, p.s); }),
                             "the solver's time t")
      .def_property_readonly("steps", guarded([](const PySplitStep& p) { return std::visit([](const auto& s) { return s->steps(); }, p.s); }),
                             "steps taken")
      .def_property_readonly("dt", guarded([](const PySplitStep& p) { return std::visit([](const auto& s) { return s->options().dt; }, p.s); }),
                             "the time step")
      .def_property_readonly("temperature",
                             guarded([](const PySplitStep& p) { return std::visit([](const auto& s) { return s->temperature(); }, p.s); }),
                             "T at the solver's time")
      .def_property_readonly("grid", guarded([](const PySplitStep& p) { return p.grid; }), "the solver's grid")
      .def_property_readonly("config", guarded([](const PySplitStep& p) {
                               return std::visit(
                                   [&](const auto& s) {
                                     const auto& o = s->options();
                                     py::dict d(py::arg("mode") = word(o.mode), py::arg("potential") = word(p.potential), py::arg("scheme") = word(o.scheme),
                                                py::arg("dt") = o.dt, py::arg("absorber_width") = o.absorber_width, py::arg("fft_planning") = word(o.rigor));
                                     scenario::SchrodingerConfig c;  // the keys these options use
                                     c.absorber_width = o.absorber_width;
                                     if (c.unused_reason("absorber_strength").empty()) d["absorber_strength"] = o.absorber_strength;
                                     if (o.control.adaptive()) {  // the keys the writer prints (scenario/config_writer.cpp)
                                       d["tolerance"] = o.control.tolerance;
                                       d["dt_min"] = o.control.dt_min;
                                     }
                                     return d;
                                   },
                                   p.s);
                             }),
                             "the engine's options as [schrodinger] keys (docs/config.md), read back from the solver");

}

/// rho starts at 0, which every step keeps at 0: a density never set is a mistake, not a run.
void require_density_set(const PyFokkerPlanck& p, const std::string& call) {
  if (std::visit([](const auto& s) { return s->mass(); }, p.s) == 0)
    core::throw_invalid("rho", "0 everywhere (never set)", "a density: assign fp.rho = array or call fp.set_state(rho) before " + call);
}

void bind_fokker_planck(py::module_& m) {
  py::class_<PyFokkerPlanck>(m, "FokkerPlanckSolver", R"doc(Structure-preserving finite-volume solver of the Fokker–Planck equation

    drho/dt = div( T grad rho + rho grad f ),   T = T(t)

(Scharfetter–Gummel fluxes from f at the points: the discrete Gibbs state e^(-f/T) is exactly
stationary, mass is conserved to rounding on periodic and reflecting grids, rho stays >= 0),
with dimension-split implicit steps.

    FokkerPlanckSolver(grid, objective, T, dt=1e-3, scheme="backward_euler",
                       tolerance=0, dt_min=None, horizon=0)

The keywords are [fokker_planck]'s keys, with its defaults. scheme: backward_euler,
crank_nicolson, extrapolated_euler. `rho` is a writable view.

Error control (tolerance > 0, scheme="extrapolated_euler"): advance_to(t) picks the steps
(dt is the first and largest one) so that the L1 error of rho relative to the probability
stays near tolerance over `horizon` (default: the span of the first advance_to);
step_state gives the controller's record (docs/theory.md, "Error-controlled time steps").
)doc")
      .def(py::init([](const PyGrid& g, std::shared_ptr<potentials::Objective> f, py::object T, double dt, const std::string& scheme,
                       double tolerance, py::object dt_min, double horizon) {
             if (!f) core::throw_invalid("objective", "None", "a qtzflow.Objective");
             scenario::require_engine_memory(scenario::EngineKind::fokker_planck, points_of(g), g.dim(), 0, tolerance > 0);
             scenario::FokkerPlanckConfig c;
             c.scheme = core::parse_name<solver::FpScheme>(scheme, "scheme");
             c.dt = c.t_end = dt;  // a stepping engine has no end time
             c.tolerance = tolerance;
             if (!dt_min.is_none()) {
               c.dt_min = dt_min.cast<double>();
               if (const auto why = c.unused_reason("dt_min"); !why.empty()) core::throw_invalid("dt_min", core::format_value(c.dt_min), "absent: " + why);
             }
             c.check();
             auto o = c.solver_options();
             core::require_non_negative("horizon", horizon);
             o.control.horizon = horizon;  // 0: the span of the first advance_to (no t_end here)
             const auto schedule = to_schedule(T);
             auto out = std::make_unique<PyFokkerPlanck>(PyFokkerPlanck{g, f, {}});
             with_dim(g.dim(), [&](auto D) {
               constexpr int d = decltype(D)::value;
               const auto land = landscape<d>(*f, g.as<d>());
               out->s = std::make_unique<solver::FokkerPlanckSolver<d>>(land, schedule, o);
               auto basins = std::make_shared<grids::Basins<d>>(grids::find_basins(g.as<d>(), land.f()));
               auto f_values = std::make_shared<grids::Field<double, d>>(land.f());
               const auto grid = g.as<d>();
               out->advisor = {[=](double t0, double t1) { return scenario::peclet_advice(grid, *f_values, *basins, all_rows(grid), schedule, t0, t1, 1); },
                               [schedule](double t) { return schedule.T(t); }};
             });
             out->advisor.check(0, 0);  // T(0): the numerical advice at once
             return out;
           }),
           py::arg("grid"), py::arg("objective"), py::arg("T"), py::arg("dt") = kFokkerPlanck.dt, py::arg("scheme") = word(kFokkerPlanck.scheme),
           py::arg("tolerance") = kFokkerPlanck.tolerance, py::arg("dt_min") = py::none(), py::arg("horizon") = 0.0,
           "a solver on the grid for the objective at temperature T (number, Schedule or function of t); rho starts at 0: set it")
      .def_property(
          "rho",
          [](py::object self) {
            auto& p = self.cast<PyFokkerPlanck&>();
            return std::visit([&](auto& s) { return view(p.grid.shape(), s->rho().data(), self); }, p.s);
          },
          guarded([](PyFokkerPlanck& p, const py::object& a) {
            std::visit(
                [&](auto& s) {
                  constexpr int d = dim_of<std::decay_t<decltype(*s)>>::value;
                  s->set_state(to_field<double, d>(a, p.grid.as<d>(), "rho"), s->time(), s->outflow());
                },
                p.s);
          }),
          "the density: a writable view; assigning an array sets it (checked: finite, >= 0)")
      .def("set_state", guarded([](PyFokkerPlanck& p, const py::object& a, double t) {
             std::visit(
                 [&](auto& s) {
                   constexpr int d = dim_of<std::decay_t<decltype(*s)>>::value;
                   s->set_state(to_field<double, d>(a, p.grid.as<d>(), "rho"), t);
                 },
                 p.s);
           }),
           py::arg("rho"), py::arg("t") = 0.0, "sets the density (checked: the grid's shape, finite, >= 0) and the time")
      .def("advance", guarded([](PyFokkerPlanck& p, long n) {
             require_density_set(p, "advance");
             advance_grid_engine(p, n);
           }),
           py::arg("n") = 1, "n steps of dt (the GIL is released meanwhile); refused while rho is 0 everywhere, and under error control")
      .def("advance_to", guarded([](PyFokkerPlanck& p, double t) {
             require_density_set(p, "advance_to");
             advance_grid_engine_to(p, t);
           }),
           py::arg("t"), "error-controlled steps to exactly time t (tolerance > 0; the GIL is released meanwhile)")
      .def_property_readonly("step_state", guarded([](const PyFokkerPlanck& p) {
                               return std::visit(
                                   [](const auto& s) {
                                     py::dict d = step_state_dict(s->step_state());
                                     d["limited"] = s->limited_steps();
                                     return d;
                                   },
                                   p.s);
                             }),
                             "the step controller's record: next step, last step and its error, accepted / rejected / positivity-limited steps")
      .def("mass", guarded([](const PyFokkerPlanck& p) { return std::visit([](const auto& s) { return s->mass(); }, p.s); }), "sum rho h^d")
      .def("free_energy", guarded([](const PyFokkerPlanck& p) { return std::visit([](const auto& s) { return s->free_energy(); }, p.s); }),
           "sum (f rho + T rho ln rho) h^d: non-increasing at constant T")
      .def("gibbs", guarded([](const PyFokkerPlanck& p, py::object T) {
             return std::visit(
                 [&](const auto& s) {
                   const double t = T.is_none() ? s->temperature() : T.cast<double>();
                   const auto g = s->gibbs(t);
                   return copy_of(p.grid.shape(), g.data());
                 },
                 p.s);
           }),
           py::arg("T") = py::none(), "the normalised discrete Gibbs density e^(-f/T)/Z at T (default: the current temperature)")
      .def("spectrum", guarded([](const PyFokkerPlanck& p, int count, const std::string& method) {
             const auto mth = method == "dense"    ? solver::SpectrumMethod::dense
                              : method == "sparse" ? solver::SpectrumMethod::sparse
                                                   : solver::SpectrumMethod::automatic;
             if (method != "dense" && method != "sparse" && method != "automatic")
               core::throw_invalid("method", "\"" + method + "\"", "one of \"automatic\", \"dense\", \"sparse\"");
             std::vector<double> out;
             std::visit(
                 [&](const auto& s) {
                   py::gil_scoped_release nogil;
                   out = s->spectrum(count, mth);
                 },
                 p.s);
             return out;
           }),
           py::arg("count"), py::arg("method") = "automatic",
           "the count lowest eigenvalues lambda_k >= 0 of the generator at the current temperature")
      .def_property_readonly("time", guarded([](const PyFokkerPlanck& p) { return std::visit([](const auto& s) { return s->time(); }, p.s); }),
                             "the solver's time t")
      .def_property_readonly("steps", guarded([](const PyFokkerPlanck& p) { return std::visit([](const auto& s) { return s->steps(); }, p.s); }),
                             "steps taken")
      .def_property_readonly("outflow", guarded([](const PyFokkerPlanck& p) { return std::visit([](const auto& s) { return s->outflow(); }, p.s); }),
                             "mass that left through absorbing walls since the start")
      .def_property_readonly("temperature",
                             guarded([](const PyFokkerPlanck& p) { return std::visit([](const auto& s) { return s->temperature(); }, p.s); }),
                             "T at the solver's time")
      .def_property_readonly("grid", guarded([](const PyFokkerPlanck& p) { return p.grid; }), "the solver's grid")
      .def_property_readonly("config", guarded([](const PyFokkerPlanck& p) {
                               return std::visit(
                                   [&](const auto& s) {
                                     const auto& o = s->options();
                                     py::dict d(py::arg("scheme") = word(o.scheme), py::arg("dt") = o.dt);
                                     if (o.control.adaptive()) {  // the keys the writer prints (scenario/config_writer.cpp)
                                       d["tolerance"] = o.control.tolerance;
                                       d["dt_min"] = o.control.dt_min;
                                     }
                                     return d;
                                   },
                                   p.s);
                             }),
                             "the engine's options as [fokker_planck] keys, read back from the solver");

}

void bind_particle_ensemble(py::module_& m) {
  py::class_<PyEnsemble>(m, "ParticleEnsemble", R"doc(M walkers whose histogram is the density.

    algorithm "langevin":   x <- x - grad f dt + sqrt(2 T dt) xi   (Euler–Maruyama)
    "qtz-dither":           the dithered quantized optimizer's moves; clock "fokker_planck"
                            (default) runs it in FP time (Q_p = 1/(4T), moves_per_dt moves of
                            2 sqrt(T dt/m)), clock "moves": one move of size delta at Q_p = C_q/(2T)
    "qtz-local":            the authors' plain quantizer with local moves (clock "moves")

Walls: the grid's boundary (periodic wraps, otherwise reflects). A seed fixes every path for
any thread count (counter-based Philox streams).

    ParticleEnsemble(grid, objective, T, algorithm="langevin", dt=1e-3, seed=1, delta=None,
                     C_q=None, clock=None, moves_per_dt=None)

The keywords are [particles]' keys, with its defaults (delta 0.1, the algorithm's natural clock,
moves_per_dt 4); one the chosen algorithm and clock do not use is a ValueError, as in TOML.
C_q (moves clock): default the paper schedule's own C_q when T is Schedule.paper, else 2; a
C_q contradicting a paper schedule is refused.
)doc")
      .def(py::init([](const PyGrid& g, std::shared_ptr<potentials::Objective> f, py::object T, const std::string& algorithm, double dt,
                       std::uint64_t seed, py::object delta, py::object C_q, py::object clock, py::object moves_per_dt) {
             if (!f) core::throw_invalid("objective", "None", "a qtzflow.Objective");
             scenario::require_engine_memory(scenario::EngineKind::particles, points_of(g), g.dim());
             // the keywords are [particles]' keys: one struct, one check, one set of unused keys
             scenario::ParticlesConfig c;
             c.algorithm = core::parse_name<particles::ParticleDynamics>(algorithm, "algorithm");
             c.dt = c.t_end = dt;  // a stepping engine has no end time
             c.seed = static_cast<long>(std::min<std::uint64_t>(seed, std::numeric_limits<long>::max()));
             c.clock = clock.is_none() ? scenario::ParticlesConfig::natural_clock(c.algorithm)
                                       : core::parse_name<particles::QtzClock>(clock.cast<std::string>(), "clock");
             std::vector<std::pair<const char*, std::string>> given;
             if (!delta.is_none()) c.delta = delta.cast<double>(), given.emplace_back("delta", core::format_value(c.delta));
             if (!moves_per_dt.is_none()) c.moves_per_dt = moves_per_dt.cast<long>(), given.emplace_back("moves_per_dt", std::to_string(c.moves_per_dt));
             c.check();
             for (const auto& [key, value] : given)
               if (const auto why = c.unused_reason(key); !why.empty()) core::throw_invalid(key, value, "absent: " + why);
             const auto schedule = to_schedule(T);
             // C_q: the schedule's own when it is the paper's law (one carrier of T and C_q), else the default
             double cq = scenario::ScheduleConfig{}.C_q;
             if (const auto own = schedule.paper_C_q()) cq = *own;
             if (!C_q.is_none()) {
               const double given_cq = C_q.cast<double>();
               if (!c.qtz_moves())
                 core::throw_invalid("C_q", core::format_value(given_cq), "absent: not used by " + std::string(core::name_of(c.algorithm)) + " on the " +
                                                                            std::string(core::name_of(c.clock)) + " clock (Q_p = C_q/(2T) is the moves clock's)");
               if (schedule.paper_C_q() && *schedule.paper_C_q() != given_cq)
                 core::throw_invalid("C_q", core::format_value(given_cq), "the schedule's own C_q = " + core::format_value(*schedule.paper_C_q()) + " (T is Schedule.paper), or absent");
               cq = given_cq;
             }
             core::require_positive("C_q", cq);
             auto o = c.ensemble_options(cq);
             o.seed = seed;
             auto out = std::make_unique<PyEnsemble>(PyEnsemble{g, f, {}});
             with_dim(g.dim(), [&](auto D) {
               constexpr int d = decltype(D)::value;
               (void)landscape<d>(*f, g.as<d>());  // f finite at every grid point, as a [particles] run requires
               out->e = std::make_unique<particles::ParticleEnsemble<d>>(*f, g.as<d>(), schedule, o);
             });
             return out;
           }),
           py::arg("grid"), py::arg("objective"), py::arg("T"), py::arg("algorithm") = word(kParticles.algorithm), py::arg("dt") = kParticles.dt,
           py::arg("seed") = kParticles.seed, py::arg("delta") = py::none(), py::arg("C_q") = py::none(), py::arg("clock") = py::none(),
           py::arg("moves_per_dt") = py::none(),
           "an empty ensemble on the grid for the objective at temperature T: add walkers with sample_initial or set_positions")
      .def("sample_initial", guarded([](PyEnsemble& p, std::size_t count, py::object center, py::object width) {
             std::visit(
                 [&](auto& e) {
                   if (count * static_cast<std::size_t>(p.grid.dim()) != e->positions().size()) p.detach_views(*e);
                   e->sample_initial(count, center.is_none() ? std::vector<double>{} : center.cast<std::vector<double>>(),
                                     width.is_none() ? std::vector<double>{} : width.cast<std::vector<double>>());
                 },
                 p.e);
           }),
           py::arg("count"), py::arg("center") = py::none(), py::arg("width") = py::none(),
           "count walkers from a Gaussian (center, width per axis), or uniform in the box when both are None")
      .def("set_positions", guarded([](PyEnsemble& p, const py::object& xs, double t) {
             auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(xs);
             if (!a || a.ndim() != 2 || a.shape(1) != p.grid.dim())
               core::throw_invalid("positions", "an array of another shape", "an (M, " + std::to_string(p.grid.dim()) + ") array");
             std::vector<double> v(a.data(), a.data() + a.size());
             std::visit(
                 [&](auto& e) {
                   if (v.size() != e->positions().size()) p.detach_views(*e);  // another count: earlier views keep the old walkers
                   e->set_positions(std::move(v), t, 0);
                 },
                 p.e);
           }),
           py::arg("positions"), py::arg("t") = 0.0, "replaces the walkers by an (M, d) array of positions inside the box, at time t")
      .def_property_readonly(
          "positions",
          [](py::object self) {
            auto& p = self.cast<PyEnsemble&>();
            return p.lock->run([&] {
              // the view keeps the ensemble and the token of its storage alive (PyEnsemble::views)
              struct Keep {
                py::object owner;
                std::shared_ptr<RetiredPositions> storage;
              };
              py::capsule keep(new Keep{self, p.views}, [](void* k) { delete static_cast<Keep*>(k); });
              return std::visit(
                  [&](auto& e) {
                    const std::vector<std::size_t> shape{e->size(), static_cast<std::size_t>(p.grid.dim())};
                    return view(shape, e->positions().data(), keep);
                  },
                  p.e);
            });
          },
          "an (M, d) writable view of the walkers' positions")
      .def("advance", guarded([](PyEnsemble& p, long n) {
             core::require_at_least("n", n, 0);
             std::visit(
                 [&](auto& e) {
                   const double moves = e->options().clock == particles::QtzClock::fokker_planck ? e->options().moves_per_step : 1;
                   const long per_check = core::steps_per_stop_check(static_cast<double>(e->size()) * moves);
                   advance_interruptibly(*p.objective, n, per_check, e->steps(), [&](long k) { e->advance(k); });
                 },
                 p.e);
           }),
           py::arg("n") = 1, "n steps of dt (the GIL is released meanwhile; a Python objective takes it per call)")
      .def("histogram", guarded([](const PyEnsemble& p, py::object count) {
             return std::visit(
                 [&](const auto& e) {
                   const auto h = count.is_none() ? e->histogram() : e->histogram(count.cast<std::size_t>());
                   return copy_of(p.grid.shape(), h.data());
                 },
                 p.e);
           }),
           py::arg("count") = py::none(), "the density of the first count walkers (all by default) on the grid: counts / (M h^d)")
      .def_property_readonly("acceptance_rate",
                             guarded([](const PyEnsemble& p) { return std::visit([](const auto& e) { return e->acceptance_rate(); }, p.e); }),
                             "qtz: accepted moves per proposal since the walkers were placed (0 for Langevin)")
      .def_property_readonly("time", guarded([](const PyEnsemble& p) { return std::visit([](const auto& e) { return e->time(); }, p.e); }),
                             "the ensemble's time t")
      .def_property_readonly("size", guarded([](const PyEnsemble& p) { return std::visit([](const auto& e) { return e->size(); }, p.e); }),
                             "the number of walkers M")
      .def_property_readonly("grid", guarded([](const PyEnsemble& p) { return p.grid; }), "the grid of the walls and the histogram")
      .def_property_readonly("config", guarded([](const PyEnsemble& p) {
                               return std::visit(
                                   [&](const auto& e) {
                                     const auto& o = e->options();
                                     scenario::ParticlesConfig c;  // the keys these options use
                                     c.algorithm = o.dynamics;
                                     c.clock = o.dynamics == particles::ParticleDynamics::langevin ? c.clock : o.clock;
                                     py::dict d(py::arg("algorithm") = word(o.dynamics), py::arg("seed") = o.seed, py::arg("dt") = o.dt);
                                     if (c.unused_reason("delta").empty()) d["delta"] = o.delta;
                                     if (o.dynamics == particles::ParticleDynamics::qtz_dither) d["clock"] = word(c.clock);
                                     if (c.unused_reason("moves_per_dt").empty()) d["moves_per_dt"] = o.moves_per_step;
                                     if (c.qtz_moves()) d["C_q"] = o.C_q;
                                     return d;
                                   },
                                   p.e);
                             }),
                             "the ensemble's options as [particles] keys (with C_q on the moves clock), read back from the ensemble");
}

void bind_engines(py::module_& m) {
  bind_split_step(m);
  bind_fokker_planck(m);
  bind_particle_ensemble(m);
}

}  // namespace qtzflow::python
