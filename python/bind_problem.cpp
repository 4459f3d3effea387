// Grid, objectives (built-in, expression, sampled, Python function) and schedules.
#include <cmath>

#include "bindings.hpp"
#include "potentials/expression.hpp"
#include "potentials/sampled.hpp"
#include "potentials/sampling.hpp"
#include "potentials/schedule.hpp"
#include "scenario/config.hpp"

namespace qtzflow::python {

// ---- CallableObjective ------------------------------------------------------------------------
CallableObjective::CallableObjective(py::function f, py::object gradient, int dim, std::vector<double> lower, std::vector<double> upper,
                                     const std::vector<std::vector<double>>& minima)
    : Objective("function", dim, {}), f_(std::move(f)), grad_(std::move(gradient)) {
  const auto d = static_cast<std::size_t>(dim);
  if (lower.size() != d || upper.size() != d)
    core::throw_invalid("lower", std::to_string(lower.size()) + " / " + std::to_string(upper.size()) + " bounds",
                        "one per axis, " + std::to_string(d));
  for (std::size_t a = 0; a < d; ++a) {
    if (!(std::isfinite(lower[a]) && std::isfinite(upper[a]) && lower[a] < upper[a]))
      core::throw_invalid("upper", "[" + core::format_value(lower[a]) + ", " + core::format_value(upper[a]) + "] on axis " + std::to_string(a),
                          "finite bounds with lower < upper");
    step_.push_back(1e-3 * (upper[a] - lower[a]));
  }
  lower_ = std::move(lower);
  upper_ = std::move(upper);
  set_known_minima(minima);
  rethrow_pending();
}

CallableObjective::~CallableObjective() {
  // the Python objects may be released from a thread without the GIL (a solver freed in C++)
  py::gil_scoped_acquire gil;
  f_ = py::function();
  grad_ = py::object();
}

double CallableObjective::value(std::span<const double> x) const {
  {
    std::lock_guard<std::mutex> lock(m_);
    if (failed_) return NAN;
  }
  py::gil_scoped_acquire gil;
  const InPythonCallback in_callback;
  try {
    py::array_t<double> arr(static_cast<py::ssize_t>(x.size()));
    std::copy(x.begin(), x.end(), arr.mutable_data());
    return f_(arr).cast<double>();
  } catch (...) {
    std::lock_guard<std::mutex> lock(m_);
    if (!failed_) error_ = std::current_exception();
    failed_ = true;
    return NAN;
  }
}

void CallableObjective::gradient(std::span<const double> x, std::span<double> g) const {
  if (!grad_.is_none()) {
    {
      std::lock_guard<std::mutex> lock(m_);
      if (failed_) {
        std::fill(g.begin(), g.end(), NAN);
        return;
      }
    }
    py::gil_scoped_acquire gil;
    const InPythonCallback in_callback;
    try {
      py::array_t<double> arr(static_cast<py::ssize_t>(x.size()));
      std::copy(x.begin(), x.end(), arr.mutable_data());
      const auto out = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(grad_(arr));
      if (!out || static_cast<std::size_t>(out.size()) != g.size())
        core::throw_invalid("gradient", "a result of another length", std::to_string(g.size()) + " numbers (one per axis)");
      std::copy(out.data(), out.data() + g.size(), g.begin());
      return;
    } catch (...) {
      std::lock_guard<std::mutex> lock(m_);
      if (!failed_) error_ = std::current_exception();
      failed_ = true;
      std::fill(g.begin(), g.end(), NAN);
      return;
    }
  }
  // 4th-order central differences: (f(x−2h) − 8f(x−h) + 8f(x+h) − f(x+2h)) / 12h
  std::vector<double> y(x.begin(), x.end());
  for (std::size_t a = 0; a < x.size(); ++a) {
    const double h = step_[a];
    double acc = 0;
    const double w[4] = {1, -8, 8, -1}, off[4] = {-2, -1, 1, 2};
    for (int k = 0; k < 4; ++k) {
      y[a] = x[a] + off[k] * h;
      acc += w[k] * value(y);
    }
    y[a] = x[a];
    g[a] = acc / (12 * h);
  }
}

double CallableObjective::laplacian(std::span<const double> x) const {
  std::vector<double> y(x.begin(), x.end());
  const double f0 = value(x);
  double lap = 0;
  for (std::size_t a = 0; a < x.size(); ++a) {
    const double h = step_[a];
    const double w[4] = {-1, 16, 16, -1}, off[4] = {-2, -1, 1, 2};
    double acc = -30 * f0;
    for (int k = 0; k < 4; ++k) {
      y[a] = x[a] + off[k] * h;
      acc += w[k] * value(y);
    }
    y[a] = x[a];
    lap += acc / (12 * h * h);
  }
  return lap;
}

void CallableObjective::rethrow_pending() const {
  std::exception_ptr e;
  {
    std::lock_guard<std::mutex> lock(m_);
    e = error_;
    error_ = nullptr;
    failed_ = false;
  }
  if (e) std::rethrow_exception(e);
}

namespace {

/// A box per axis from a number (every axis) or a sequence.
std::vector<double> per_axis(const py::object& v, int dim, const std::string& name) {
  if (py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v)) return std::vector<double>(static_cast<std::size_t>(dim), v.cast<double>());
  auto out = v.cast<std::vector<double>>();
  if (out.size() == 1 && dim > 1) out.assign(static_cast<std::size_t>(dim), out[0]);
  if (static_cast<int>(out.size()) != dim)
    core::throw_invalid(name, std::to_string(out.size()) + " values", "1 or " + std::to_string(dim) + " (one per axis)");
  return out;
}

potentials::Params params_of(const py::kwargs& kw) {
  potentials::Params p;
  for (const auto& [k, v] : kw) {
    const std::string key = k.cast<std::string>();
    if (py::isinstance<py::float_>(v) || py::isinstance<py::int_>(v))
      p[key] = {v.cast<double>()};
    else
      p[key] = v.cast<std::vector<double>>();
  }
  return p;
}

std::vector<std::vector<double>> minima_of(const py::object& m) {
  if (m.is_none()) return {};
  return m.cast<std::vector<std::vector<double>>>();
}

/// A Python function shared by the copies of a schedule; the last copy lets it go with the GIL
/// taken, wherever that copy dies.
std::shared_ptr<py::function> held(const py::function& fn) {
  return std::shared_ptr<py::function>(new py::function(fn), [](py::function* f) {
    py::gil_scoped_acquire gil;
    delete f;
  });
}

/// A point of the objective's dimension, or ValueError naming x.
void require_point(const potentials::Objective& f, const std::vector<double>& x) {
  if (static_cast<int>(x.size()) != f.dim()) core::throw_invalid("x", std::to_string(x.size()) + " coordinates", std::to_string(f.dim()));
}

double value_at(const potentials::Objective& f, const std::vector<double>& x) {
  require_point(f, x);
  const double v = f.value(x);
  rethrow_callable(f);
  return v;
}

/// fn at a number (a float back) or at every element of an array (an array of its shape back).
template <class F>
py::object at_times(const py::object& t, F&& fn) {
  if (py::isinstance<py::float_>(t) || py::isinstance<py::int_>(t)) return py::float_(fn(t.cast<double>()));
  auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(t);
  if (!a) core::throw_invalid("t", py::repr(t).cast<std::string>(), "a number or an array of numbers");
  py::array_t<double> out(std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
  for (py::ssize_t i = 0; i < a.size(); ++i) out.mutable_data()[i] = fn(a.data()[i]);
  return out;
}

}  // namespace

potentials::Schedule to_schedule(const py::object& T) {
  if (py::isinstance<potentials::Schedule>(T)) return T.cast<potentials::Schedule>();
  if (py::isinstance<py::float_>(T) || py::isinstance<py::int_>(T)) return potentials::Schedule::constant(T.cast<double>());
  if (PyCallable_Check(T.ptr())) {
    py::function fn = T.cast<py::function>();
    auto holder = held(fn);
    std::function<double(double)> call = [holder](double t) {
      py::gil_scoped_acquire gil;
      const InPythonCallback in_callback;
      return (*holder)(t).cast<double>();
    };
    return potentials::Schedule::function(call, {}, "T(t) = " + py::repr(fn).cast<std::string>());
  }
  core::throw_invalid("T", py::repr(T).cast<std::string>(), "a temperature (number > 0), a qtzflow.Schedule or a function of t");
}

void bind_grid(py::module_& m) {
  py::class_<PyGrid>(m, "Grid", R"doc(A uniform, cell-centred grid on the box prod [lower_a, upper_a], 1 to 3 axes.

Points sit at the cell centres x_i = lower + (i + 1/2) h, h = (upper - lower)/n. Arrays on the
grid are C order: axis 0 slowest (a[i, j] is the value at (x_i, y_j)), as every qtzflow field.
The boundary ("periodic", "reflecting", "absorbing") is the one the engines use; the split-step
engine needs "periodic".

    Grid(n, lower, upper, boundary="periodic")   n: int or one per axis; lower/upper: number or one per axis
)doc")
      .def(py::init([](py::object n, py::object lower, py::object upper, const std::string& boundary) {
             std::vector<std::size_t> ns;
             if (py::isinstance<py::int_>(n))
               ns = {n.cast<std::size_t>()};
             else
               ns = n.cast<std::vector<std::size_t>>();
             int dim = static_cast<int>(ns.size());
             if (dim == 1 && !(py::isinstance<py::float_>(lower) || py::isinstance<py::int_>(lower))) dim = static_cast<int>(py::len(lower));
             if (ns.size() == 1 && dim > 1) ns.assign(static_cast<std::size_t>(dim), ns[0]);
             const auto lo = per_axis(lower, dim, "lower"), hi = per_axis(upper, dim, "upper");
             const auto b = core::parse_name<grids::Boundary>(boundary, "boundary");
             return with_dim(dim, [&](auto D) -> PyGrid {
               constexpr int d = decltype(D)::value;
               typename grids::Grid<d>::Shape sh;
               typename grids::Grid<d>::Point l, u;
               for (int a = 0; a < d; ++a) {
                 sh[a] = ns[static_cast<std::size_t>(a)];
                 l[a] = lo[static_cast<std::size_t>(a)];
                 u[a] = hi[static_cast<std::size_t>(a)];
               }
               return PyGrid{grids::Grid<d>(sh, l, u, b)};
             });
           }),
           py::arg("n"), py::arg("lower"), py::arg("upper"), py::arg("boundary") = "periodic",
           "n points per axis (an int: every axis) on the box [lower, upper] (numbers or one per axis)")
      .def_property_readonly("dim", &PyGrid::dim, "number of axes")
      .def_property_readonly(
          "shape", [](const PyGrid& g) { return py::tuple(py::cast(g.shape())); }, "points per axis, axis 0 first")
      .def_property_readonly(
          "lower",
          [](const PyGrid& g) { return std::visit([](const auto& gr) { return std::vector<double>(gr.lower().begin(), gr.lower().end()); }, g.g); },
          "the box's lower corner, per axis")
      .def_property_readonly(
          "upper",
          [](const PyGrid& g) { return std::visit([](const auto& gr) { return std::vector<double>(gr.upper().begin(), gr.upper().end()); }, g.g); },
          "the box's upper corner, per axis")
      .def_property_readonly(
          "spacing",
          [](const PyGrid& g) {
            return std::visit(
                [](const auto& gr) {
                  std::vector<double> h;
                  for (int a = 0; a < gr.dim; ++a) h.push_back(gr.spacing(a));
                  return h;
                },
                g.g);
          },
          "h per axis")
      .def_property_readonly(
          "boundary", [](const PyGrid& g) { return std::string(std::visit([](const auto& gr) { return grids::to_string(gr.boundary()); }, g.g)); },
          "periodic, reflecting or absorbing")
      .def_property_readonly(
          "size", [](const PyGrid& g) { return std::visit([](const auto& gr) { return gr.size(); }, g.g); }, "total number of points")
      .def_property_readonly(
          "cell_volume", [](const PyGrid& g) { return std::visit([](const auto& gr) { return gr.cell_volume(); }, g.g); },
          "h^d: integrals are sums times cell_volume")
      .def(
          "coordinates",
          [](const PyGrid& g, int axis) {
            if (axis < 0 || axis >= g.dim()) core::throw_invalid("axis", std::to_string(axis), "0 .. " + std::to_string(g.dim() - 1));
            return py::array(py::cast(std::visit([&](const auto& gr) { return gr.coordinates(axis); }, g.g)));
          },
          py::arg("axis"), "coordinates of the points along an axis (cell centres)")
      .def("__repr__", [](const PyGrid& g) {
        return std::visit(
            [](const auto& gr) {
              std::string n, box;
              for (int a = 0; a < gr.dim; ++a) {
                n += (a ? ", " : "") + std::to_string(gr.n(a));
                box += std::string(a ? " x " : "") + "[" + core::format_value(gr.lower()[a]) + ", " + core::format_value(gr.upper()[a]) + "]";
              }
              return "Grid(n = [" + n + "], box " + box + ", " + grids::to_string(gr.boundary()) + ")";
            },
            g.g);
      });
}

void bind_objectives(py::module_& m) {
  py::class_<potentials::Objective, std::shared_ptr<potentials::Objective>>(m, "Objective",
                                                                            R"doc(An objective f : box in R^d -> R with its gradient and Laplacian.

Made by qtzflow.objective (a built-in by name), qtzflow.expression (a formula),
qtzflow.sampled (values on a grid) or qtzflow.function (a Python function). Points are
sequences or arrays of d numbers; f(x) is the same as f.value(x).
)doc")
      .def_property_readonly("name", &potentials::Objective::name, "the objective's name (a built-in's, expression, sampled or function)")
      .def_property_readonly("dim", &potentials::Objective::dim, "the number of variables d")
      .def_property_readonly("lower", &potentials::Objective::lower, "default search domain, per axis")
      .def_property_readonly("upper", &potentials::Objective::upper, "default search domain, per axis")
      .def_property_readonly("params", &potentials::Objective::params, "the parameters in use (defaults filled in)")
      .def_property_readonly(
          "minima",
          [](const potentials::Objective& f) {
            py::list out;
            for (const auto& mn : f.minima()) out.append(py::dict(py::arg("x") = mn.x, py::arg("f") = mn.f, py::arg("global") = mn.global));
            return out;
          },
          "known minima, global ones first: dicts with x, f, global")
      .def("value", &value_at, py::arg("x"), "f(x) at a point of d coordinates")
      .def("__call__", &value_at, py::arg("x"), "f(x) at a point of d coordinates")
      .def(
          "gradient",
          [](const potentials::Objective& f, const std::vector<double>& x) {
            require_point(f, x);
            std::vector<double> g(x.size());
            f.gradient(x, g);
            rethrow_callable(f);
            return py::array(py::cast(g));
          },
          py::arg("x"), "grad f(x), an array of d numbers")
      .def(
          "laplacian",
          [](const potentials::Objective& f, const std::vector<double>& x) {
            require_point(f, x);
            const double v = f.laplacian(x);
            rethrow_callable(f);
            return v;
          },
          py::arg("x"), "the Laplacian of f at x")
      .def(
          "sample",
          [](const potentials::Objective& f, const PyGrid& g) {
            return with_dim(g.dim(), [&](auto D) {
              constexpr int d = decltype(D)::value;
              const auto field = potentials::sample_objective(f, g.as<d>());
              rethrow_callable(f);
              return copy_of(g.shape(), field.data());
            });
          },
          py::arg("grid"), "f at the grid's points, as an array of the grid's shape")
      .def("__repr__", [](const potentials::Objective& f) { return "Objective(" + f.name() + ", dim = " + std::to_string(f.dim()) + ")"; });

  m.def(
      "objective",
      [](const std::string& name, int dim, const py::kwargs& kw) -> std::shared_ptr<potentials::Objective> {
        return potentials::make_objective(name, dim, params_of(kw));
      },
      py::arg("name"), py::arg("dim") = 1, R"doc(A built-in objective by name, with its parameters as keywords.

    qtzflow.objective("double_well", 2, c=0.3)

qtzflow.catalog() lists the names, formulas, parameters and dimensions (docs/objectives.md).
The CEC suites (with pagmo2; docs/benchmarks.md): qtzflow.objective("cec2014:5", 10), or
qtzflow.objective("cec2014", 10, function=5); box [-100, 100]^dim, minima[0] = (o_i, f*_i).
)doc");

  m.def(
      "expression",
      [](const std::string& f, int dim, py::object domain, py::object minima, const py::kwargs& kw) -> std::shared_ptr<potentials::Objective> {
        potentials::ExpressionSpec s;
        s.formula = f;
        s.params = params_of(kw);
        s.key = "f";
        // One rule for every front end: the domain is the grid's box in a run, and must be given
        // where no grid is known (here, as `qtzflow optimize --expression` needs --lower/--upper);
        // it sets the derivative steps, so a silent [-1, 1] could misjudge f on a larger box.
        if (domain.is_none()) {
          core::throw_invalid("domain", "missing", "[lower, upper] for every axis or one pair per axis: the box where f is defined and searched");
        } else {
          std::vector<std::vector<double>> pairs;
          const auto seq = domain.cast<py::sequence>();
          if (py::len(seq) > 0 && (py::isinstance<py::float_>(seq[0]) || py::isinstance<py::int_>(seq[0])))
            pairs.assign(static_cast<std::size_t>(dim), domain.cast<std::vector<double>>());  // [lower, upper] for every axis
          else
            pairs = domain.cast<std::vector<std::vector<double>>>();
          if (pairs.size() == 1) pairs.assign(static_cast<std::size_t>(dim), pairs[0]);
          for (const auto& p : pairs) {
            if (p.size() != 2) core::throw_invalid("domain", std::to_string(p.size()) + " numbers in a pair", "[lower, upper] per axis");
            s.lower.push_back(p[0]);
            s.upper.push_back(p[1]);
          }
        }
        s.minima = minima_of(minima);
        return potentials::make_expression_objective(s, dim);
      },
      py::arg("f"), py::arg("dim") = 1, py::arg("domain") = py::none(), py::arg("minima") = py::none(),
      R"doc(Your objective as a formula (muparser syntax, docs/objectives.md), named constants as keywords.

    qtzflow.expression("(x^2-1)^2 + c*x + (y^2-1)^2", dim=2, domain=[[-2, 2], [-2, 2]], c=0.3)

Variables x, y, z (d <= 3) or x0, x1, ...; domain: [lower, upper] for every axis or one pair per
axis (required: the derivative steps scale with it; in a configuration, the grid's box is the
default); minima: known minima.
Derivatives: order-8 differences (relative error <= 1e-8 on smooth f).
)doc");

  m.def(
      "sampled",
      [](const PyGrid& g, const py::object& values, py::object minima) -> std::shared_ptr<potentials::Objective> {
        return with_dim(g.dim(), [&](auto D) -> std::shared_ptr<potentials::Objective> {
          constexpr int d = decltype(D)::value;
          const auto field = to_field<double, d>(values, g.as<d>(), "values");
          potentials::SampledSpec s;
          s.values.assign(field.begin(), field.end());
          s.minima = minima_of(minima);
          s.key = "values";
          return potentials::make_sampled_objective(g.as<d>(), s);
        });
      },
      py::arg("grid"), py::arg("values"), py::arg("minima") = py::none(),
      R"doc(An objective known by its values at the grid's points (an array of the grid's shape).

Derivatives: spectral on a periodic grid, 4th-order differences otherwise; cubic interpolation
between points (docs/objectives.md, "samples on a grid").
)doc");

  m.def(
      "function",
      [](py::function f, py::object lower, py::object upper, py::object gradient, py::object minima) -> std::shared_ptr<potentials::Objective> {
        const int dim = (py::isinstance<py::float_>(lower) || py::isinstance<py::int_>(lower)) ? 1 : static_cast<int>(py::len(lower));
        return std::make_shared<CallableObjective>(f, gradient, dim, per_axis(lower, dim, "lower"), per_axis(upper, dim, "upper"), minima_of(minima));
      },
      py::arg("f"), py::arg("lower"), py::arg("upper"), py::arg("gradient") = py::none(), py::arg("minima") = py::none(),
      R"doc(Your objective as a Python function f(x) -> float of a NumPy array x (length d = len(lower)).

    qtzflow.function(lambda x: (x[0]**2 - 1)**2 + 0.3*x[0], lower=[-2], upper=[2])

f is called once per evaluation, with the GIL taken (engines running threads take turns).
gradient: an optional function x -> d numbers; without it grad f and the Laplacian are 4th-order
differences of f (step 1e-3 x the box's width). An exception raised by f (or gradient) stops
the engine or optimizer that called it and propagates unchanged.
)doc");

  m.def(
      "catalog",
      [] {
        py::list out;
        for (const auto& info : potentials::objective_catalog())
          out.append(py::dict(py::arg("name") = info.name, py::arg("formula") = info.formula, py::arg("min_dim") = info.min_dim,
                              py::arg("max_dim") = info.max_dim, py::arg("params") = info.defaults));
        return out;
      },
      "the built-in objectives: name, formula, accepted dimensions, parameters with defaults");
}

void bind_schedule(py::module_& m) {
  py::class_<potentials::Schedule>(m, "Schedule", R"doc(A temperature schedule T(t) (docs/config.md, [schedule]).

    Schedule.constant(T)               T
    Schedule.logarithmic(c)            c / ln(t + 2)
    Schedule.geometric(T0, gamma)      T0 gamma^t
    Schedule.paper(C_q, eta, tau)      C_q / (2 eta 2^(t/tau))   (the quantizer's resolution doubling)
    Schedule.table(t, T)               monotone cubic through the knots, T_last after them
    Schedule.expression("0.5/(1+t)")  a formula in t
    Schedule.function(fn, Tdot=None)   any Python function of t (Tdot by differences if not given)

Every engine also accepts a number (constant T) or a function of t where a schedule is expected.
)doc")
      .def_static("constant", &potentials::Schedule::constant, py::arg("T"))
      .def_static("logarithmic", &potentials::Schedule::logarithmic, py::arg("c"))
      .def_static("geometric", &potentials::Schedule::geometric, py::arg("T0"), py::arg("gamma"))
      .def_static("paper", &potentials::Schedule::paper, py::arg("C_q") = 2.0, py::arg("eta") = 1.0, py::arg("tau") = 1.0)
      .def_static(
          "table", [](std::vector<double> t, std::vector<double> T) { return potentials::Schedule::table(std::move(t), std::move(T), "table"); },
          py::arg("t"), py::arg("T"))
      .def_static(
          "expression", [](const std::string& f, const py::kwargs& kw) { return potentials::Schedule::expression(f, params_of(kw), "formula"); },
          py::arg("formula"))
      .def_static(
          "function",
          [](py::function fn, py::object Tdot) {
            auto T = to_schedule(fn);
            if (Tdot.is_none()) return T;
            auto hT = held(fn), hD = held(Tdot.cast<py::function>());
            return potentials::Schedule::function(
                [hT](double t) {
                  py::gil_scoped_acquire gil;
                  const InPythonCallback in_callback;
                  return (*hT)(t).cast<double>();
                },
                [hD](double t) {
                  py::gil_scoped_acquire gil;
                  const InPythonCallback in_callback;
                  return (*hD)(t).cast<double>();
                },
                "T(t) = " + py::repr(fn).cast<std::string>());
          },
          py::arg("T"), py::arg("Tdot") = py::none())
      .def(
          "T", [](const potentials::Schedule& s, const py::object& t) { return at_times(t, [&](double x) { return s.T(x); }); }, py::arg("t"),
          "T at time t (a number or an array of times)")
      .def(
          "Tdot", [](const potentials::Schedule& s, const py::object& t) { return at_times(t, [&](double x) { return s.Tdot(x); }); }, py::arg("t"),
          "dT/dt at time t (a number or an array of times)")
      .def("require_positive_until", &potentials::Schedule::require_positive_until, py::arg("t_end"), py::arg("dt"),
           "raises ValueError unless T > 0 and finite at every step and mid-step time up to t_end")
      .def("__repr__", [](const potentials::Schedule& s) { return "Schedule(" + s.describe() + ")"; });
}

void bind_problem(py::module_& m) {
  bind_grid(m);
  bind_objectives(m);
  bind_schedule(m);
}

}  // namespace qtzflow::python
