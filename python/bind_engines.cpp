// The three engines: split-step Schrödinger, Fokker–Planck, particle ensembles.
#include <memory>

#include "bindings.hpp"
#include "particles/ensemble.hpp"
#include "potentials/sampling.hpp"
#include "scenario/config.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/split_step.hpp"

namespace qtzflow::python {

namespace {

template <template <int> class S>
using ByDim = std::variant<std::unique_ptr<S<1>>, std::unique_ptr<S<2>>, std::unique_ptr<S<3>>>;

// Every engine class holds a lock (EngineLock): the methods run under it, one thread at a time.
struct PySplitStep {
  PyGrid grid;
  std::shared_ptr<potentials::Objective> objective;
  ByDim<solver::SplitStepSolver> s;
  bool real = true;
  std::shared_ptr<EngineLock> lock = std::make_shared<EngineLock>();
};

struct PyFokkerPlanck {
  PyGrid grid;
  std::shared_ptr<potentials::Objective> objective;
  ByDim<solver::FokkerPlanckSolver> s;
  std::shared_ptr<EngineLock> lock = std::make_shared<EngineLock>();
};

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
  const long per_check = core::steps_per_stop_check(points_of(p.grid));
  std::visit([&](auto& s) { advance_interruptibly(*p.objective, n, per_check, s->steps(), [&](long k) { s->advance(k); }); }, p.s);
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

template <int D>
py::dict eigenstate_dict(const solver::Eigenstate<D>& e, const std::vector<std::size_t>& shape) {
  return py::dict(py::arg("energy") = e.energy, py::arg("steps") = e.steps, py::arg("converged") = e.converged,
                  py::arg("phi") = copy_of(shape, e.phi.data()));
}

}  // namespace

void bind_engines(py::module_& m) {
  py::class_<PySplitStep>(m, "SplitStepSolver", R"doc(Split-step Fourier solver of the Schrödinger equation on a periodic grid.

    real time       i dpsi/dt = H psi,   H = -T Laplacian + V          (units: hbar = 1, mass 1/(2T))
    imaginary time  dphi/dt = -H phi, renormalised every step (phi -> ground state)

with V the witten potential V_T = |grad f|^2/(4T) - lap f/2 (+ f Tdot/(2T^2) in imaginary
time under a schedule), whose ground state is e^(-f/2T) (rho = phi^2 is the Gibbs density), or
V = f (potential="objective"). T follows the schedule. FFTs are unnormalised FFTW transforms;
psi is stored so that sum |psi|^2 h^d = norm.

    SplitStepSolver(grid, objective, T, dt=1e-3, mode="real", scheme="strang",
                    potential="witten", absorber_width=0, absorber_strength=0, planning="estimate")

T: a number, a qtzflow.Schedule or a function of t. scheme: strang, yoshida4, chin4 (real time
only for the 4th-order ones). planning: estimate (instant), measure or patient (FFTW timing).
`state` is a writable view of psi (complex128, real time) or phi (float64, imaginary time); it
starts uniform (normalised in imaginary time): set it with `state = array` or set_state.
)doc")
      .def(py::init([](const PyGrid& g, std::shared_ptr<potentials::Objective> f, py::object T, double dt, const std::string& mode,
                       const std::string& scheme, const std::string& potential, double absorber_width, double absorber_strength,
                       const std::string& planning) {
             if (!f) core::throw_invalid("objective", "None", "a qtzflow.Objective");
             scenario::require_engine_memory(scenario::EngineKind::schrodinger, points_of(g), g.dim());
             solver::SplitStepOptions o;
             o.mode = scenario::parse_time_mode(mode, "mode");
             o.scheme = scenario::parse_split_scheme(scheme, "scheme");
             o.dt = dt;
             o.absorber_width = absorber_width;
             o.absorber_strength = absorber_strength;
             o.rigor = scenario::parse_planning(planning, "planning");
             const auto kind = scenario::parse_potential(potential, "potential");
             const auto schedule = to_schedule(T);
             auto out = std::make_unique<PySplitStep>(PySplitStep{g, f, {}, o.mode == solver::TimeMode::real});
             with_dim(g.dim(), [&](auto D) {
               constexpr int d = decltype(D)::value;
               const auto land = landscape<d>(*f, g.as<d>());
               auto solver = std::make_unique<solver::SplitStepSolver<d>>(land, kind, schedule, o);
               solver->set_state(grids::Field<double, d>(g.as<d>().shape(), 1.0));  // uniform until the caller sets one
               out->s = std::move(solver);
             });
             return out;
           }),
           py::arg("grid"), py::arg("objective"), py::arg("T"), py::arg("dt") = 1e-3, py::arg("mode") = "real", py::arg("scheme") = "strang",
           py::arg("potential") = "witten", py::arg("absorber_width") = 0.0, py::arg("absorber_strength") = 0.0, py::arg("planning") = "estimate",
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
           "n steps of dt (the GIL is released meanwhile)")
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
      .def_property_readonly("grid", guarded([](const PySplitStep& p) { return p.grid; }), "the solver's grid");

  py::class_<PyFokkerPlanck>(m, "FokkerPlanckSolver", R"doc(Structure-preserving finite-volume solver of the Fokker–Planck equation

    drho/dt = div( T grad rho + rho grad f ),   T = T(t)

(Scharfetter–Gummel fluxes from f at the points: the discrete Gibbs state e^(-f/T) is exactly
stationary, mass is conserved to rounding on periodic and reflecting grids, rho stays >= 0),
with dimension-split implicit steps.

    FokkerPlanckSolver(grid, objective, T, dt=1e-3, scheme="backward_euler")

scheme: backward_euler, crank_nicolson, extrapolated_euler. `rho` is a writable view.
)doc")
      .def(py::init([](const PyGrid& g, std::shared_ptr<potentials::Objective> f, py::object T, double dt, const std::string& scheme) {
             if (!f) core::throw_invalid("objective", "None", "a qtzflow.Objective");
             scenario::require_engine_memory(scenario::EngineKind::fokker_planck, points_of(g), g.dim());
             solver::FokkerPlanckOptions o{dt, scenario::parse_fp_scheme(scheme, "scheme")};
             const auto schedule = to_schedule(T);
             auto out = std::make_unique<PyFokkerPlanck>(PyFokkerPlanck{g, f, {}});
             with_dim(g.dim(), [&](auto D) {
               constexpr int d = decltype(D)::value;
               const auto land = landscape<d>(*f, g.as<d>());
               out->s = std::make_unique<solver::FokkerPlanckSolver<d>>(land, schedule, o);
             });
             return out;
           }),
           py::arg("grid"), py::arg("objective"), py::arg("T"), py::arg("dt") = 1e-3, py::arg("scheme") = "backward_euler",
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
             // rho starts at 0, which every step keeps at 0: a density never set is a mistake, not a run
             if (std::visit([](const auto& s) { return s->mass(); }, p.s) == 0)
               core::throw_invalid("rho", "0 everywhere (never set)", "a density: assign fp.rho = array or call fp.set_state(rho) before advance");
             advance_grid_engine(p, n);
           }),
           py::arg("n") = 1, "n steps of dt (the GIL is released meanwhile); refused while rho is 0 everywhere")
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
      .def_property_readonly("grid", guarded([](const PyFokkerPlanck& p) { return p.grid; }), "the solver's grid");

  py::class_<PyEnsemble>(m, "ParticleEnsemble", R"doc(M walkers whose histogram is the density.

    algorithm "langevin":   x <- x - grad f dt + sqrt(2 T dt) xi   (Euler–Maruyama)
    "qtz-dither":           the dithered quantized optimizer's moves; clock "fokker_planck"
                            (default) runs it in FP time (Q_p = 1/(4T), moves_per_step moves of
                            2 sqrt(T dt/m)), clock "moves": one move of size delta at Q_p = C_q/(2T)
    "qtz-local":            the authors' plain quantizer with local moves (clock "moves")

Walls: the grid's boundary (periodic wraps, otherwise reflects). A seed fixes every path for
any thread count (counter-based Philox streams).

    ParticleEnsemble(grid, objective, T, algorithm="langevin", dt=1e-3, seed=1, delta=0.1,
                     C_q=2.0, clock="fokker_planck", moves_per_step=4)
)doc")
      .def(py::init([](const PyGrid& g, std::shared_ptr<potentials::Objective> f, py::object T, const std::string& algorithm, double dt,
                       std::uint64_t seed, double delta, double C_q, const std::string& clock, int moves_per_step) {
             if (!f) core::throw_invalid("objective", "None", "a qtzflow.Objective");
             scenario::require_engine_memory(scenario::EngineKind::particles, points_of(g), g.dim());
             particles::ParticleOptions o;
             o.dynamics = scenario::parse_dynamics(algorithm, "algorithm");
             o.dt = dt;
             o.seed = seed;
             o.delta = delta;
             o.C_q = C_q;
             o.clock = o.dynamics == particles::ParticleDynamics::qtz_dither ? scenario::parse_clock(clock, "clock") : particles::QtzClock::moves;
             o.moves_per_step = moves_per_step;
             const auto schedule = to_schedule(T);
             auto out = std::make_unique<PyEnsemble>(PyEnsemble{g, f, {}});
             with_dim(g.dim(), [&](auto D) {
               constexpr int d = decltype(D)::value;
               out->e = std::make_unique<particles::ParticleEnsemble<d>>(*f, g.as<d>(), schedule, o);
             });
             return out;
           }),
           py::arg("grid"), py::arg("objective"), py::arg("T"), py::arg("algorithm") = "langevin", py::arg("dt") = 1e-3, py::arg("seed") = 1,
           py::arg("delta") = 0.1, py::arg("C_q") = 2.0, py::arg("clock") = "fokker_planck", py::arg("moves_per_step") = 4,
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
      .def_property_readonly("grid", guarded([](const PyEnsemble& p) { return p.grid; }), "the grid of the walls and the histogram");
}

}  // namespace qtzflow::python
