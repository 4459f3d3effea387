// What a run's output holds besides snapshots, and objectives read from files:
//  - /grid: coordinates, f, |∇f|², Δf, V and basin labels, once per file;
//  - output.diagnostics_every: a diagnostics curve without a snapshot per point, restartable;
//  - objective.name = "sampled": samples from HDF5 (qtzflow's own /grid/meshes/f, a file with
//    lower/upper attributes, one h5py wrote), equal to the objective they sample, bad files exit 2.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

#include "../check.hpp"
#include "../test_support.hpp"
#include "io/hdf5.hpp"
#include "io/snapshot.hpp"
#include "scenario/config.hpp"
#include "scenario/run.hpp"

using namespace qtzflow;
namespace fs = std::filesystem;
using testing::read_file;
using testing::relative_max_difference;
using testing::run_cli;
using testing::write_file;

namespace {

std::vector<double> dataset(const fs::path& file, const std::string& name) {
  return io::File::open_read(file.string()).root().open_dataset(name).read_doubles();
}

/// Writes `values` (C order, shape) as dataset f with the box as attributes lower/upper.
void write_samples(const fs::path& file, const std::vector<double>& values, const std::vector<std::size_t>& shape, const std::vector<double>& lower,
                   const std::vector<double>& upper) {
  io::write_file_atomically(file.string(), [&](const io::Group& root) {
    const auto d = root.write_dataset("f", values, shape);
    d.write_attribute("lower", std::span<const double>(lower));
    d.write_attribute("upper", std::span<const double>(upper));
  });
}

const std::string kFp2d =
    "[grid]\nn = [32, 32]\nlower = [-2, -2]\nupper = [2, 2]\nboundary = \"reflecting\"\n"
    "[objective]\nname = \"double_well\"\nc = 0.3\n[schedule]\nT = 0.4\n[initial]\ncenter = [0.96, 0.96]\nwidth = [0.3, 0.3]\n";

}  // namespace

TEST_CASE("outputs hold the grid once: coordinates, f, grad f squared, Laplacian, V and basins under /grid") {
  const auto d = testing::scratch_dir("grid_records");
  const double c = 0.3, T = 0.5;
  auto cfg = scenario::parse_config(
      "[grid]\nn = [32, 24]\nlower = [-2.5, -2]\nupper = [2.5, 2]\n[objective]\nname = \"double_well\"\nc = 0.3\n[schedule]\nT = 0.5\n"
      "[initial]\ncenter = [-1, -1]\nwidth = [0.3, 0.3]\n[schrodinger]\nmode = \"imaginary\"\ndt = 0.01\nt_end = 0.04\n[output]\nevery = 2\n");
  scenario::RunOptions o;
  o.output = (d / "run.h5").string();
  REQUIRE(scenario::run(cfg, o).status == scenario::RunOutcome::Status::completed);
  const io::File f = io::File::open_read(o.output);
  const auto g = f.root().open_group("grid");
  const auto x = g.open_dataset("x").read_doubles(), y = g.open_dataset("y").read_doubles();
  REQUIRE(x.size() == 32);
  REQUIRE(y.size() == 24);
  CHECK_ABS(x[0], -2.5 + 5.0 / 64, 1e-15);  // cell centres, absolute
  CHECK_ABS(y[23], 2 - 4.0 / 48, 1e-15);
  const auto fv = g.open_dataset("meshes/f").read_doubles(), g2 = g.open_dataset("meshes/grad_f_sq").read_doubles();
  const auto lap = g.open_dataset("meshes/laplacian_f").read_doubles(), V = g.open_dataset("meshes/V").read_doubles();
  REQUIRE(g.open_dataset("meshes/f").shape() == std::vector<std::size_t>{32, 24});
  double worst_f = 0, worst_g = 0, worst_l = 0, worst_v = 0;
  for (std::size_t i = 0; i < 32; ++i)
    for (std::size_t j = 0; j < 24; ++j) {
      const std::size_t k = i * 24 + j;
      const double a = x[i], b = y[j];
      const double f_exact = std::pow(a * a - 1, 2) + c * a + std::pow(b * b - 1, 2) + c * b;
      const double gx = 4 * a * (a * a - 1) + c, gy = 4 * b * (b * b - 1) + c;
      const double l_exact = 12 * a * a - 4 + 12 * b * b - 4;
      worst_f = std::max(worst_f, std::abs(fv[k] - f_exact));
      worst_g = std::max(worst_g, std::abs(g2[k] - (gx * gx + gy * gy)) / (1 + gx * gx + gy * gy));
      worst_l = std::max(worst_l, std::abs(lap[k] - l_exact));
      worst_v = std::max(worst_v, std::abs(V[k] - ((gx * gx + gy * gy) / (4 * T) - l_exact / 2)) / (1 + std::abs(V[k])));
    }
  CHECK(worst_f <= 1e-13);  // absolute: the analytic objective, rounding only
  CHECK(worst_g <= 1e-13);  // relative to 1 + |grad f|^2
  CHECK(worst_l <= 1e-12);  // absolute
  CHECK(worst_v <= 1e-13);  // relative to 1 + |V|: V_T = |grad f|^2/(4T) - lap f/2 at T = 0.5
  // basins: four wells, label 0 the global one near (-1.04, -1.04)
  const auto basin = g.open_dataset("meshes/basin").read_int64();
  std::size_t near = 0;
  for (std::size_t i = 0; i < 32; ++i)
    for (std::size_t j = 0; j < 24; ++j)
      if (std::hypot(x[i] + 1.04, y[j] + 1.04) < std::hypot(x[near / 24] + 1.04, y[near % 24] + 1.04)) near = i * 24 + j;
  CHECK(basin[near] == 0);
  CHECK(*std::max_element(basin.begin(), basin.end()) == 3);
  CHECK(g.read_string_attribute("description").find("meshes/V: the Schrodinger potential at t = 0") != std::string::npos);
  // once per file: the snapshots do not repeat it, and the XDMF shows f at every time
  CHECK_FALSE(f.root().exists("data/2/meshes/f"));
  const std::string xdmf = read_file(d / "run.xdmf");
  CHECK(xdmf.find("run.h5:/grid/meshes/f") != std::string::npos);
  testing::check_h5py_layout(o.output, "--xdmf --expect-snapshots 3");
  // a Fokker-Planck run has no V
  auto fp = scenario::parse_config(kFp2d + "[fokker_planck]\ndt = 0.01\nt_end = 0.02\n");
  o.output = (d / "fp.h5").string();
  REQUIRE(scenario::run(fp, o).status == scenario::RunOutcome::Status::completed);
  CHECK_FALSE(io::File::open_read(o.output).root().exists("grid/meshes/V"));
  CHECK(io::File::open_read(o.output).root().exists("grid/meshes/f"));
  fs::remove_all(d);
}

TEST_CASE("output.diagnostics_every: 1000 diagnostic points cost one snapshot pair, and a restart continues the curve") {
  const auto d = testing::scratch_dir("diagnostics_every");
  auto run = [&](const std::string& name, const std::string& extra, const std::string& restart = "") {
    auto c = scenario::parse_config(kFp2d + "[fokker_planck]\ndt = 0.001\nt_end = 1.0\n[output]\n" + extra);
    scenario::RunOptions o;
    o.output = restart.empty() ? (d / name).string() : "";
    o.restart = restart;
    REQUIRE(scenario::run(c, o).status == scenario::RunOutcome::Status::completed);
    return d / name;
  };
  const auto dense = run("dense.h5", "every = 1000\ndiagnostics_every = 1\n");
  const auto snaps = run("snaps.h5", "every = 10\n");
  CHECK(io::snapshot_iterations(dense.string()) == std::vector<std::int64_t>{0, 1000});
  const auto a = io::read_diagnostics(dense.string()), b = io::read_diagnostics(snaps.string());
  REQUIRE(a.iteration.size() == 1001);
  REQUIRE(b.iteration.size() == 101);
  // the same curve: FP steps do not depend on how they are grouped, so rows agree to rounding
  double worst = 0;
  for (std::size_t r = 0; r < b.iteration.size(); ++r) {
    REQUIRE(a.iteration[10 * r] == b.iteration[r]);
    for (const auto& [name, series] : b.series) worst = std::max(worst, std::abs(a.series.at(name)[10 * r] - series[r]));
  }
  CHECK(worst <= 1e-12);  // absolute, on masses, moments and T of order 1
  // what the 1000 extra rows cost: their values (8 bytes each) and little else
  const auto two = run("two.h5", "every = 1000\n");
  const double rows_bytes = 1000.0 * static_cast<double>(a.series.size() + 2) * 8;
  const auto dense_size = fs::file_size(dense), two_size = fs::file_size(two), snaps_size = fs::file_size(snaps);
  MESSAGE("2 snapshots: " << two_size << " bytes; + 999 diagnostic rows: " << dense_size << " bytes (the rows' values: " << rows_bytes
                          << "); 101 snapshots: " << snaps_size << " bytes");
  CHECK(static_cast<double>(dense_size - two_size) <= 1.5 * rows_bytes);
  CHECK(dense_size < snaps_size);
  testing::check_h5py_layout(dense, "--xdmf --expect-snapshots 2");

  // a restart from t = 0.5 continues the curve: rows bit-identical to the uninterrupted run
  const auto whole = run("whole.h5", "every = 250\ndiagnostics_every = 7\n");
  auto half = scenario::parse_config(kFp2d + "[fokker_planck]\ndt = 0.001\nt_end = 0.5\n[output]\nevery = 250\ndiagnostics_every = 7\n");
  scenario::RunOptions ho;
  ho.output = (d / "part.h5").string();
  REQUIRE(scenario::run(half, ho).status == scenario::RunOutcome::Status::completed);
  run("part.h5", "every = 250\ndiagnostics_every = 7\n", ho.output);
  const auto w = io::read_diagnostics(whole.string()), p = io::read_diagnostics(ho.output);
  CHECK(p.iteration == w.iteration);  // every 7th step and 250, 500, 750, 1000
  CHECK(p.series == w.series);
  CHECK(w.iteration.size() == 142 + 1 + 4);  // 0, 7, ..., 994 (143 values) and 250, 500, 750, 1000
  fs::remove_all(d);
}

TEST_CASE("a sampled objective from HDF5 gives the outputs of the objective it samples") {
  const auto d = testing::scratch_dir("sampled_cli");
  const double pi = std::numbers::pi;
  SUBCASE("periodic grid: spectral derivatives, the same fields as the expression to 1e-8 relative") {
    // f is a trigonometric polynomial of degree 2 < n/2: its spectral derivatives are exact;
    // the expression's order-8 differences are good to ~1e-11 relative.
    const std::string grid =
        "[grid]\nn = [32, 32]\nlower = [-3.141592653589793, -3.141592653589793]\nupper = [3.141592653589793, 3.141592653589793]\n";
    const std::string expression = "[objective]\nname = \"expression\"\nf = \"cos(x) + 0.5*sin(2*y) + 0.2*cos(x+y)\"\n";
    std::vector<double> v;
    for (int i = 0; i < 32; ++i)
      for (int j = 0; j < 32; ++j) {
        const double x = -pi + (i + 0.5) * 2 * pi / 32, y = -pi + (j + 0.5) * 2 * pi / 32;
        v.push_back(std::cos(x) + 0.5 * std::sin(2 * y) + 0.2 * std::cos(x + y));
      }
    write_samples(d / "f.h5", v, {32, 32}, {-pi, -pi}, {pi, pi});
    const std::string sampled = "[objective]\nname = \"sampled\"\nfile = \"f.h5\"\n";
    const std::string rest = "[schedule]\nT = 0.5\n[initial]\ncenter = [1, 0]\nwidth = [0.5, 0.5]\n";
    for (const std::string engine : {"[fokker_planck]\ndt = 0.01\nt_end = 0.3\n[output]\nevery = 30\n",
                                     "[schrodinger]\nmode = \"imaginary\"\ndt = 0.01\nt_end = 0.3\n[output]\nevery = 30\n"}) {
      write_file(d / "a.toml", grid + expression + rest + engine);
      write_file(d / "b.toml", grid + sampled + rest + engine);
      REQUIRE(run_cli("run a.toml -q -o a.h5", d).code == 0);
      const auto rb = run_cli("run b.toml -q -o b.h5", d);
      CAPTURE(rb.err);
      REQUIRE(rb.code == 0);
      const auto sa = io::read_snapshot((d / "a.h5").string(), 30), sb = io::read_snapshot((d / "b.h5").string(), 30);
      for (const auto& [name, fa] : sa.fields) {
        CAPTURE(name);
        CHECK(relative_max_difference(fa, sb.fields.at(name)) <= 1e-8);
      }
    }
  }
  SUBCASE("reflecting grid: a run's own /grid/meshes/f read back, 4th-order derivatives") {
    // not a polynomial: the tilted double well is a quartic, which the 4th-order stencils and the
    // cubic interpolation of its gradient reproduce exactly
    std::string a = kFp2d;
    const std::string builtin = "name = \"double_well\"\nc = 0.3";
    a.replace(a.find(builtin), builtin.size(), "name = \"expression\"\nf = \"(x^2-1)^2 + 0.3*x + (y^2-1)^2 + 0.3*y + 0.3*sin(2*x)*cos(y)\"");
    std::string b = kFp2d;
    b.replace(b.find(builtin), builtin.size(), "name = \"sampled\"\nfile = \"a.h5\"\ndataset = \"/grid/meshes/f\"");
    write_file(d / "a.toml", a + "[fokker_planck]\ndt = 0.01\nt_end = 0.5\n[output]\nevery = 50\n");
    REQUIRE(run_cli("run a.toml -q -o a.h5", d).code == 0);
    write_file(d / "b.toml", b + "[fokker_planck]\ndt = 0.01\nt_end = 0.5\n[output]\nevery = 50\n");
    const auto rb = run_cli("run b.toml -q -o b.h5", d);
    CAPTURE(rb.err);
    REQUIRE(rb.code == 0);
    CHECK(dataset(d / "b.h5", "grid/meshes/f") == dataset(d / "a.h5", "grid/meshes/f"));  // the samples themselves, bit for bit
    // the finite-volume FP fluxes use f at the points only: the samples give the very same rho
    CHECK(io::read_snapshot((d / "a.h5").string(), 50).fields.at("rho") == io::read_snapshot((d / "b.h5").string(), 50).fields.at("rho"));
    // Langevin particles use the gradient between points: 4th-order differences at h = 1/8,
    // interpolated; with the same seed the paths stay within ~1e-4 of the built-in's, so the
    // histograms differ only by the few particles that cross a bin edge
    const std::string langevin = "[particles]\nalgorithm = \"langevin\"\ncount = 20000\ndt = 0.01\nt_end = 0.5\n[output]\nevery = 50\n";
    write_file(d / "pa.toml", a + langevin);
    write_file(d / "pb.toml", b + langevin);
    REQUIRE(run_cli("run pa.toml -q -o pa.h5", d).code == 0);
    REQUIRE(run_cli("run pb.toml -q -o pb.h5", d).code == 0);
    const auto ha = io::read_snapshot((d / "pa.h5").string(), 50).fields.at("particles_hist");
    const auto hb = io::read_snapshot((d / "pb.h5").string(), 50).fields.at("particles_hist");
    double l1 = 0, mass = 0;
    for (std::size_t i = 0; i < ha.size(); ++i) {
      l1 += std::abs(ha[i] - hb[i]);
      mass += ha[i];
    }
    MESSAGE("Langevin histograms, expression vs its samples on 32^2: L1 distance " << l1 / mass << " (relative to the total)");
    CHECK(l1 / mass <= 0.002);  // relative; measured 1e-4 (2 of 20000 particles); an independent seed gives ~0.2
  }
  SUBCASE("a file h5py writes with its defaults (no metadata checksums), 1D") {
    if (std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0) {
      testing::report_skip("h5py-written samples: /usr/bin/python3 with h5py and numpy not found");
      return;
    }
    write_file(d / "w.py",
               "import h5py, numpy as np\nx = -2 + (np.arange(64) + 0.5) * 4 / 64\n"
               "with h5py.File('h.h5', 'w') as f:\n    d = f.create_dataset('landscape/f', data=(x**2 - 1)**2 + 0.3*x)\n"
               "    d.attrs['lower'] = [-2.0]\n    d.attrs['upper'] = [2]\n");
    REQUIRE(std::system(("cd " + d.string() + " && /usr/bin/python3 w.py").c_str()) == 0);
    const std::string grid = "[grid]\nn = [64]\nlower = [-2]\nupper = [2]\nboundary = \"reflecting\"\n";
    const std::string rest =
        "[schedule]\nT = 0.4\n[initial]\ncenter = [1]\nwidth = [0.3]\n[fokker_planck]\ndt = 0.01\nt_end = 0.5\n[output]\nevery = 50\n";
    write_file(d / "a.toml", grid + "[objective]\nname = \"double_well\"\nc = 0.3\n" + rest);
    write_file(d / "b.toml",
               grid + "[objective]\nname = \"sampled\"\nfile = \"h.h5\"\ndataset = \"landscape/f\"\nminima = [[-1.04], [0.96]]\n" + rest);
    REQUIRE(run_cli("run a.toml -q -o a.h5", d).code == 0);
    const auto rb = run_cli("run b.toml -q -o b.h5", d);
    CAPTURE(rb.err);
    REQUIRE(rb.code == 0);
    const double diff = relative_max_difference(io::read_snapshot((d / "a.h5").string(), 50).fields.at("rho"),
                                                io::read_snapshot((d / "b.h5").string(), 50).fields.at("rho"));
    CHECK(diff <= 1e-12);  // relative: numpy's f and the built-in's differ in the last bit at most
  }
  fs::remove_all(d);
}

TEST_CASE("bad sampled objectives and output keys exit 2 naming the key, the file and both grids") {
  const auto d = testing::scratch_dir("sampled_bad");
  std::vector<double> v(32 * 32, 1.0);
  write_samples(d / "f.h5", v, {32, 32}, {-2, -2}, {2, 2});
  write_samples(d / "small.h5", std::vector<double>(16 * 16, 1.0), {16, 16}, {-2, -2}, {2, 2});
  v[33] = NAN;
  write_samples(d / "nan.h5", v, {32, 32}, {-2, -2}, {2, 2});
  io::write_file_atomically((d / "plain.h5").string(), [](const io::Group& root) {
    root.write_dataset("f", std::vector<double>(32 * 32, 1.0), {32, 32});  // no grid attributes
    root.create_group("g");
  });
  std::string base = kFp2d;
  base.erase(base.find("c = 0.3\n"), 8);  // a built-in without parameters, so that --set objective.name=sampled is all it takes
  write_file(d / "good.toml", base + "[fokker_planck]\ndt = 0.01\nt_end = 0.02\n[output]\npath = \"out.h5\"\n");
  REQUIRE(run_cli("run good.toml -q", d).code == 0);
  const std::string before = read_file(d / "out.h5");
  const std::string sampled = "--set objective.name=sampled ";
  struct Case {
    std::string args, fragments[2];
  };
  const std::vector<Case> cases{
      {sampled, {"objective.file", "missing or empty"}},
      {sampled + "--set objective.file=none.h5", {"objective.file", "none.h5"}},
      {sampled + "--set objective.file=good.toml", {"objective.file", "good.toml"}},  // not HDF5
      {sampled + "--set objective.file=f.h5 --set objective.dataset=g2", {"objective.file", "no such dataset"}},
      {sampled + "--set objective.file=plain.h5 --set objective.dataset=g", {"objective.file", "a group, not a dataset"}},
      {sampled + "--set objective.file=plain.h5", {"objective.file", "no grid attributes"}},
      {sampled + "--set objective.file=small.h5", {"is sampled on n = [16, 16], box [-2, 2] x [-2, 2]", "the run's grid, n = [32, 32]"}},
      {sampled + "--set objective.file=f.h5 --set grid.upper=[2,3]", {"objective.file", "box [-2, 2] x [-2, 3]"}},
      {sampled + "--set objective.file=nan.h5", {"objective.file", "nan.h5:/f = nan at x = (-1.8125, -1.8125)"}},
      {sampled + "--set objective.file=f.h5 --set objective.c=0.3", {"objective.c", "file, dataset and minima only"}},
      {sampled + "--set objective.file=f.h5 --set objective.minima=[[0,9]]", {"objective.minima", "inside the domain"}},
      {sampled + "--set objective.file=f.h5 --set objective.dataset=''", {"objective.dataset", "the path of a dataset"}},
      {"--set objective.file=f.h5", {"objective.file", "absent unless objective.name = \"sampled\""}},
      {"--set output.diagnostics_every=0", {"output.diagnostics_every", ">= 1"}},
      {"--set output.diagnostics_every=1.5", {"output.diagnostics_every", "integer"}},
  };
  for (const auto& c : cases) {
    const auto r = run_cli("run good.toml -q -o out.h5 " + c.args, d);
    CAPTURE(c.args);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    for (const auto& f : c.fragments) CHECK(r.err.find(f) != std::string::npos);
    CHECK(read_file(d / "out.h5") == before);
  }
  MESSAGE(cases.size() << " bad inputs, each exit 2 with the key named");
  fs::remove_all(d);
}

TEST_CASE("fokker_planck.tolerance: snapshots land on the nominal times, the controller is recorded, a stopped run resumes bit for bit") {
  const auto d = testing::scratch_dir("fp_tolerance");
  const std::string text =
      "[grid]\nn = [128, 128]\nlower = [-2, -2]\nupper = [2, 2]\nboundary = \"reflecting\"\n"
      "[objective]\nname = \"double_well\"\nc = 0.3\n[schedule]\nT = 0.4\n[initial]\ncenter = [0.96, 0.96]\nwidth = [0.3, 0.3]\n"
      "[fokker_planck]\nscheme = \"extrapolated_euler\"\ndt = 0.01\nt_end = 5.0\ntolerance = 1e-4\n[output]\nevery = 100\n";
  const auto c = scenario::parse_config(text);
  scenario::RunOptions whole;
  whole.output = (d / "whole.h5").string();
  REQUIRE(scenario::run(c, whole).status == scenario::RunOutcome::Status::completed);
  const auto w = io::read_diagnostics(whole.output);
  REQUIRE(w.iteration == std::vector<std::int64_t>{0, 100, 200, 300, 400, 500});
  for (std::size_t r = 0; r < w.iteration.size(); ++r) CHECK(w.time[r] == static_cast<double>(w.iteration[r]) * 0.01);  // exactly
  const auto& accepted = w.series.at("steps_accepted");
  MESSAGE("accepted steps at the snapshots: " << accepted[1] << " " << accepted[2] << " " << accepted[5] << ", rejected "
                                              << w.series.at("steps_rejected")[5] << ", last dt " << w.series.at("dt_last")[5]);
  CHECK(accepted[5] > accepted[1]);
  CHECK(w.series.at("dt_last")[5] <= 0.01);
  CHECK(std::abs(w.series.at("mass")[5] - 1) <= 1e-13);  // absolute: mass exact to round-off

  // a run stopped at its second stop check (128² points: a check every few hundred steps), then
  // restarted: the controller's state comes back with the density, so every row and the final
  // density equal the uninterrupted run's
  scenario::RunOptions part;
  part.output = (d / "part.h5").string();
  int calls = 0;
  part.stop_requested = [&] { return ++calls == 2 ? 2 : 0; };
  const auto stopped = scenario::run(c, part);
  REQUIRE(stopped.status == scenario::RunOutcome::Status::stopped);
  REQUIRE(stopped.step < 500);
  scenario::RunOptions resume;
  resume.restart = part.output;
  REQUIRE(scenario::run(c, resume).status == scenario::RunOutcome::Status::completed);
  const auto a = io::read_snapshot(whole.output, 500), b = io::read_snapshot(part.output, 500);
  CHECK(a.fields.at("rho") == b.fields.at("rho"));
  const auto p = io::read_diagnostics(part.output);
  for (const char* name : {"steps_accepted", "dt_next", "mass"}) CHECK(p.series.at(name).back() == w.series.at(name).back());
  fs::remove_all(d);
}

TEST_CASE("schrodinger.tolerance: snapshots land on the nominal times, the controller is recorded, a stopped run resumes bit for bit") {
  const auto d = testing::scratch_dir("ss_tolerance");
  // the 2D coherent state on a small grid, chin4 under error control: a whole period in 8
  // nominal chunks of dt, stopped at the second stop check and resumed
  const std::string text =
      "[grid]\nn = [64, 64]\nlower = [-8, -8]\nupper = [8, 8]\n"
      "[objective]\nname = \"harmonic\"\n[schedule]\nT = 0.5\n[initial]\ncenter = [2.0, 0.0]\nwidth = [0.7071067811865476, 0.7071067811865476]\n"
      "[schrodinger]\npotential = \"objective\"\nscheme = \"chin4\"\ndt = 0.25\nt_end = 2.0\ntolerance = 1e-7\nfft_planning = \"estimate\"\n"
      "[output]\nevery = 1\n";
  const auto c = scenario::parse_config(text);
  scenario::RunOptions whole;
  whole.output = (d / "whole.h5").string();
  REQUIRE(scenario::run(c, whole).status == scenario::RunOutcome::Status::completed);
  const auto w = io::read_diagnostics(whole.output);
  REQUIRE(w.iteration.size() == 9);
  for (std::size_t r = 0; r < w.iteration.size(); ++r) CHECK(w.time[r] == static_cast<double>(w.iteration[r]) * 0.25);  // exactly
  const auto& accepted = w.series.at("steps_accepted");
  MESSAGE("accepted steps: " << accepted[1] << " .. " << accepted[8] << ", rejected " << w.series.at("steps_rejected")[8] << ", last dt "
                             << w.series.at("dt_last")[8]);
  CHECK(accepted[8] > 8);  // the tolerance asks for steps below dt
  CHECK(std::abs(w.series.at("norm")[8] - 1) <= 1e-12);  // absolute: unitary up to round-off

  scenario::RunOptions part;
  part.output = (d / "part.h5").string();
  int calls = 0;
  part.stop_requested = [&] { return ++calls == 2 ? 2 : 0; };
  const auto stopped = scenario::run(c, part);
  REQUIRE(stopped.status == scenario::RunOutcome::Status::stopped);
  REQUIRE(stopped.step < 8);
  scenario::RunOptions resume;
  resume.restart = part.output;
  REQUIRE(scenario::run(c, resume).status == scenario::RunOutcome::Status::completed);
  const auto a = io::read_snapshot(whole.output, 8), b = io::read_snapshot(part.output, 8);
  CHECK(a.fields.at("psi/re") == b.fields.at("psi/re"));
  CHECK(a.fields.at("psi/im") == b.fields.at("psi/im"));
  const auto p = io::read_diagnostics(part.output);
  for (const char* name : {"steps_accepted", "dt_next", "energy"}) CHECK(p.series.at(name).back() == w.series.at(name).back());
  fs::remove_all(d);
}
