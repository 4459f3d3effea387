#include "verify/harness.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/version.hpp"

namespace qtzflow::verify {

namespace {

/// A measured value with enough digits to show its distance to the expected one (|m − 1| ≤ 1e-6
/// must not print as "1").
std::string measured_text(double m, double tolerance) {
  const int need = tolerance > 0 ? static_cast<int>(std::ceil(-std::log10(tolerance))) + 2 : 6;
  return number_text(m, std::clamp(need, 6, 15));
}

std::string relation(const Check& c) {
  if (c.kind == "close") return "|m - " + number_text(c.expected) + "| <= " + number_text(c.tolerance);
  if (c.kind == "at_most") return "<= " + number_text(c.expected);
  return ">= " + number_text(c.expected);
}

}  // namespace

std::string number_text(double v, int digits) {
  if (!std::isfinite(v)) return "null";
  char b[40];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

Experiment::Experiment(std::string name, const std::string& dir, bool quick, Report& report)
    : name_(std::move(name)),
      target_((std::filesystem::path(dir) / (name_ + ".h5")).string()),
      file_(io::File::create(target_.temporary())),
      quick_(quick),
      report_(report) {
  file_.root().write_attribute("software", std::string("qtzflow"));
  file_.root().write_attribute("softwareVersion", std::string(core::version));
  file_.root().write_attribute("experiment", name_);
  file_.root().write_attribute("quick", std::int64_t{quick});
}

void Experiment::put(const std::string& path, const std::vector<double>& v, std::vector<std::size_t> shape) const {
  if (shape.empty()) shape = {v.size()};
  const io::Group g = group_of(path);
  g.write_dataset(path.substr(path.rfind('/') + 1), v, shape);
}

void Experiment::attr(const std::string& name, double v) const { file_.root().write_attribute(name, v); }

void Experiment::close(const std::string& quantity, double measured, double expected, double tolerance, const std::string& why) {
  add(quantity, "close", measured, expected, tolerance, std::abs(measured - expected) <= tolerance, why);
}
void Experiment::at_most(const std::string& quantity, double measured, double bound, const std::string& why) {
  add(quantity, "at_most", measured, bound, 0, measured <= bound, why);
}
void Experiment::at_least(const std::string& quantity, double measured, double bound, const std::string& why) {
  add(quantity, "at_least", measured, bound, 0, measured >= bound, why);
}

void Experiment::finish() {
  file_.close();
  target_.commit();
}

io::Group Experiment::group_of(const std::string& path) const {
  io::Group g = file_.root();
  std::size_t start = 0;
  for (std::size_t pos = path.find('/'); pos != std::string::npos; pos = path.find('/', start)) {
    const std::string part = path.substr(start, pos - start);
    g = g.exists(part) ? g.open_group(part) : g.create_group(part);
    start = pos + 1;
  }
  return g;
}

void Experiment::add(const std::string& q, const char* kind, double m, double e, double tol, bool pass, const std::string& why) {
  report_.checks.push_back({name_, q, kind, m, e, tol, pass && std::isfinite(m), why});
}

void Experiment::finding(const std::string& text) { report_.findings.push_back({name_, text}); }

std::string summary_markdown(const Report& r) {
  long failed = 0;
  for (const auto& c : r.checks) failed += c.pass ? 0 : 1;
  std::ostringstream md;
  md << "# qtzflow verify" << (r.quick ? " --quick" : "") << "\n\n"
     << r.checks.size() - static_cast<std::size_t>(failed) << " of " << r.checks.size() << " checks pass; " << r.threads << " threads, "
     << number_text(r.seconds) << " s.\n\n"
     << "| experiment | quantity | measured | expected | pass | why this tolerance |\n|---|---|---|---|---|---|\n";
  for (const auto& c : r.checks)
    md << "| " << c.experiment << " | " << c.quantity << " | " << measured_text(c.measured, c.kind == "close" ? c.tolerance : 0) << " | "
       << relation(c) << " | " << (c.pass ? "yes" : "**NO**") << " | " << c.why << " |\n";
  if (!r.findings.empty()) {
    md << "\nFindings:\n";
    for (const auto& f : r.findings) md << "- " << f.experiment << ": " << f.text << "\n";
  }
  md << "\nDuration per experiment (s): ";
  for (std::size_t k = 0; k < r.experiments.size(); ++k)
    md << (k ? ", " : "") << r.experiments[k].name << " " << number_text(r.experiments[k].seconds, 3);
  md << "\n";
  return md.str();
}

std::string summary_json(const Report& r) {
  long failed = 0;
  for (const auto& c : r.checks) failed += c.pass ? 0 : 1;
  std::ostringstream js;
  js << "{\"quick\": " << (r.quick ? "true" : "false") << ", \"date\": \"" << r.date << "\", \"seconds\": " << number_text(r.seconds)
     << ", \"threads\": " << r.threads << ", \"passed\": " << (failed == 0 ? "true" : "false") << ",\n \"experiments\": [";
  for (std::size_t k = 0; k < r.experiments.size(); ++k) {
    const auto& x = r.experiments[k];
    js << (k ? "," : "") << "\n  {\"name\": \"" << core::json_escape(x.name) << "\", \"title\": \"" << core::json_escape(x.title)
       << "\", \"seconds\": " << number_text(x.seconds) << "}";
  }
  js << "],\n \"checks\": [";
  for (std::size_t k = 0; k < r.checks.size(); ++k) {
    const auto& c = r.checks[k];
    js << (k ? "," : "") << "\n  {\"experiment\": \"" << c.experiment << "\", \"quantity\": \"" << core::json_escape(c.quantity) << "\", \"kind\": \""
       << c.kind << "\", \"measured\": " << number_text(c.measured, 17) << ", \"expected\": " << number_text(c.expected, 17)
       << ", \"tolerance\": " << number_text(c.tolerance, 17) << ", \"pass\": " << (c.pass ? "true" : "false") << ", \"why\": \""
       << core::json_escape(c.why) << "\"}";
  }
  js << "],\n \"findings\": [";
  for (std::size_t k = 0; k < r.findings.size(); ++k)
    js << (k ? "," : "") << "\n  {\"experiment\": \"" << core::json_escape(r.findings[k].experiment) << "\", \"text\": \""
       << core::json_escape(r.findings[k].text) << "\"}";
  js << "]}\n";
  return js.str();
}

}  // namespace qtzflow::verify
