#include "scenario/spectrum.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/version.hpp"
#include "io/hdf5.hpp"
#include "scenario/problem.hpp"
#include "solver/fokker_planck.hpp"
#include "solver/split_step.hpp"

namespace qtzflow::scenario {

namespace {

/// From this many points on, the progress line warns that the imaginary-time deflation is slow.
constexpr std::size_t kSlowDeflationPoints = 4096;

template <int D>
void compute(const SpectrumRequest& q, SpectrumReport& rep) {
  const RunConfig& c = q.config;
  const auto grid = make_grid<D>(c.grid);
  const auto objective = make_objective(c.objective, grid);
  const auto land = sample_objective<D>(*objective, grid, c.objective);
  GridConfig periodic_cfg = c.grid;
  periodic_cfg.boundary = grids::Boundary::periodic;
  const auto pgrid = make_grid<D>(periodic_cfg);
  const auto pland = sample_objective<D>(*objective, pgrid, c.objective);
  const std::size_t points = grid.size();
  auto say = [&](const std::string& line) {
    if (q.progress) q.progress(line);
  };
  for (double T : q.temperatures) {
    SpectrumRow row;
    row.T = T;
    const std::string at = "T = " + core::format_value(T) + ": ";
    if (q.fokker_planck) {
      say(at + "Fokker-Planck generator, " + std::to_string(q.count) + " eigenvalues on " + std::to_string(points) + " points");
      solver::FokkerPlanckSolver<D> fp(land, potentials::Schedule::constant(T), {0.01});
      row.lambda = fp.spectrum(q.count);
    }
    if (q.schrodinger) {
      // deflation relaxes each state in turn, to 1e-13, twice: on 4096 points and more this is
      // seconds to minutes (the 128² double well: 69 s), where the generator takes a fraction of a second
      say(at + "H_T by imaginary-time deflation, " + std::to_string(q.count) + " states on " + std::to_string(points) +
          " points at dt = " + core::format_value(q.dt) + ", then " + core::format_value(q.dt / 2) +
          (points >= kSlowDeflationPoints ? " (this can take minutes; --only fokker_planck gives lambda_k alone, in a fraction of a second)" : ""));
      std::vector<double> e[2];
      for (int k = 0; k < 2; ++k) {
        solver::SplitStepOptions o;
        o.mode = solver::TimeMode::imaginary;
        o.dt = k == 0 ? q.dt : q.dt / 2;
        o.rigor = grids::PlanRigor::estimate;  // reproducible to the bit
        solver::SplitStepSolver<D> im(pland, potentials::PotentialKind::witten, potentials::Schedule::constant(T), o);
        for (const auto& s : im.eigenstates(q.count, grids::Field<double, D>(pgrid.shape(), 1.0), 1e-13, 5'000'000, 1000)) e[k].push_back(s.energy);
      }
      for (std::size_t j = 0; j < e[0].size(); ++j) row.energy.push_back((4 * e[1][j] - e[0][j]) / 3);
    }
    rep.rows.push_back(std::move(row));
  }
}

std::string number(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

}  // namespace

SpectrumReport spectrum(const SpectrumRequest& q) {
  core::require_at_least("count", q.count, 2);
  if (q.count > 16) core::throw_invalid("count", std::to_string(q.count), "2 .. 16");
  core::require_positive("dt", q.dt);
  if (!q.fokker_planck && !q.schrodinger) core::throw_invalid("engines", "none", "the Fokker-Planck generator, H_T or both");
  SpectrumRequest r = q;
  if (r.temperatures.empty()) r.temperatures.push_back(q.config.schedule.make().T(0));
  for (double T : r.temperatures)
    if (!(std::isfinite(T) && T > 0)) core::throw_invalid("T", core::format_value(T), "finite temperatures > 0");
  std::optional<core::OutputLock> claim;
  if (!q.output.empty()) {
    for (const auto& written : {q.output, core::OutputLock::lock_path_of(q.output)})
      core::require_replaceable("output", written, q.config.input_files());
    claim.emplace("output", q.output);
  }
  const auto t0 = std::chrono::steady_clock::now();
  SpectrumReport rep;
  std::string box;
  for (std::size_t a = 0; a < q.config.grid.n.size(); ++a)
    box += (a ? " x " : "") + std::to_string(q.config.grid.n[a]) + " cells on [" + core::format_value(q.config.grid.lower[a]) + ", " +
           core::format_value(q.config.grid.upper[a]) + "]";
  rep.problem = (q.config.objective.is_expression() ? "f = " + core::shorten(q.config.objective.formula, 80) : q.config.objective.name) + ", " + box;
  switch (q.config.grid.dim()) {
    case 1:
      compute<1>(r, rep);
      break;
    case 2:
      compute<2>(r, rep);
      break;
    case 3:
      compute<3>(r, rep);
      break;
    default:
      core::throw_invalid("grid.n", std::to_string(q.config.grid.dim()) + " axes", "1, 2 or 3 axes");
  }
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

std::string spectrum_table(const SpectrumReport& rep) {
  std::ostringstream o;
  o << "spectrum of " << rep.problem << " (" << number(rep.seconds)
    << " s)\n\n| T | k | lambda_k (FP generator) | E_k (H_T, imaginary time) |\n|---|---|---|---|\n";
  for (const auto& row : rep.rows) {
    const std::size_t n = std::max(row.lambda.size(), row.energy.size());
    for (std::size_t k = 0; k < n; ++k)
      o << "| " << number(row.T) << " | " << k << " | " << (k < row.lambda.size() ? number(row.lambda[k]) : "-") << " | "
        << (k < row.energy.size() ? number(row.energy[k]) : "-") << " |\n";
  }
  return o.str();
}

std::string spectrum_json(const SpectrumReport& rep) {
  auto list = [](const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t k = 0; k < v.size(); ++k) {
      char b[40];
      std::snprintf(b, sizeof b, "%.17g", v[k]);
      s += (k ? ", " : "") + std::string(b);
    }
    return s + "]";
  };
  std::ostringstream o;
  o << "{\"problem\": \"" << core::json_escape(rep.problem) << "\", \"seconds\": " << number(rep.seconds) << ", \"rows\": [";
  for (std::size_t i = 0; i < rep.rows.size(); ++i)
    o << (i ? ", " : "") << "\n  {\"T\": " << number(rep.rows[i].T) << ", \"lambda\": " << list(rep.rows[i].lambda)
      << ", \"E\": " << list(rep.rows[i].energy) << "}";
  o << "]}\n";
  return o.str();
}

void write_spectrum(const std::string& path, const SpectrumReport& rep) {
  io::write_file_atomically(path, [&](const io::Group& root) {
    root.write_attribute("software", std::string("qtzflow"));
    root.write_attribute("softwareVersion", std::string(core::version));
    root.write_attribute("problem", rep.problem);
    const io::Group g = root.create_group("spectrum");
    std::vector<double> T;
    for (const auto& r : rep.rows) T.push_back(r.T);
    g.write_dataset("T", T, {T.size()});
    const std::size_t nl = rep.rows.empty() ? 0 : rep.rows[0].lambda.size(), ne = rep.rows.empty() ? 0 : rep.rows[0].energy.size();
    std::vector<double> lam, en;
    for (const auto& r : rep.rows) {
      lam.insert(lam.end(), r.lambda.begin(), r.lambda.end());
      en.insert(en.end(), r.energy.begin(), r.energy.end());
    }
    if (nl) g.write_dataset("lambda_fokker_planck", lam, {T.size(), nl});
    if (ne) g.write_dataset("E_witten", en, {T.size(), ne});
  });
}

}  // namespace qtzflow::scenario
