// The qtzflow command line as a user runs it: exit codes, messages, crash safety, restarts.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../check.hpp"
#include "../test_support.hpp"
#include "io/hdf5.hpp"
#include "io/snapshot.hpp"
#include "potentials/objective.hpp"

using namespace qtzflow;
namespace fs = std::filesystem;
extern char** environ;

namespace {

fs::path scratch(const char* name) { return testing::scratch_dir(std::string("cli_") + name); }

using testing::read_file;
using testing::run_cli;
using testing::write_file;

/// Starts qtzflow in the background; returns its pid.
pid_t spawn(const std::vector<std::string>& args, const fs::path& dir) {
  std::vector<std::string> all{QTZFLOW_CLI};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addchdir_np(&fa, dir.c_str());
  posix_spawn_file_actions_addopen(&fa, 2, (dir / "stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  REQUIRE(posix_spawn(&pid, QTZFLOW_CLI, &fa, nullptr, argv.data(), environ) == 0);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

/// A small real-time run: 1D double well, `steps` steps, a snapshot every `every`.
std::string small_config(int n, long steps, long every, const char* mode = "real", const char* scheme = "yoshida4") {
  std::ostringstream c;
  c << "[grid]\nn = [" << n << ", " << n << "]\nlower = [-2.5, -2.5]\nupper = [2.5, 2.5]\n"
    << "[objective]\nname = \"double_well\"\nc = 0.3\n[schedule]\nT = 0.5\n"
    << "[initial]\ncenter = [0.96, 0.96]\nwidth = [0.16, 0.16]\nrelax_time = 0.1\n"
    << "[schrodinger]\nmode = \"" << mode << "\"\nscheme = \"" << scheme << "\"\ndt = 0.01\nt_end = " << 0.01 * static_cast<double>(steps) << "\n"
    << "[output]\npath = \"out.h5\"\nevery = " << every << "\n";
  return c.str();
}

}  // namespace

TEST_CASE("qtzflow info and --help exit 0, an unknown option exits 2") {
  const auto d = scratch("info");
  CHECK(run_cli("info", d).code == 0);
  CHECK(run_cli("--help", d).code == 0);
  CHECK(run_cli("run --help", d).code == 0);
  CHECK(run_cli("run --frobnicate", d).code == 2);
  CHECK(run_cli("", d).code == 2);  // a subcommand is required
  // info --objectives lists every built-in, and docs/objectives.md documents the same ones
  const auto objs = run_cli("info --objectives", d);
  CHECK(objs.code == 0);
  const std::string docs = read_file(fs::path(QTZFLOW_SOURCE_DIR) / "docs" / "objectives.md");
  for (const auto& o : potentials::objective_catalog()) {
    CAPTURE(o.name);
    CHECK(objs.out.find("| " + o.name + " | " + o.formula + " |") != std::string::npos);
    CHECK(docs.find("| `" + o.name + "` |") != std::string::npos);
  }
  CHECK(objs.out.find("| expression |") != std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("bad configurations exit 2 naming the key, and never touch an existing output") {
  const auto d = scratch("bad");
  // a good run first: its output must survive every bad run below byte for byte
  write_file(d / "good.toml", small_config(32, 4, 2));
  REQUIRE(run_cli("run good.toml -q", d).code == 0);
  const std::string before = read_file(d / "out.h5");
  REQUIRE(!before.empty());
  const std::string base = small_config(32, 4, 2);
  struct Case {
    std::string config;  // TOML text ("" = use base)
    std::string args;    // extra arguments
    std::string key;     // expected in the message
  };
  const std::vector<Case> cases{
      {base + "[foo]\na = 1\n", "", "foo"},
      {"", "--set grid.nn=[4,4]", "grid.nn"},
      {"", "--set grid.n=[1,32]", "grid.n"},
      {"", "--set grid.n=[100000,100000]", "grid.n"},  // 1e10 points: refused before allocating (was std::bad_alloc)
      {"", "--set grid.n='32'", "grid.n"},
      {"", "--set grid.lower=[-1,-1,-1]", "grid.lower"},
      {"", "--set grid.upper=[-3,2.5]", "grid.upper"},
      {"", "--set grid.boundary=open", "grid.boundary"},
      {"", "--set grid.boundary=reflecting", "grid.boundary"},
      {"", "--set objective.name=rastrign", "objective.name"},
      {"", "--set objective.foo=1", "objective.foo"},
      {"", "--set objective.name=washboard", "dimension"},
      {"", "--set schedule.T=-1", "schedule.T"},
      {"", "--set schedule.kind=linear", "schedule.kind"},
      {"", "--set schedule.gamma=1.5", "schedule.gamma"},
      {"", "--set schrodinger.dt=0", "schrodinger.dt"},
      {"", "--set schrodinger.dt=nan", "schrodinger.dt"},
      {"", "--set schrodinger.mode=complex", "schrodinger.mode"},
      {"", "--set schrodinger.mode=imaginary", "schrodinger.scheme"},
      {"", "--set output.every=0", "output.every"},
      {"", "--set initial.width=[0.1]", "initial.width"},
      {"", "--set initial.center=[9,0]", "initial.center"},
      {"", "--set initial.kind=file", "initial.kind"},
      {base + "[fokker_planck]\n", "", "fokker_planck"},  // two engine sections
      {base + "[fokker_planck]\ndt = -1\n", "", "fokker_planck"},
      {base + "[particles]\ncount = 1\n", "", "particles"},
      {"[grid\nn = 3\n", "", "config"},
      {"", "--set nodot=1", "--set"},
      {"", "missing.toml", "CONFIG"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string name = "bad" + std::to_string(i++) + ".toml";
    write_file(d / name, c.config.empty() ? base : c.config);
    const std::string file = c.args == "missing.toml" ? "missing.toml" : name;
    const auto r = run_cli("run " + file + " -q -o out.h5 " + (c.args == "missing.toml" ? "" : c.args), d);
    CAPTURE(c.key);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(c.key) != std::string::npos);
    CHECK(r.err.find("terminate") == std::string::npos);  // a message, never a crash
    CHECK(read_file(d / "out.h5") == before);
  }
  MESSAGE(cases.size() << " bad inputs, each exit 2 with the key named");
  fs::remove_all(d);
}

TEST_CASE("the built-in default scenario runs and writes a valid output") {
  const auto d = scratch("default");
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_cli("run", d);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(r.code == 0);
  MESSAGE("the default scenario took " << secs << " s (whole process; a benchmark, not a check)");
  CHECK(r.err.find("qtzflow_default.h5") != std::string::npos);  // says where it went
  REQUIRE(fs::exists(d / "qtzflow_default.h5"));
  CHECK(!fs::exists(d / "qtzflow_default.h5.parts"));
  CHECK(io::snapshot_iterations((d / "qtzflow_default.h5").string()).size() == 41);
  testing::check_h5py_layout(d / "qtzflow_default.h5", "--xdmf --expect-snapshots 41");
  fs::remove_all(d);
}

TEST_CASE("NaN/Inf in a field stops the run naming the step, the last good snapshot stays") {
  const auto d = scratch("nan");
  // witten potential of Rastrigin at T = 0.5: V_T = -Δf/2 ≈ -198 at the minima, so
  // exp(-V dt) overflows in the first imaginary-time step with dt = 5
  write_file(d / "blow.toml",
             "[grid]\nn = [32, 32]\nlower = [-2.5, -2.5]\nupper = [2.5, 2.5]\n[objective]\nname = \"rastrigin\"\n"
             "[schedule]\nT = 0.5\n[schrodinger]\nmode = \"imaginary\"\ndt = 5\nt_end = 20\n[output]\npath = \"out.h5\"\nevery = 1\n");
  const auto r = run_cli("run blow.toml -q", d);
  CAPTURE(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("step 1") != std::string::npos);
  CHECK(r.err.find("out.h5") != std::string::npos);
  CHECK(io::snapshot_iterations((d / "out.h5").string()) == std::vector<std::int64_t>{0});
  testing::check_h5py_layout(d / "out.h5", "--expect-snapshots 1");
  fs::remove_all(d);
}

TEST_CASE("a restart from a snapshot gives bit-identical fields") {
  const auto d = scratch("restart");
  for (const char* mode : {"real", "imaginary"}) {
    CAPTURE(mode);
    write_file(d / "full.toml", small_config(48, 60, 10, mode, std::string(mode) == "real" ? "yoshida4" : "strang"));
    REQUIRE(run_cli("run full.toml -q -o a.h5", d).code == 0);
    // the same run stopped at step 30, then continued with the full config
    REQUIRE(run_cli("run full.toml -q -o b.h5 --set schrodinger.t_end=0.3", d).code == 0);
    REQUIRE(io::snapshot_iterations((d / "b.h5").string()).back() == 30);
    CHECK(run_cli("run full.toml -q --restart b.h5 -o other.h5", d).code == 2);  // a restart continues its own file
    // without the cache, the restart still plans with the wisdom stored in b.h5
    const auto r = run_cli("--no-wisdom-cache run full.toml -q --restart b.h5", d);
    CHECK(r.code == 0);
    const auto a = io::read_snapshot((d / "a.h5").string(), 60), b = io::read_snapshot((d / "b.h5").string(), 60);
    CHECK(a.time == b.time);
    CHECK(a.fields == b.fields);  // every value, bit for bit
    CHECK(io::snapshot_iterations((d / "b.h5").string()) == io::snapshot_iterations((d / "a.h5").string()));
  }
  fs::remove_all(d);
}

TEST_CASE("measured FFT plans come from the wisdom cache: reruns are bit-identical, --no-wisdom-cache writes none") {
  const auto d = scratch("wisdom");
  write_file(d / "s.toml", small_config(64, 20, 10));
  const fs::path cache = d / "cache";
  auto run_with_cache = [&](const std::string& args) {
    const std::string cmd = "cd " + d.string() + " && QTZFLOW_WISDOM_DIR=" + cache.string() + " " QTZFLOW_CLI " " + args + " 2>/dev/null";
    return std::system(cmd.c_str());
  };
  REQUIRE(run_with_cache("run s.toml -q -o a.h5") == 0);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(cache)) files.push_back(e.path());
  CHECK(files.size() == 2);  // 64x64: the real-time c2c transform and the relaxation's r2c, one file each
  REQUIRE(run_with_cache("run s.toml -q -o b.h5") == 0);
  const auto a = io::read_snapshot((d / "a.h5").string(), 20), b = io::read_snapshot((d / "b.h5").string(), 20);
  CHECK(a.fields == b.fields);  // the second run read the first one's plans: bit for bit
  fs::remove_all(cache);
  REQUIRE(run_with_cache("--no-wisdom-cache run s.toml -q -o c.h5") == 0);
  CHECK(!fs::exists(cache));
  REQUIRE(run_with_cache("run s.toml -q -o e.h5 --set schrodinger.fft_planning=\"estimate\"") == 0);
  CHECK(!fs::exists(cache));  // estimate plans are not timed: nothing to keep
  const auto c = io::read_snapshot((d / "c.h5").string(), 20), e = io::read_snapshot((d / "e.h5").string(), 20);
  // other plans round differently, but only in the last bits: relative 1e-12 of the largest value
  double scale = 0, diff = 0;
  for (std::size_t i = 0; i < a.fields.at("psi/re").size(); ++i) {
    scale = std::max(scale, std::abs(a.fields.at("psi/re")[i]));
    diff = std::max(
        {diff, std::abs(a.fields.at("psi/re")[i] - c.fields.at("psi/re")[i]), std::abs(a.fields.at("psi/re")[i] - e.fields.at("psi/re")[i])});
  }
  CHECK(diff <= 1e-12 * scale);
  fs::remove_all(d);
}

TEST_CASE("a real-time run starts from the normalised wavefunction sqrt(rho0)") {
  const auto d = scratch("normalised");
  const std::string example = std::string(QTZFLOW_SOURCE_DIR) + "/examples/coherent_state.toml";
  REQUIRE(run_cli("run " + example + " -q -o c.h5 --set schrodinger.dt=0.01 --set schrodinger.t_end=0.1 --set output.every=5", d).code == 0);
  const auto s0 = io::read_snapshot((d / "c.h5").string(), 0), s5 = io::read_snapshot((d / "c.h5").string(), 5);
  CHECK_ABS(s0.diagnostics.at("norm"), 1.0, 1e-14);  // absolute: round-off of one sum over 256^2 cells
  CHECK_ABS(s5.diagnostics.at("norm"), 1.0, 1e-13);  // unitary steps keep it
  // |ψ|² is stored beside re and im (the same products, bit for bit), and listed in the XDMF
  const auto& re = s5.fields.at("psi/re");
  const auto& im = s5.fields.at("psi/im");
  const auto& a2 = s5.fields.at("psi_abs2");
  REQUIRE(a2.size() == re.size());
  bool same = true;
  for (std::size_t i = 0; i < re.size(); ++i) same = same && a2[i] == re[i] * re[i] + im[i] * im[i];
  CHECK(same);
  CHECK(read_file(d / "c.xdmf").find("<Attribute Name=\"psi_abs2\"") != std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("Fokker-Planck runs: mass kept, restart bit-identical") {
  const auto d = scratch("fp");
  const std::string cfg =
      "[grid]\nn = [48, 48]\nlower = [-2, -2]\nupper = [2, 2]\nboundary = \"reflecting\"\n[objective]\nname = \"double_well\"\nc = 0.3\n"
      "[schedule]\nkind = \"logarithmic\"\nc = 1.0\n[initial]\ncenter = [0.96, 0.96]\nwidth = [0.2, 0.2]\n"
      "[fokker_planck]\ndt = 0.01\nt_end = 0.6\n[output]\npath = \"out.h5\"\nevery = 10\n";
  write_file(d / "fp.toml", cfg);
  REQUIRE(run_cli("run fp.toml -q -o a.h5", d).code == 0);
  REQUIRE(run_cli("run fp.toml -q -o b.h5 --set fokker_planck.t_end=0.3", d).code == 0);
  REQUIRE(run_cli("run fp.toml -q --restart b.h5", d).code == 0);
  const auto a = io::read_snapshot((d / "a.h5").string(), 60), b = io::read_snapshot((d / "b.h5").string(), 60);
  CHECK(a.fields == b.fields);
  double mass = 0;
  for (double v : a.fields.at("rho")) mass += v;
  CHECK_ABS(mass * (4.0 / 48) * (4.0 / 48), 1.0, 2e-13);  // absolute: round-off over 48² cells
  // absorbing walls, second-order scheme: the restarted run continues the outflow count
  const std::string absorbing = " --set grid.boundary=\"absorbing\" --set fokker_planck.scheme=\"extrapolated_euler\" --set schedule.c=3";
  REQUIRE(run_cli("run fp.toml -q -o c.h5" + absorbing, d).code == 0);
  REQUIRE(run_cli("run fp.toml -q -o e.h5 --set fokker_planck.t_end=0.3" + absorbing, d).code == 0);
  REQUIRE(run_cli("run fp.toml -q --restart e.h5" + absorbing, d).code == 0);
  const auto c = io::read_snapshot((d / "c.h5").string(), 60), e = io::read_snapshot((d / "e.h5").string(), 60);
  CHECK(c.fields == e.fields);
  CHECK(c.diagnostics.at("outflow") > 1e-3);
  CHECK_ABS(c.diagnostics.at("outflow"), e.diagnostics.at("outflow"), 2e-14);     // absolute: the restart repeats the sums
  CHECK_ABS(e.diagnostics.at("mass") + e.diagnostics.at("outflow"), 1.0, 2e-13);  // absolute: mass + outflow conserved to round-off
  // a Schrödinger output cannot restart a Fokker-Planck run
  write_file(d / "s.toml", small_config(48, 20, 10));
  REQUIRE(run_cli("run s.toml -q -o s.h5", d).code == 0);
  const auto r = run_cli("run fp.toml -q --restart s.h5", d);
  CHECK(r.code == 2);
  CHECK(r.err.find("[schrodinger]") == std::string::npos);  // the message names the sections that differ
  CHECK(r.err.find("schrodinger: (present) -> (absent)") != std::string::npos);
  testing::check_h5py_layout(d / "a.h5", "--xdmf --expect-snapshots 7");
  fs::remove_all(d);
}

TEST_CASE("SIGKILL at any moment leaves a readable file with every finished snapshot, SIGTERM stops cleanly") {
  const auto d = scratch("kill");
  // 128² real time, a snapshot every 2 steps: many writes, so the kill lands mid-run
  write_file(d / "long.toml", small_config(128, 100000, 2));
  for (int sig : {SIGKILL, SIGTERM}) {
    CAPTURE(sig);
    fs::remove_all(d / "out.h5");
    fs::remove_all(d / "out.h5.parts");
    const pid_t pid = spawn({"run", "long.toml", "-q"}, d);
    std::size_t seen = 0;
    for (int k = 0; k < 600 && seen < 3; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (fs::exists(d / "out.h5")) seen = io::snapshot_iterations((d / "out.h5").string()).size();
    }
    REQUIRE(seen >= 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(37));  // somewhere inside a write, likely
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    if (sig == SIGTERM) {
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 128 + SIGTERM);
      CHECK(!fs::exists(d / "out.h5.parts"));  // consolidated after the final snapshot
    }
    const auto its = io::snapshot_iterations((d / "out.h5").string());
    CHECK(its.size() >= 3);
    const auto last = io::read_snapshot((d / "out.h5").string(), its.back());
    double norm = 0;
    for (std::size_t i = 0; i < last.fields.at("psi/re").size(); ++i)
      norm += last.fields.at("psi/re")[i] * last.fields.at("psi/re")[i] + last.fields.at("psi/im")[i] * last.fields.at("psi/im")[i];
    CHECK_ABS(norm * (5.0 / 128) * (5.0 / 128), 1.0, 2e-9);  // absolute
    testing::check_h5py_layout(d / "out.h5");
  }
  fs::remove_all(d);
}

TEST_CASE("particle runs: histogram snapshots, positions, restart bit-identical, agreement with Fokker-Planck") {
  const auto d = scratch("particles");
  const std::string cfg =
      "[grid]\nn = [32, 32]\nlower = [-2, -2]\nupper = [2, 2]\nboundary = \"reflecting\"\n[objective]\nname = \"double_well\"\nc = 0.3\n"
      "[schedule]\nT = 0.6\n[initial]\ncenter = [0.96, 0.96]\nwidth = [0.2, 0.2]\n"
      "[particles]\ncount = 40000\ndt = 0.002\nt_end = 0.4\n[output]\npath = \"out.h5\"\nevery = 50\n";
  write_file(d / "p.toml", cfg);
  REQUIRE(run_cli("run p.toml -q -o a.h5", d).code == 0);
  REQUIRE(run_cli("run p.toml -q -o b.h5 --set particles.t_end=0.2", d).code == 0);
  REQUIRE(run_cli("run p.toml -q --restart b.h5", d).code == 0);
  const auto a = io::read_snapshot((d / "a.h5").string(), 200), b = io::read_snapshot((d / "b.h5").string(), 200);
  CHECK(a.fields == b.fields);
  CHECK(a.particles == b.particles);
  REQUIRE(a.particles.at("ensemble/position/y").size() == 40000);
  double mass = 0;
  for (double v : a.fields.at("particles_hist")) mass += v;
  CHECK_ABS(mass * (4.0 / 32) * (4.0 / 32), 1.0, 2e-12);  // absolute: a histogram of M particles sums to 1
  // the same scenario with the FP engine: mass per basin agrees within the sampling
  // error (binomial, sqrt(p(1-p)/M) = 2e-3 for M = 4e4) plus the time-step biases (~1e-3)
  const std::string engine = "[particles]\ncount = 40000\n";
  write_file(d / "f.toml", std::string(cfg).replace(cfg.find(engine), engine.size(), "[fokker_planck]\nscheme = \"extrapolated_euler\"\n"));
  REQUIRE(run_cli("run f.toml -q -o f.h5", d).code == 0);
  const auto f = io::read_snapshot((d / "f.h5").string(), 200);
  const double pa = a.diagnostics.at("mass_basin_3"), pf = f.diagnostics.at("mass_basin_3");
  MESSAGE("mass left in the starting (shallowest) basin at t = 0.4: particles " << pa << ", Fokker-Planck " << pf);
  CHECK(pf < 0.9);  // the escape has begun
  CHECK(std::abs(pa - pf) < 0.012);
  CHECK(std::abs(a.diagnostics.at("mean_x") - f.diagnostics.at("mean_x")) < 0.02);
  // dithered QTZ moves run too, and report their acceptance rate
  REQUIRE(run_cli("run p.toml -q -o q.h5 --set particles.algorithm=qtz-dither --set particles.count=2000", d).code == 0);
  const auto q = io::read_snapshot((d / "q.h5").string(), 200);
  CHECK(q.diagnostics.at("acceptance") > 0.05);
  // bad input: named keys, exit 2
  for (const auto& [set, key] : {std::pair{"particles.count=0", "particles.count"}, std::pair{"particles.algorithm=sa", "particles.algorithm"},
                                 std::pair{"grid.boundary=absorbing", "grid.boundary"}, std::pair{"particles.delta=-1", "particles.delta"},
                                 std::pair{"particles.count=1000000000000", "particles.count"}}) {
    const auto r = run_cli(std::string("run p.toml -q -o bad.h5 --set ") + set, d);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(key) != std::string::npos);
  }
  testing::check_h5py_layout(d / "a.h5", "--xdmf --expect-snapshots 5");
  fs::remove_all(d);
}

TEST_CASE("outputs never replace the run's input, a directory or a special file") {
  const auto d = scratch("replace");
  const std::string cfg = small_config(32, 4, 2);
  write_file(d / "cfg.toml", cfg);
  fs::create_directory(d / "adir");
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0644) == 0);  // a special file; never /dev/... in a test
  for (const auto& [args, key] :
       std::vector<std::pair<std::string, std::string>>{{"run cfg.toml -q -o cfg.toml", "-o"},
                                                        {"run cfg.toml -q -o y.xdmf", "-o"},
                                                        {"run cfg.toml -q -o adir", "-o"},
                                                        {"run cfg.toml -q -o fifo", "-o"},
                                                        {"run cfg.toml -q --set output.path=fifo", "output.path"},
                                                        {"optimize --objective salomon --runs 2 --budget 10 -o fifo", "-o"},
                                                        {"optimize --objective salomon --runs 2 --budget 10 -o adir", "-o"}}) {
    const auto r = run_cli(args, d);
    CAPTURE(args);
    CAPTURE(r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(key) != std::string::npos);
  }
  CHECK(read_file(d / "cfg.toml") == cfg);  // the input is untouched
  CHECK(fs::is_directory(d / "adir"));
  CHECK(fs::is_fifo(d / "fifo"));
  CHECK(!fs::exists(d / "y.xdmf"));
  fs::remove_all(d);
}

TEST_CASE("--threads beyond 64 per core is bad input, named") {
  const auto d = scratch("threads");
  const auto r = run_cli("--threads 100000 info", d);
  CAPTURE(r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("--threads") != std::string::npos);
  CHECK(run_cli("--threads 2 info", d).code == 0);
  fs::remove_all(d);
}

TEST_CASE("qtzflow optimize: table, JSON, HDF5 results, same seed same numbers, bad input exit 2") {
  const auto d = scratch("optimize");
  const std::string tsp = QTZFLOW_SOURCE_DIR "/data/tsp/random100.tsp";
  auto r = run_cli("optimize --tsp " + tsp + " --unrounded --algorithm qtz --runs 8 --budget 20000 -o res.h5", d);
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("| qtz |") != std::string::npos);
  CHECK(r.out.find("2159.28") != std::string::npos);  // the nearest-neighbour start of the file's COMMENT
  {
    io::File f = io::File::open_read((d / "res.h5").string());
    CHECK(f.root().open_group("optimize").open_dataset("best").read_doubles().size() == 8);
    CHECK(f.root().read_string_attribute("algorithm") == "qtz");
  }
  const auto j1 = run_cli("--threads 1 optimize --objective salomon --lower -6 --upper 6 --algorithm sa --runs 6 --budget 3000 --json", d);
  const auto j2 = run_cli("--threads 2 optimize --objective salomon --lower -6 --upper 6 --algorithm sa --runs 6 --budget 3000 --json", d);
  REQUIRE(j1.code == 0);
  CHECK(j1.out.find("\"success_rate\"") != std::string::npos);
  auto results = [](const std::string& s) { return s.substr(s.find("\"results\"")); };
  CHECK(results(j1.out) == results(j2.out));
  const int py = std::system(("cd " + d.string() +
                              " && " QTZFLOW_CLI " optimize --objective rastrigin --dim 2 --runs 3 --json | /usr/bin/python3 -c "
                              "'import json,sys; j=json.load(sys.stdin); sys.exit(0 if len(j[\"results\"])==3 else 1)' 2>/dev/null")
                                 .c_str());
  if (WIFEXITED(py) && WEXITSTATUS(py) == 127)
    testing::report_skip("JSON check: /usr/bin/python3 not found");
  else
    CHECK((WIFEXITED(py) && WEXITSTATUS(py) == 0));  // valid JSON
  write_file(d / "bad.tsp", "NAME: bad\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 zz\n3 0 1\nEOF\n");
  // a declared size that cannot fit is refused at its line, before anything is allocated
  write_file(d / "huge.tsp",
             "NAME: huge\nTYPE: TSP\nDIMENSION: 1000000000\nEDGE_WEIGHT_TYPE: EXPLICIT\nEDGE_WEIGHT_FORMAT: FULL_MATRIX\n"
             "EDGE_WEIGHT_SECTION\n0 1 1 0\nEOF\n");
  const std::string before = read_file(d / "res.h5");
  for (const auto& [args, key] : std::vector<std::pair<std::string, std::string>>{{"--tsp bad.tsp -o res.h5", "bad.tsp:7"},
                                                                                  {"--tsp missing.tsp", "--tsp"},
                                                                                  {"--tsp huge.tsp", "huge.tsp:3"},
                                                                                  {"--objective salomon --runs 100000000000", "--runs"},
                                                                                  {"--objective rastrign", "objective.name"},
                                                                                  {"--objective salomon --algorithm annealing", "--algorithm"},
                                                                                  {"--objective salomon --algorithm pimc", "--algorithm"},
                                                                                  {"--tsp " + tsp + " --algorithm langevin", "--algorithm"},
                                                                                  {"--objective salomon --budget 0", "--budget"},
                                                                                  {"--objective salomon --dim 2 --lower 1,2,3", "--lower"},
                                                                                  {"--objective salomon --h-schedule fixed", "--qp"},
                                                                                  // flags the algorithm leaves unused: refused, never ignored
                                                                                  {"--objective salomon --delta 0.2", "--delta: not used by qtz without local"},
                                                                                  {"--objective salomon --qp 4", "--qp: not used by qtz unless"},
                                                                                  {"--objective salomon --algorithm sa --h-schedule fixed", "--h-schedule: not used by sa"},
                                                                                  {"--objective salomon --T 0.3", "--T/--schedule: not used by qtz"},
                                                                                  {"--objective salomon --algorithm langevin --local", "--local: not used by langevin"},
                                                                                  {"--objective salomon --algorithm qtz-local --sa-T0 5", "--sa-T0: not used by qtz-local"},
                                                                                  {"", "--objective/--expression/--tsp"}}) {
    const auto b = run_cli("optimize " + args, d);
    CAPTURE(args);
    CAPTURE(b.err);
    CHECK(b.code == 2);
    CHECK(b.err.find(key) != std::string::npos);
  }
  CHECK(read_file(d / "res.h5") == before);  // a failed run leaves earlier results alone
  fs::remove_all(d);
}

TEST_CASE("qtzflow verify: one experiment, its HDF5 and a JSON summary, bad options exit 2") {
  const auto d = scratch("verify");
  const auto r = run_cli("verify --quick --only v3 -q -o vout", d);
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("| v3_spectral_gap |") != std::string::npos);
  CHECK(fs::exists(d / "vout" / "v3_spectral_gap.h5"));
  CHECK_FALSE(fs::exists(d / "vout" / "v1_witten.h5"));
  {
    io::File f = io::File::open_read((d / "vout" / "v3_spectral_gap.h5").string());
    CHECK(f.root().open_dataset("phi0").read_doubles().size() == 256);
  }
  // the JSON parses and every check carries measured, expected, tolerance, pass and why
  const int py =
      std::system(("cd " + d.string() +
                   " && /usr/bin/python3 -c 'import json; j=json.load(open(\"vout/summary.json\")); "
                   "c=j[\"checks\"]; import sys; sys.exit(0 if len(c)==3 and all(x[\"pass\"] and x[\"why\"] for x in c) else 1)' 2>/dev/null")
                      .c_str());
  CHECK(WIFEXITED(py));
  CHECK(WEXITSTATUS(py) == 0);
  const auto bad = run_cli("verify --only v99", d);
  CHECK(bad.code == 2);
  CHECK(bad.err.find("--only") != std::string::npos);
  write_file(d / "afile", "keep me");
  const auto clash = run_cli("verify --quick --only v3 -o afile", d);
  CHECK(clash.code == 2);
  CHECK(read_file(d / "afile") == "keep me");
  fs::remove_all(d);
}

TEST_CASE("an expression objective equal to a built-in gives the same outputs in all three engines (1e-8 relative)") {
  // Fields differ only through ∇f and Δf (order-8 differences, measured <= 1.6e-11 and 1.4e-9
  // relative, tests/unit/test_expression.cpp); the particles see f itself, so their histograms
  // are bit-identical unless a comparison falls within rounding of a tie.
  const auto d = scratch("expression");
  const std::string grid = "[grid]\nn = [40, 40]\nlower = [-2, -2]\nupper = [2, 2]\nboundary = \"reflecting\"\n";
  const std::string builtin = "[objective]\nname = \"double_well\"\nc = 0.3\n";
  const std::string expression = "[objective]\nname = \"expression\"\nf = \"(x^2-1)^2 + c*x + (y^2-1)^2 + c*y\"\nc = 0.3\n";
  const std::string rest = "[schedule]\nkind = \"logarithmic\"\nc = 1.0\n[initial]\ncenter = [0.96, 0.96]\nwidth = [0.2, 0.2]\n";
  const std::vector<std::pair<std::string, std::string>> engines{
      {"fokker_planck", "[fokker_planck]\ndt = 0.01\nt_end = 0.3\n[output]\nevery = 30\n"},
      {"schrodinger", "[schrodinger]\nmode = \"imaginary\"\ndt = 0.002\nt_end = 0.2\n[output]\nevery = 100\n"},
      {"particles", "[particles]\nalgorithm = \"qtz-dither\"\ncount = 4000\ndt = 0.01\nt_end = 0.3\n[output]\nevery = 30\n"}};
  for (const auto& [engine, section] : engines) {
    CAPTURE(engine);
    const std::string bg = engine == "schrodinger" ? "[grid]\nn = [40, 40]\nlower = [-2.5, -2.5]\nupper = [2.5, 2.5]\n" : grid;
    write_file(d / "a.toml", bg + builtin + rest + section);
    write_file(d / "b.toml", bg + expression + rest + section);
    REQUIRE(run_cli("run a.toml -q -o a.h5", d).code == 0);
    const auto rb = run_cli("run b.toml -q -o b.h5", d);
    CAPTURE(rb.err);
    REQUIRE(rb.code == 0);
    const long last = engine == "schrodinger" ? 100 : 30;
    const auto a = io::read_snapshot((d / "a.h5").string(), last), b = io::read_snapshot((d / "b.h5").string(), last);
    REQUIRE(a.fields.size() == b.fields.size());
    for (const auto& [name, fa] : a.fields) {
      CAPTURE(name);
      CHECK(testing::relative_max_difference(fa, b.fields.at(name)) <= 1e-8);  // relative to the field's largest value
    }
  }
  // bad expressions exit 2 naming objective.f, with the column
  write_file(d / "bad.toml", grid + "[objective]\nname = \"expression\"\nf = \"(x^2-1)^2 + q*x\"\n" + rest + engines[0].second);
  const auto bad = run_cli("run bad.toml -q -o bad.h5", d);
  CHECK(bad.code == 2);
  CHECK(bad.err.find("objective.f") != std::string::npos);
  CHECK(bad.err.find("unknown name \"q\" at column 13") != std::string::npos);
  CHECK_FALSE(fs::exists(d / "bad.h5"));
  write_file(d / "bad2.toml", grid + "[objective]\nname = \"double_well\"\nf = \"x\"\n" + rest + engines[0].second);
  CHECK(run_cli("run bad2.toml -q -o bad.h5", d).err.find("objective.f") != std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("qtzflow spectrum: a table, JSON and HDF5 of lambda_k and E_k, bad options exit 2") {
  const auto d = scratch("spectrum");
  write_file(d / "s.toml",
             "[fokker_planck]\n[grid]\nn = [200]\nlower = [-2.5]\nupper = [2.5]\nboundary = \"reflecting\"\n"
             "[objective]\nname = \"double_well\"\n[schedule]\nT = 0.5\n");
  const auto r = run_cli("spectrum s.toml --T 0.5,0.4 -k 3 -o sp.h5", d);
  CAPTURE(r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("| 0.4 | 2 |") != std::string::npos);
  {
    io::File f = io::File::open_read((d / "sp.h5").string());
    CHECK(f.root().open_group("spectrum").open_dataset("lambda_fokker_planck").read_doubles().size() == 6);
    CHECK(f.root().open_group("spectrum").open_dataset("E_witten").read_doubles().size() == 6);
  }
  // progress on stderr, one line per engine and temperature (issue 26: 69 s without a word)
  CHECK(r.err.find("qtzflow spectrum: T = 0.4: H_T by imaginary-time deflation, 3 states on 200 points at dt = 0.001, then 5e-04") !=
        std::string::npos);
  CHECK(r.err.find("qtzflow spectrum: T = 0.5: Fokker-Planck generator, 3 eigenvalues on 200 points") != std::string::npos);
  CHECK(r.err.find("can take minutes") == std::string::npos);  // 200 points: no warning
  const auto j = run_cli("spectrum s.toml -k 2 --only fokker_planck --json -q", d);
  CHECK(j.code == 0);
  CHECK(j.out.find("\"E\": []") != std::string::npos);
  CHECK(j.err.empty());  // -q: nothing on stderr
  // only the engines asked for are announced (the warning's text: tests/unit/test_spectrum.cpp)
  write_file(d / "big.toml", "[fokker_planck]\n[grid]\nn = [64, 64]\nlower = [-2.5, -2.5]\nupper = [2.5, 2.5]\nboundary = \"reflecting\"\n"
                            "[objective]\nname = \"double_well\"\n[schedule]\nT = 0.5\n");
  const auto w = run_cli("spectrum big.toml -k 2 --only fokker_planck", d);
  CHECK(w.code == 0);
  CHECK(w.err.find("H_T") == std::string::npos);  // not asked for: not announced
  for (const auto& [args, key] : std::vector<std::pair<std::string, std::string>>{{"spectrum s.toml -k 1", "-k"},
                                                                                  {"spectrum s.toml --T -1", "--T"},
                                                                                  {"spectrum s.toml --only x", "--only"},
                                                                                  {"spectrum s.toml --dt 0", "--dt"},
                                                                                  {"spectrum missing.toml", "missing.toml"},
                                                                                  {"spectrum s.toml -o sp.h5/x", "-o"}}) {
    CAPTURE(args);
    const auto b = run_cli(args, d);
    CHECK(b.code == 2);
    CHECK(b.err.find(key) != std::string::npos);
  }
  fs::remove_all(d);
}

TEST_CASE("qtzflow optimize tells the truth: iterations used, why runs stopped, the gap, warnings, SA's T0 and cooling, QTZ's eta") {
  const auto d = scratch("optimize_truth");
  const std::string tsp = std::string(QTZFLOW_SOURCE_DIR) + "/data/tsp/random10.tsp";
  // QTZ on 10 cities: ties are accepted, h reaches 1023 long before a budget of 10^6
  const auto q = run_cli("optimize --tsp " + tsp + " --runs 4 --budget 1000000 --json", d);
  REQUIRE(q.code == 0);
  CHECK(q.out.find("\"stopped_by\": \"h = 1023: 4\"") != std::string::npos);
  CHECK(q.err.find("warning: the budget went unused") != std::string::npos);
  CHECK(q.out.find("\"gap\": ") != std::string::npos);
  // the authors' SA stops by its rule, T < 0.1/budget: with T0 = 1000 and cooling 0.999, after
  // as many iterations as this loop counts
  const auto s = run_cli("optimize --objective washboard --algorithm sa --runs 2 --budget 100000 --sa-cooling 0.999 --json", d);
  REQUIRE(s.code == 0);
  long n = 0;
  for (double T = 1000; T >= 0.1 / 100000; T *= 0.999) ++n;
  CHECK(s.out.find("\"mean_iterations\": " + std::to_string(n)) != std::string::npos);
  CHECK(s.out.find("SA stop rule: 2") != std::string::npos);
  // a cooler start changes the run: fewer iterations
  const auto s2 = run_cli("optimize --objective washboard --algorithm sa --runs 2 --budget 100000 --sa-cooling 0.999 --sa-T0 10 --json", d);
  CHECK(s2.out.find("\"mean_iterations\": " + std::to_string(n)) == std::string::npos);
  // QTZ's eta: a coarser start quantizes differently, so the runs differ
  const auto e1 = run_cli("optimize --objective washboard --runs 2 --budget 5000 --json", d);
  const auto e2 = run_cli("optimize --objective washboard --runs 2 --budget 5000 --eta 0.001 --json", d);
  CHECK(e1.code == 0);
  CHECK(e2.code == 0);
  CHECK(e1.out != e2.out);
  for (const auto& [args, key] :
       std::vector<std::pair<std::string, std::string>>{{"--objective washboard --algorithm sa --sa-cooling 1", "--sa-cooling"},
                                                        {"--objective washboard --algorithm sa --sa-T0 0", "--sa-T0"},
                                                        {"--objective washboard --eta -1", "--eta"}}) {
    CAPTURE(args);
    const auto b = run_cli("optimize " + args, d);
    CHECK(b.code == 2);
    CHECK(b.err.find(key) != std::string::npos);
  }
  fs::remove_all(d);
}

TEST_CASE("the cell Peclet warning looks at the whole schedule, where the density is") {
  // T(0) = 1 is resolved on 64 cells; the paper's law cools to T = 2^-10 by t = 20, where the
  // thermal width sqrt(T/f'') is below the spacing 1/16: the warning names that time
  const auto d = scratch("peclet");
  write_file(d / "p.toml",
             "[fokker_planck]\ndt = 0.01\nt_end = 20\n[grid]\nn = [64]\nlower = [-2]\nupper = [2]\nboundary = \"reflecting\"\n"
             "[objective]\nname = \"double_well\"\nc = 0.3\n[schedule]\nkind = \"paper\"\ntau = 2\n[output]\nevery = 1000\n");
  const auto cold = run_cli("run p.toml -o a.h5", d);
  CHECK(cold.code == 0);
  CHECK(cold.err.find("cell Peclet number") != std::string::npos);
  CHECK(cold.err.find("at t = 1") != std::string::npos);  // late in the run (t = 18.125), not at t = 0
  const auto warm = run_cli("run p.toml -o b.h5 --set fokker_planck.t_end=1", d);
  CHECK(warm.code == 0);
  CHECK(warm.err.find("Peclet") == std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("output.particle_positions = false: histograms only, smaller files, and a restart refused naming the key") {
  const auto d = scratch("no_positions");
  write_file(d / "p.toml",
             "[grid]\nn = [32]\nlower = [-2]\nupper = [2]\nboundary = \"reflecting\"\n[objective]\nname = \"double_well\"\nc = 0.3\n"
             "[schedule]\nT = 0.6\n[particles]\ncount = 20000\ndt = 0.01\nt_end = 0.2\n[output]\nevery = 10\n");
  REQUIRE(run_cli("run p.toml -q -o with.h5", d).code == 0);
  REQUIRE(run_cli("run p.toml -q -o without.h5 --set output.particle_positions=false", d).code == 0);
  const auto a = io::read_snapshot((d / "with.h5").string(), 20), b = io::read_snapshot((d / "without.h5").string(), 20);
  CHECK(a.fields == b.fields);  // the same run: only the positions are left out
  CHECK_FALSE(a.particles.empty());
  CHECK(b.particles.empty());
  CHECK(fs::file_size(d / "without.h5") < fs::file_size(d / "with.h5") / 4);  // 3 snapshots x 20000 positions gone
  const auto r = run_cli("run p.toml -q --restart without.h5 --set output.particle_positions=false", d);
  CHECK(r.code == 2);
  CHECK(r.err.find("output.particle_positions") != std::string::npos);
  CHECK(run_cli("run p.toml -q -o x.h5 --set output.particle_positions=1", d).err.find("output.particle_positions") != std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("the CEC suites and studies from the CLI: bad input exits 2 naming the key, nothing written") {
  const auto d = testing::scratch_dir("cli_cec");
  if (run_cli("optimize --objective cec2014:1 --dim 10 --runs 1 --budget 10", d).code != 0) {
    testing::report_skip("this build has no CEC suites (pagmo2)");
    return;
  }
  struct Case {
    std::string args, says;
  };
  const Case cases[] = {
      {"optimize --objective cec2014:31 --dim 10", "objective.function = 31"},
      {"optimize --objective cec2014:5 --dim 7", "--dim = 7: must be one of 2, 10, 20, 30, 50, 100"},
      {"optimize --objective cec2014:17 --dim 2", "at least 10 for cec2014 function 17"},
      {"optimize --objective cec2099:5 --dim 10", "unknown objective"},
      {"optimize --objective cec2014:x --dim 10", "cec2014:N"},
      {"optimize --objective cec2014 --dim 10", "objective.function = missing"},
      {"optimize --objective cec2014:1 --dim 10 --algorithm cmaes --population 3", "--population = 3"},
      {"optimize --objective cec2014:1 --dim 10 --algorithm qtz --population 30", "--population"},
      {"study s.toml -o out.h5", "study.algorithms"},
      {"study zero.toml -o out.h5", "study.runs"},
      {"study missing.toml -o out.h5", "study_file"},
  };
  testing::write_file(d / "s.toml", "[study]\nfunctions = [1]\nalgorithms = [\"qtz\", \"simplex\"]\n");
  testing::write_file(d / "zero.toml", "[study]\nfunctions = [1]\nruns = 0\n");
  for (const auto& c : cases) {
    CAPTURE(c.args);
    const auto q = run_cli(c.args, d);
    CHECK(q.code == 2);
    CHECK(q.err.find(c.says) != std::string::npos);
    CAPTURE(q.err);
  }
  CHECK(!std::filesystem::exists(d / "out.h5"));
  CHECK(!std::filesystem::exists(d / "out.h5.partial"));
  CHECK(!std::filesystem::exists(d / "out.json"));
  std::filesystem::remove_all(d);
}
