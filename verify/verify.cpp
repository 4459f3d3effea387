#include "verify/verify.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/atomic_file.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/parallel.hpp"
#include "verify/experiments.hpp"

namespace qtzflow::verify {

int run_verify(const VerifyOptions& o) {
  namespace fs = std::filesystem;
  std::vector<const ExperimentEntry*> selected;
  for (const auto& x : kExperiments) {
    const std::string name = x.name, prefix = name.substr(0, name.find('_'));
    if (o.only.empty() || o.only == name || o.only == prefix) selected.push_back(&x);
  }
  if (selected.empty()) {
    std::string known;
    for (const auto& x : kExperiments) known += (known.empty() ? "" : ", ") + std::string(x.name);
    core::throw_invalid("only", o.only, "one of " + known + " (or v1 ... v" + std::to_string(std::size(kExperiments)) + ")");
  }
  const fs::path dir(o.dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) core::throw_invalid("dir", o.dir, "a directory that can be created (" + ec.message() + ")");
  Report report;
  report.quick = o.quick;
  report.threads = core::thread_count();
  report.date = core::utc_now("%Y-%m-%d %H:%M UTC");
  const auto t0 = std::chrono::steady_clock::now();
  for (const ExperimentEntry* x : selected) {
    const auto a = std::chrono::steady_clock::now();
    if (!o.quiet) std::fprintf(stderr, "qtzflow verify: %s — %s ...", x->name, x->title);
    try {
      Experiment e(x->name, dir.string(), o.quick, report);
      x->run(e);
      e.finish();
    } catch (const core::InvalidArgument&) {
      throw;
    } catch (const std::exception& err) {
      report.checks.push_back(
          {x->name, std::string("ran to the end (") + err.what() + ")", "at_least", 0, 1, 0, false, "an experiment must complete"});
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
    report.experiments.push_back({x->name, x->title, secs});
    if (!o.quiet) std::fprintf(stderr, " %.1f s\n", secs);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  long failed = 0;
  for (const auto& c : report.checks) failed += c.pass ? 0 : 1;
  const std::string md = summary_markdown(report);
  core::write_text_atomically((dir / "summary.md").string(), md);
  core::write_text_atomically((dir / "summary.json").string(), summary_json(report));
  std::printf("%s", md.c_str());
  if (!o.quiet)
    std::fprintf(stderr, "qtzflow verify: %s (%ld failed); data and summary in %s\n", failed ? "FAILED" : "all checks pass", failed, o.dir.c_str());
  return failed ? 1 : 0;
}

}  // namespace qtzflow::verify
