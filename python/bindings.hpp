// qtzflow/python/bindings.hpp — what the binding files share: one Python class per C++ family
// whose dimension (1–3) is a runtime value, the conversion of NumPy arrays to fields and back
// (views that keep their owner alive), and the objective that calls a Python function.
//
// Conventions the module keeps (docs/python.md): arrays are C order with axis 0 slowest, as the
// library's fields; inputs may be any array NumPy can cast to float64/complex128 (copied once
// when not already C-ordered of that type); outputs are views into the solver's own memory,
// writable, valid while the solver lives (the array holds a reference to it).  The GIL is
// released while an engine advances; Python callables take it back for each call.
#pragma once

#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <complex>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "core/parallel.hpp"
#include "grids/field.hpp"
#include "grids/grid.hpp"
#include "potentials/objective.hpp"
#include "potentials/schedule.hpp"

namespace qtzflow::python {

namespace py = pybind11;

/// Calls f(std::integral_constant<int, D>) for the runtime dimension d ∈ {1, 2, 3}.
template <class F>
decltype(auto) with_dim(int d, F&& f) {
  switch (d) {
    case 1:
      return f(std::integral_constant<int, 1>{});
    case 2:
      return f(std::integral_constant<int, 2>{});
    case 3:
      return f(std::integral_constant<int, 3>{});
  }
  core::throw_invalid("dimension", std::to_string(d), "1, 2 or 3 axes");
}

/// The dimension D of an engine type E<D>.
template <class E>
struct dim_of;
template <template <int> class E, int D>
struct dim_of<E<D>> {
  static constexpr int value = D;
};

/// A grid of 1, 2 or 3 axes.
struct PyGrid {
  std::variant<grids::Grid<1>, grids::Grid<2>, grids::Grid<3>> g;
  int dim() const { return static_cast<int>(g.index()) + 1; }
  template <int D>
  const grids::Grid<D>& as() const {
    return std::get<D - 1>(g);
  }
  std::vector<std::size_t> shape() const {
    return std::visit([](const auto& gr) { return std::vector<std::size_t>(gr.shape().begin(), gr.shape().end()); }, g);
  }
};

/// NumPy shape and C-order byte strides of a field of `shape`.
inline std::pair<std::vector<py::ssize_t>, std::vector<py::ssize_t>> c_layout(const std::vector<std::size_t>& shape, std::size_t item) {
  std::vector<py::ssize_t> s(shape.begin(), shape.end()), st(shape.size());
  py::ssize_t acc = static_cast<py::ssize_t>(item);
  for (int a = static_cast<int>(shape.size()) - 1; a >= 0; --a) {
    st[static_cast<std::size_t>(a)] = acc;
    acc *= s[static_cast<std::size_t>(a)];
  }
  return {s, st};
}

/// A writable NumPy view of `n` values at `data`, of the grid's shape, that keeps `owner` alive.
template <class T>
py::array view(const std::vector<std::size_t>& shape, const T* data, py::handle owner) {
  auto [s, st] = c_layout(shape, sizeof(T));
  return py::array(py::dtype::of<T>(), s, st, const_cast<T*>(data), owner);
}

/// A new NumPy array of the grid's shape holding a copy of `data`.
inline py::array copy_of(const std::vector<std::size_t>& shape, const double* data) {
  auto [s, st] = c_layout(shape, sizeof(double));
  py::array out(py::dtype::of<double>(), s, st);
  std::copy(data, data + out.size(), static_cast<double*>(out.mutable_data()));
  return out;
}

/// An input array as a field of the grid's shape (any castable array; the name is the
/// parameter a ValueError names).
template <class T, int D>
grids::Field<T, D> to_field(const py::object& in, const grids::Grid<D>& grid, const std::string& name) {
  auto a = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(in);
  if (!a) core::throw_invalid(name, "an object NumPy cannot convert", std::string("an array of ") + (sizeof(T) == 8 ? "float64" : "complex128"));
  std::vector<std::size_t> want(grid.shape().begin(), grid.shape().end()), have;
  for (py::ssize_t k = 0; k < a.ndim(); ++k) have.push_back(static_cast<std::size_t>(a.shape(k)));
  if (have != want) {
    auto str = [](const std::vector<std::size_t>& v) {
      std::string s = "(";
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (i > 0) s += ", ";  // not (i ? ", " : "") + ...: GCC 12's LTO warns falsely about that concatenation
        s += std::to_string(v[i]);
      }
      return s + (v.size() == 1 ? ",)" : ")");
    };
    core::throw_invalid(name, "an array of shape " + str(have), "the grid's shape " + str(want));
  }
  grids::Field<T, D> f(grid.shape());
  std::copy(a.data(), a.data() + f.size(), f.begin());
  return f;
}

/// f(x) of a Python function of one NumPy array x (length d), with an optional gradient
/// function; Δf and, without a gradient function, ∇f by 4th-order central differences of f
/// (step h = 1e-3 × the box's width per axis).  Safe from any thread: each call takes the GIL.
/// A Python exception is kept (the first one) and f returns NaN from then on, so that engines
/// running OpenMP loops stop cleanly; the binding rethrows it unchanged when the engine returns
/// (rethrow_pending).
class CallableObjective final : public potentials::Objective {
 public:
  CallableObjective(py::function f, py::object gradient, int dim, std::vector<double> lower, std::vector<double> upper,
                    const std::vector<std::vector<double>>& minima);
  ~CallableObjective() override;
  double value(std::span<const double> x) const override;
  void gradient(std::span<const double> x, std::span<double> g) const override;
  double laplacian(std::span<const double> x) const override;
  /// Rethrows the first Python exception a call raised, and forgets it.
  void rethrow_pending() const;

 private:
  py::function f_;
  py::object grad_;
  std::vector<double> step_;
  mutable std::mutex m_;
  mutable std::exception_ptr error_;
  mutable bool failed_ = false;
};

/// Rethrows a pending Python exception of `f` if it is a CallableObjective.
inline void rethrow_callable(const potentials::Objective& f) {
  if (const auto* c = dynamic_cast<const CallableObjective*>(&f)) c->rethrow_pending();
}

/// Depth of calls into Python made by the library on this thread (an objective, a schedule):
/// an engine called from there must not wait for a lock its caller may hold.
inline thread_local int python_callback_depth = 0;
struct InPythonCallback {
  InPythonCallback() { ++python_callback_depth; }
  ~InPythonCallback() { --python_callback_depth; }
  InPythonCallback(const InPythonCallback&) = delete;
  InPythonCallback& operator=(const InPythonCallback&) = delete;
};

/// Serialises the use of one engine across Python threads: advance() releases the GIL, so two
/// threads could otherwise step, or resize, the same engine at once.  A thread that has to wait
/// waits with the GIL released (the thread inside may need the GIL for a Python objective).  A
/// Python objective or schedule that calls a busy engine while the library runs it gets a
/// RuntimeError instead of a deadlock (its caller may be the one holding the lock).
class EngineLock {
 public:
  template <class F>
  decltype(auto) run(F&& fn) {
    std::unique_lock<std::mutex> lock(m_, std::try_to_lock);
    if (!lock.owns_lock()) {
      if (python_callback_depth > 0)
        throw std::runtime_error("this engine is in use (it is advancing): a Python objective or schedule cannot call it meanwhile");
      py::gil_scoped_release nogil;
      lock.lock();
    }
    return std::forward<F>(fn)();
  }

 private:
  std::mutex m_;
};

/// Wraps a method lambda (its first parameter the engine's Python object, which holds `lock`)
/// so that its body runs under the engine's lock.
template <class F, class R, class C, class P, class... A>
auto guarded_impl(F f, R (C::*)(P, A...) const) {
  return [f](P p, A... a) -> R { return p.lock->run([&]() -> R { return f(std::forward<P>(p), std::forward<A>(a)...); }); };
}
template <class F>
auto guarded(F f) {
  return guarded_impl(f, &F::operator());
}

/// Runs fn with the GIL released; a Python exception a callable objective raised meanwhile is
/// rethrown unchanged, before whatever the library made of it (a NaN, a non-finite particle).
template <class F>
void released(const potentials::Objective& f, F&& fn) {
  try {
    py::gil_scoped_release nogil;
    std::forward<F>(fn)();
  } catch (...) {
    rethrow_callable(f);
    throw;
  }
  rethrow_callable(f);
}

/// n steps of an engine, with the GIL released, as calls advance(k) that end on multiples of
/// `per_check` of the engine's step count (`steps_done` before): between them the GIL is taken
/// back to look for a signal, so Ctrl-C raises KeyboardInterrupt within a fraction of a second,
/// the state being the one after the last whole step.  A Python exception an objective raised
/// meanwhile is rethrown unchanged, before whatever the engine made of it (a non-finite field).
template <class Advance>
void advance_interruptibly(const potentials::Objective& f, long n, long per_check, long steps_done, Advance&& advance) {
  try {
    for (long done = 0; done < n;) {
      const long k = std::min(n - done, per_check - (steps_done + done) % per_check);
      {
        py::gil_scoped_release nogil;
        advance(k);
      }
      done += k;
      if (done < n && PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
  } catch (...) {
    rethrow_callable(f);
    throw;
  }
  rethrow_callable(f);
}

/// A schedule from a qtzflow.Schedule, a number (constant T) or a Python function of t.
potentials::Schedule to_schedule(const py::object& T);

/// A configuration warning of the library (scenario/advice.hpp) as a Python RuntimeWarning
/// (with the GIL; an exception if the warnings filter turns it into an error).
inline void warn_python(const std::string& message) {
  if (!message.empty() && PyErr_WarnEx(PyExc_RuntimeWarning, message.c_str(), 1) < 0) throw py::error_already_set();
}

void bind_problem(py::module_& m);
void bind_engines(py::module_& m);
void bind_studies(py::module_& m);
void bind_ml(py::module_& m);

}  // namespace qtzflow::python
