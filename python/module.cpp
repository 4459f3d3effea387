// qtzflow._core: the compiled half of the Python module (the package python/qtzflow/ adds the
// pure-Python parts: configured runs from a dict, qtzflow.open).  Errors become Python's:
// bad input (core::InvalidArgument) ValueError with the same message as the CLI, numerical
// failures (core::NumericalError) RuntimeError, unreadable files (io::Hdf5Error) OSError.
#include "bindings.hpp"
#include "core/version.hpp"
#include "io/hdf5.hpp"

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  using namespace qtzflow;
  m.doc() = "qtzflow's engines, objectives, schedules and optimizers (docs/python.md)";
  m.attr("__version__") = std::string(core::version);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const core::InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const core::NumericalError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const io::Hdf5Error& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const py::cast_error& e) {
      // an argument of the wrong type deep inside (a list where a number was expected)
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });
  python::bind_problem(m);
  python::bind_engines(m);
  python::bind_studies(m);
  python::bind_ml(m);
}
