// The quantized gradient optimizers' step (particles/quantized_gradient.hpp) for qtzflow.torch:
// in place on the float32 memory of a tensor (a NumPy view of it, no copy).
#include "bindings.hpp"
#include "particles/quantized_gradient.hpp"

namespace qtzflow::python {

namespace {

/// A writable, C-contiguous float32 array's memory (ValueError naming `key` otherwise: a copy
/// would be updated instead of the tensor).
std::span<float> float32_memory(const py::object& a, const char* key, bool writable) {
  if (a.is_none()) return {};
  if (!py::isinstance<py::array>(a)) core::throw_invalid(key, std::string(py::str(py::type::of(a))), "a float32 NumPy array");
  auto arr = a.cast<py::array>();
  if (!arr.dtype().is(py::dtype::of<float>())) core::throw_invalid(key, "dtype " + std::string(py::str(arr.dtype())), "float32");
  if (!(arr.flags() & py::array::c_style)) core::throw_invalid(key, "a strided array", "C-contiguous memory");
  if (writable && !arr.writeable()) core::throw_invalid(key, "read-only", "a writable array");
  return {static_cast<float*>(arr.mutable_data()), static_cast<std::size_t>(arr.size())};
}

}  // namespace

void bind_ml(py::module_& m) {
  m.def(
      "_quantized_gradient_step",
      [](const py::object& w, const py::object& g, const py::object& m1, const py::object& m2, long step, const std::string& rule,
         const std::string& quantizer, bool push, double lr, double beta1, double beta2, float eps, float weight_decay, double eta, double base,
         double kappa, double tau0, double steps_per_epoch, std::uint64_t seed, std::uint64_t tensor, const py::object& residuals) {
        particles::QuantizedGradientOptions o;
        o.rule = core::parse_name<particles::GradientRule>(rule, "rule");
        o.quantizer = core::parse_name<particles::GradientQuantizer>(quantizer, "quantizer");
        o.push = push;
        o.lr = lr;
        o.beta1 = beta1;
        o.beta2 = beta2;
        o.eps = eps;
        o.weight_decay = weight_decay;
        o.eta = eta;
        o.base = base;
        o.kappa = kappa;
        o.tau0 = tau0;
        o.steps_per_epoch = steps_per_epoch;
        o.seed = seed;
        o.check();
        const auto st = particles::quantized_gradient_step(float32_memory(w, "param", true), float32_memory(g, "grad", false),
                                                           float32_memory(m1, "exp_avg", true), float32_memory(m2, "exp_avg_sq", true), step, o, tensor,
                                                           float32_memory(residuals, "residuals", true));
        return py::dict(py::arg("qp") = st.qp, py::arg("push") = st.push, py::arg("h_norm") = st.h_norm, py::arg("mean_step") = st.mean_step,
                        py::arg("mean_residual") = st.mean_residual, py::arg("mean_square_residual") = st.mean_square_residual,
                        py::arg("moved") = st.moved);
      },
      py::arg("param"), py::arg("grad"), py::arg("exp_avg"), py::arg("exp_avg_sq"), py::arg("step"), py::arg("rule"), py::arg("quantizer"),
      py::arg("push"), py::arg("lr"), py::arg("beta1"), py::arg("beta2"), py::arg("eps"), py::arg("weight_decay"), py::arg("eta"), py::arg("base"),
      py::arg("kappa"), py::arg("tau0"), py::arg("steps_per_epoch"), py::arg("seed"), py::arg("tensor"), py::arg("residuals") = py::none(),
      "one quantized gradient step in place (particles/quantized_gradient.hpp); qtzflow.torch's optimizers call it");
  m.def("gradient_qp", &particles::gradient_qp, py::arg("t_e"), py::arg("eta") = 524288.0, py::arg("base") = 2.0,
        "Q_p of the quantized gradient optimizers at t_e epochs: eta * base^floor(log_base ln(t_e + 2))");
  m.def("push_factor", &particles::push_factor, py::arg("t_e"), py::arg("kappa") = 2.0, py::arg("tau0") = 7.5,
        "the warm-up push factor 0.5 (1 + tanh(-kappa (t_e - tau0)))");
  m.def(
      "gradient_noise",
      [](std::uint64_t seed, std::uint64_t tensor, long step, std::size_t n) {
        py::array_t<float> out(static_cast<py::ssize_t>(n));
        particles::gradient_noise(seed, tensor, step, {out.mutable_data(), n});
        return out;
      },
      py::arg("seed"), py::arg("tensor"), py::arg("step"), py::arg("n"), "the standard normal draws of the gaussian ablation at (step, tensor)");
}

}  // namespace qtzflow::python
