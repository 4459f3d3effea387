// qtzflow/verify/harness.hpp — the check harness of `qtzflow verify`.
//
// A check is one numerical claim of the theory: |measured − expected| ≤ tolerance ("close"),
// measured ≤ bound ("at_most") or measured ≥ bound ("at_least"), with the reason why that
// tolerance fits the discretisation.  An Experiment owns its HDF5 file, DIR/<name>.h5 (written
// under a temporary name and moved into place only when the experiment completes: a failed
// experiment leaves no half file), and records its checks.  A non-finite measurement fails.
#pragma once

#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "io/hdf5.hpp"

namespace qtzflow::verify {

struct Check {
  std::string experiment, quantity, kind;  ///< kind: close | at_most | at_least
  double measured, expected, tolerance;
  bool pass;
  std::string why;  ///< why this tolerance is right for the discretisation
};

/// What an experiment found, in words with its measured numbers (the README's findings are
/// regenerated from these by scripts/verification_report.py).
struct Finding {
  std::string experiment, text;
};

struct ExperimentRecord {
  std::string name, title;
  double seconds;
};

/// Everything one `qtzflow verify` run reports.
struct Report {
  bool quick = false;
  std::string date;  ///< UTC, when the run started
  int threads = 1;
  double seconds = 0;
  std::vector<Check> checks;
  std::vector<Finding> findings;
  std::vector<ExperimentRecord> experiments;
};

class Experiment {
 public:
  Experiment(std::string name, const std::string& dir, bool quick, Report& report);
  bool quick() const { return quick_; }
  const std::string& name() const { return name_; }
  io::Group root() const { return file_.root(); }
  /// A dataset of doubles at `path` (groups created as needed); shape defaults to 1D.
  void put(const std::string& path, const std::vector<double>& v, std::vector<std::size_t> shape = {}) const;
  void attr(const std::string& name, double v) const;
  void close(const std::string& quantity, double measured, double expected, double tolerance, const std::string& why);
  void at_most(const std::string& quantity, double measured, double bound, const std::string& why);
  void at_least(const std::string& quantity, double measured, double bound, const std::string& why);
  /// A finding in words, numbers included (format them with number_text).
  void finding(const std::string& text);
  /// Closes the file and moves it into place.
  void finish();

 private:
  io::Group group_of(const std::string& path) const;
  void add(const std::string& q, const char* kind, double m, double e, double tol, bool pass, const std::string& why);
  std::string name_;
  core::AtomicReplacement target_;
  io::File file_;
  bool quick_;
  Report& report_;
};

/// Shortest faithful text of a number for the summaries (JSON null for NaN/Inf).
std::string number_text(double v, int digits = 6);

/// The summary (Markdown: the checks table, the findings, the durations) and the same as JSON.
std::string summary_markdown(const Report& r);
std::string summary_json(const Report& r);

}  // namespace qtzflow::verify
