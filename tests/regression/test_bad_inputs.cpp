// Every bad input reported against qtzflow 0.1 (tests/data/bad_inputs/README.md) and every case
// the fuzzers found: each must end in exit code 2 (core::InvalidArgument in-process) with the key
// or file:line named, leave nothing behind, and never crash, hang or exit 0 with a wrong result.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "../fuzz/hdf5_surgery.hpp"
#include "../test_support.hpp"
#include "core/error.hpp"
#include "io/hdf5.hpp"
#include "io/snapshot.hpp"
#include "io/tsplib.hpp"
#include "scenario/config.hpp"
#include "scenario/run.hpp"

using namespace qtzflow;
namespace fs = std::filesystem;
namespace surgery = qtzflow::testing::surgery;

namespace {

const fs::path kInputs = fs::path(QTZFLOW_SOURCE_DIR) / "tests" / "data" / "bad_inputs";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Cli {
  int code;
  std::string err;
};

/// `qtzflow ARGS` run in `dir`; -1 when it did not exit normally (a signal).
Cli cli(const std::string& args, const fs::path& dir) {
  const std::string cmd = "cd " + dir.string() + " && timeout 60 " QTZFLOW_CLI " " + args + " > /dev/null 2> stderr.txt";
  const int status = std::system(cmd.c_str());
  Cli r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir / "stderr.txt")};
  fs::remove(dir / "stderr.txt");
  return r;
}

std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

/// A small valid output of `config` (a file of tests/data/bad_inputs) at dir/name.
scenario::RunConfig make_output(const std::string& config, const fs::path& file) {
  auto c = scenario::load_config((kInputs / config).string());
  scenario::RunOptions o;
  o.output = file.string();
  REQUIRE(scenario::run(c, o).status == scenario::RunOutcome::Status::completed);
  return c;
}

/// Restarting `file` with `c` must be refused, naming the restart and containing `fragment`.
void require_refused(const scenario::RunConfig& c, const fs::path& file, const std::string& fragment) {
  scenario::RunOptions o;
  o.restart = file.string();
  try {
    scenario::run(c, o);
    FAIL("restart of " << file << " accepted; expected a refusal containing '" << fragment << "'");
  } catch (const core::InvalidArgument& e) {
    INFO(std::string(e.what()));
    CHECK(e.key() == "restart");
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
    CHECK(std::string(e.what()).size() < 2000);  // bounded, whatever the file held
  }
}

}  // namespace

TEST_CASE("every reported bad input exits 2 naming the key or file:line, and leaves nothing behind") {
  const auto d = testing::scratch_dir("bad_inputs");
  const std::string in = kInputs.string() + "/";
  std::string brackets(10000, '[');
  struct Case {
    std::string args, fragment;
  };
  const std::vector<Case> cases{
      {"run " + in + "01_grid_n_overflow_segv.toml -o o.h5 -q", "grid.n"},
      {"run " + in + "02_toml_deep_array_segv.toml -o o.h5 -q", "02_toml_deep_array_segv.toml:3: arrays or inline tables nested deeper"},
      {"run " + in + "fp2d_small.toml --set 'grid.n=" + brackets + "' -o o.h5 -q", "nested deeper than 32"},
      {"optimize --tsp " + in + "03_tsp_dim_2pow32_explicit_segv.tsp --runs 2 --budget 1000", "03_tsp_dim_2pow32_explicit_segv.tsp:3"},
      {"--threads 100000 optimize --tsp " + in + "../../../data/tsp/random10.tsp --runs 4 --budget 1000", "--threads"},
      {"run " + in + "08_toml_nested_tables_40s.toml -o o.h5 -q", "08_toml_nested_tables_40s.toml:3"},
      {"run /dev/zero -o o.h5 -q", "a regular TOML file (not a directory, pipe or device)"},
      {"run " + in + "10a_grid_too_large_badalloc.toml -o o.h5 -q", "grid.n"},
      {"run " + in + "11_particles_count_badalloc.toml -o o.h5 -q", "particles.count"},
      {"optimize --tsp " + in + "12a_tsp_dim_typo_badalloc.tsp --runs 2 --budget 1000", "12a_tsp_dim_typo_badalloc.tsp:3"},
      {"optimize --tsp " + in + "12b_tsp_dim_1e9_allocates_17GB.tsp --runs 2 --budget 1000", "12b_tsp_dim_1e9_allocates_17GB.tsp:3"},
      {"optimize --tsp " + in + "../../../data/tsp/random10.tsp --runs 1000000000000 --budget 1000", "--runs"},
      {"run " + in + "14_step_count_overflow_one_step.toml -o o.h5 -q", "fokker_planck.t_end"},
      {"optimize --tsp " + in + "16_tsp_nonfinite_coords_exit0.tsp --json", "16_tsp_nonfinite_coords_exit0.tsp:6"},
      {"optimize --objective rastrigin --dim 2 --lower -inf --upper inf", "must be finite"},
      {"run " + in + "18_schrodinger_zero_state_exit0.toml -o o.h5 -q", "initial.width"},
      {"run " + in + "19_toml_float_overflow_clamped.toml --print-config", "schedule.T = 1e400"},
      {"run " + in + "fp2d_small.toml --set schedule.T=1e-400 --print-config", "schedule.T = 1e-400"},
      {"run " + in + "fp2d_small.toml --set particles.seed=99999999999999999999 --print-config", "particles.seed"},
      {"run " + in + "fp2d_small.toml -o d -q", "-o = d: must be a regular file"},
      {"run " + in + "fp2d_small.toml -o . -q", "-o = .: must be a regular file"},
      {"run " + in + "fp2d_small.toml -o missing/x.h5 -q", "existing folder"},
      {"run " + in + "fp2d_small.toml -o y.xdmf -q", "not ending in .xdmf"},
      {"optimize --objective rastrigin --dim 2 --seed -1 --runs 2", "--seed: must be an integer in [0, 18446744073709551615]"},
      {"optimize --objective rastrigin --dim 2 --seed 1e23 --runs 2", "--seed: must be an integer in [0, 18446744073709551615]"},
      {"optimize --tsp " + in + "../../../data/tsp/random10.tsp --optimum inf --runs 2", "--optimum"},
      // error-controlled steps (issue 30)
      {"run " + in + "fp2d_small.toml --set fokker_planck.tolerance=1e-4 -o o.h5 -q", "must be 0 with scheme = \"backward_euler\" (error control needs scheme = \"extrapolated_euler\")"},
      {"run " + in + "fp2d_small.toml --set fokker_planck.scheme='\"extrapolated_euler\"' --set fokker_planck.tolerance=-1 -o o.h5 -q",
       "fokker_planck.tolerance = -1"},
      {"run " + in + "fp2d_small.toml --set fokker_planck.scheme='\"extrapolated_euler\"' --set fokker_planck.tolerance=nan -o o.h5 -q",
       "fokker_planck.tolerance"},
      {"run " + in + "fp2d_small.toml --set fokker_planck.scheme='\"extrapolated_euler\"' --set fokker_planck.tolerance=1e-4 --set fokker_planck.dt_min=1 -o o.h5 -q",
       "fokker_planck.dt_min = 1: must be <= dt"},
      {"run " + in + "fp2d_small.toml --set fokker_planck.dt_min=1e-6 -o o.h5 -q", "fokker_planck.dt_min"},
      {"run " + in + "../../../examples/coherent_state.toml --set schrodinger.tolerance=-1e-6 -o o.h5 -q", "schrodinger.tolerance = -1e-06"},
      {"run " + in + "../../../examples/coherent_state.toml --set schrodinger.tolerance=inf -o o.h5 -q", "schrodinger.tolerance"},
      {"run " + in + "../../../examples/coherent_state.toml --set schrodinger.tolerance=1e-6 --set schrodinger.dt_min=1 -o o.h5 -q",
       "schrodinger.dt_min = 1: must be <= dt"},
      {"run " + in + "../../../examples/coherent_state.toml --set schrodinger.dt_min=1e-6 -o o.h5 -q", "schrodinger.dt_min"},
      {"run " + in + "../../../examples/coherent_state.toml --set schrodinger.mode='\"imaginary\"' --set schrodinger.scheme='\"emb43\"' -o o.h5 -q",
       "schrodinger.scheme"},
      // TSPLIB files and the neighbour-list algorithms (issue 28)
      {"optimize --tsp " + in + "20_tsp_duplicate_node.tsp --runs 2", "20_tsp_duplicate_node.tsp:8 = node 2: must be each of 1..4 once"},
      {"optimize --tsp " + in + "21_tsp_missing_node.tsp --runs 2", "21_tsp_missing_node.tsp:10"},
      {"optimize --tsp " + in + "22_tsp_more_nodes_than_dimension.tsp --runs 2", "22_tsp_more_nodes_than_dimension.tsp:9"},
      {"optimize --tsp " + in + "23_tsp_coordinate_out_of_range.tsp --runs 2", "23_tsp_coordinate_out_of_range.tsp:7"},
      {"optimize --tsp " + in + "../../../data/tsplib/eil51.tsp --algorithm ils --neighbours 51 --runs 1", "--neighbours = 51: must be 1 … 50"},
      {"optimize --tsp " + in + "../../../data/tsplib/eil51.tsp --algorithm qtz-nl --budget 0 --runs 1", "--budget = 0"},
      {"optimize --tsp " + in + "../../../data/tsplib/eil51.tsp --algorithm qtz --neighbours 5 --runs 1", "--neighbours: not used by qtz"},
      {"optimize --tsp " + in + "../../../data/tsplib/eil51.tsp --algorithm sa --local --runs 1", "--local = on: must be off for a TSP instance"},
      {"optimize --objective rastrigin --dim 2 --algorithm ils --runs 1", "--algorithm = ils: must be a TSP instance"},
      // the expression objective (issue 15)
      {"run " + in + "fp2d_small.toml --set 'objective.name=\"expression\"' --set 'objective.f=\"(x^2-1)^2 + q*x\"' -o o.h5 -q",
       "objective.f = unknown name \"q\" at column 13"},
      {"run " + in + "fp2d_small.toml --set 'objective.name=\"expression\"' --set 'objective.f=\"x^2 + *y\"' -o o.h5 -q", "objective.f"},
      {"run " + in + "fp2d_small.toml --set 'objective.name=\"expression\"' -o o.h5 -q", "objective.f = missing or empty"},
      {"run " + in + "fp2d_small.toml --set 'objective.name=\"expression\"' --set 'objective.f=\"ln(x + 1.5)\"' -o o.h5 -q", "objective.f"},
      {"run " + in + "fp2d_small.toml --set 'objective.f=\"x\"' -o o.h5 -q", "objective.f"},
      {"run " + in + "fp2d_small.toml --set 'objective.name=\"expression\"' --set 'objective.f=\"x*y\"' --set 'objective.domain=[[0, 1]]' -o o.h5 -q",
       "objective.domain"},
      {"run " + in + "fp2d_small.toml --set 'objective.name=\"expression\"' --set 'objective.f=\"x*y\"' --set 'objective.minima=[[9, 9]]' -o o.h5 -q",
       "objective.minima"},
      {"optimize --expression 'x^2' --runs 2", "--lower"},
      {"optimize --expression 'x^2 +' --lower=-1 --upper 1 --runs 2", "--expression"},
      {"optimize --expression 'x^2' --lower=-1 --upper 1 --minimum 2 --runs 2", "--minimum"},
      {"optimize --expression 'x^2' --objective rastrigin --lower=-1 --upper 1 --runs 2", "--expression"},
  };
  fs::create_directories(d / "d");
  for (const auto& c : cases) {
    INFO(c.args);
    const auto before = listing(d);
    const Cli r = cli(c.args, d);
    CHECK(r.code == 2);
    INFO(r.err);
    CHECK(r.err.find(c.fragment) != std::string::npos);
    CHECK(r.err.size() < 2000);
    CHECK(listing(d) == before);  // no output, no X.tmp, no X.parts/, no folder made
  }
  // the output names that are inputs of the run
  fs::copy_file(kInputs / "fp2d_small.toml", d / "cfg.toml");
  fs::copy_file(kInputs / "../../../data/tsp/random10.tsp", d / "f.tsp");
  const std::string cfg_before = slurp(d / "cfg.toml"), tsp_before = slurp(d / "f.tsp");
  CHECK(cli("run cfg.toml -o cfg.toml -q", d).code == 2);
  CHECK(cli("optimize --tsp f.tsp -o f.tsp --runs 2 --budget 100", d).code == 2);
  CHECK(slurp(d / "cfg.toml") == cfg_before);
  CHECK(slurp(d / "f.tsp") == tsp_before);
  fs::remove_all(d);
}

TEST_CASE("restart files of qtzflow 0.1 and files without metadata checksums are refused, not trusted") {
  const auto d = testing::scratch_dir("bad_restart_v01");
  // The 0.1 reproducers: a 100-value time attribute (read into one double, it overwrote the
  // stack), a deleted mesh, byte flips that crashed libhdf5 in its global heap, NaN time,
  // a non-numeric iteration, short diagnostics, a truncation, a changed dt and T.  Each is
  // now refused at the first check: the file's format carries no checksums.
  struct Case {
    const char *file, *config;
  };
  for (const auto& c :
       {Case{"04_restart_time_attr_array_stack_overflow.h5", "fp2d_small.toml"}, Case{"05_restart_empty_first_meshes_segv.h5", "fp2d_small.toml"},
        Case{"06a_restart_byteflip_segv_fp2d.h5", "fp2d_small.toml"}, Case{"06b_restart_byteflip_segv_dw1d.h5", "dw1d_small.toml"},
        Case{"06c_restart_byteflip_abort_part2d.h5", "part2d_small.toml"}, Case{"22_restart_time_nan_exit0.h5", "fp2d_small.toml"},
        Case{"23a_restart_nonnumeric_group_stoll.h5", "fp2d_small.toml"}, Case{"23b_restart_short_diagnostics_range_check.h5", "fp2d_small.toml"},
        Case{"23c_restart_truncated_exit1.h5", "fp2d_small.toml"}, Case{"fp2d_half_good.h5", "fp2d_small.toml"}}) {
    INFO(c.file);
    fs::copy_file(kInputs / c.file, d / "out.h5", fs::copy_options::overwrite_existing);
    fs::permissions(d / "out.h5", fs::perms::owner_write, fs::perm_options::add);
    const std::string before = slurp(d / "out.h5");
    const Cli r = cli("run " + (kInputs / c.config).string() + " --restart out.h5 -q", d);
    CHECK(r.code == 2);
    CHECK(r.err.find("--restart") != std::string::npos);
    CHECK(r.err.find("without metadata checksums") != std::string::npos);
    CHECK(slurp(d / "out.h5") == before);  // the refused file is left as it was
  }
  fs::remove_all(d);
}

TEST_CASE("a damaged restart file is refused naming what is wrong: each 0.1 reproducer in today's format") {
  const auto d = testing::scratch_dir("bad_restart");
  const fs::path good = d / "good.h5", f = d / "f.h5";
  const auto c = make_output("fp2d_small.toml", good);  // snapshots at 0, 5, 10
  auto fresh = [&] {
    fs::copy_file(good, f, fs::copy_options::overwrite_existing);
    return f.string();
  };
  SUBCASE("time attribute of 100 values (was: read into one double, stack overwritten)") {
    REQUIRE(surgery::set_attribute_doubles(fresh(), "/data/10", "time", 100, 0.05));
    require_refused(c, f, "f.h5:/data/10/time holds 100 float value(s)");
  }
  SUBCASE("the first snapshot's only mesh deleted (was: front() of an empty list)") {
    REQUIRE(surgery::delete_link(fresh(), "/data/0/meshes/rho"));
    require_refused(c, f, "/data/0/meshes holds no mesh");
  }
  SUBCASE("NaN time (was: accepted, exit 0)") {
    REQUIRE(surgery::set_attribute_doubles(fresh(), "/data/10", "time", 0, NAN));
    require_refused(c, f, "attribute time = nan");
  }
  SUBCASE("a non-numeric iteration group (was: std::stoll, exit 1)") {
    REQUIRE(surgery::move_link(fresh(), "/data/5", "/data/abc"));
    require_refused(c, f, "/data/abc is not an iteration number");
  }
  SUBCASE("a diagnostics series shorter than the snapshots (was: _M_range_check, exit 1)") {
    REQUIRE(surgery::replace_dataset(fresh(), "/diagnostics/mass", {1}, 1.0));
    require_refused(c, f, "/diagnostics/mass holds 1 values for 3 rows");
  }
  SUBCASE("a diagnostics series declared 2^30 long: refused before it is allocated") {
    REQUIRE(surgery::replace_dataset(fresh(), "/diagnostics/mass", {std::uint64_t(1) << 30}, 1.0));
    require_refused(c, f, "holds 1073741824 values for 3 rows");
  }
  SUBCASE("a variable-length string attribute (HDF5's unchecksummed global heap)") {
    REQUIRE(surgery::set_attribute_string(fresh(), "/", "config", c.text, true));
    require_refused(c, f, "variable-length string");
  }
  SUBCASE("a field holding NaN") {
    REQUIRE(surgery::fill_dataset(fresh(), "/data/10/meshes/rho", NAN));
    require_refused(c, f, "field rho is finite");
  }
  SUBCASE("a field of zeros (found by the fuzzer: it was refused under the key 'initial density')") {
    REQUIRE(surgery::fill_dataset(fresh(), "/data/10/meshes/rho", 0.0));
    require_refused(c, f, "last snapshot is a valid state");
  }
  SUBCASE("a field of another shape") {
    REQUIRE(surgery::replace_dataset(fresh(), "/data/10/meshes/rho", {16, 16}, 1.0));
    require_refused(c, f, "not of the mesh's shape");
  }
  SUBCASE("a deleted diagnostics series: refused before any step, not at the next snapshot") {
    REQUIRE(surgery::delete_link(fresh(), "/diagnostics/free_energy"));
    require_refused(c, f, "/diagnostics hold the series this run writes");
  }
  SUBCASE("truncated to half (was: exit 1 with HDF5's text)") {
    surgery::truncate(fresh(), surgery::file_size(good.string()) / 2);
    require_refused(c, f, "damaged or not one");
  }
  SUBCASE("byte flips anywhere: refused or, in raw data, a finite state; never a crash") {
    // every 401st byte flipped in turn: the checksums catch the metadata, the value checks the data
    const auto size = surgery::file_size(good.string());
    int refused = 0, accepted = 0;
    for (std::uint64_t at = 0; at < size; at += 401) {
      surgery::flip_byte(fresh(), at, 0x10);
      scenario::RunOptions o;
      o.restart = f.string();
      try {
        scenario::run(c, o);
        ++accepted;
      } catch (const core::InvalidArgument& e) {
        CHECK(e.key() == "restart");
        ++refused;
      }
    }
    MESSAGE(refused << " flips refused, " << accepted << " accepted (in raw data or padding)");
    // measured: 43 of 188 flips refused (metadata, checksummed), 145 accepted (raw field data,
    // alignment padding).  The claim is that every outcome is one of the two, never a crash.
    CHECK(refused + accepted == static_cast<int>((size + 400) / 401));
    CHECK(refused >= 20);
  }
  fs::remove_all(d);
}

TEST_CASE("a restart continues the same run: a changed dt, T or seed is refused, a new t_end is recorded") {
  const auto d = testing::scratch_dir("restart_config");
  const fs::path good = d / "good.h5", f = d / "f.h5";
  const auto c = make_output("fp2d_small.toml", good);
  auto fresh = [&] { fs::copy_file(good, f, fs::copy_options::overwrite_existing); };
  // (was: a restart with T = 5 and dt = 0.001 ran on past t_end and kept "T = 0.5" in the file)
  for (const auto& [set, key] : std::vector<std::pair<std::string, std::string>>{{"schedule.T=5", "schedule.T: 0.5 -> 5"},
                                                                                 {"fokker_planck.dt=0.001", "fokker_planck.dt: 0.01 -> 0.001"},
                                                                                 {"grid.boundary=\"periodic\"", "grid.boundary"},
                                                                                 {"output.every=2", "output.every: 5 -> 2"}}) {
    INFO(set);
    fresh();
    require_refused(scenario::parse_config(c.text, {set}), f, key);
  }
  const auto p = make_output("part2d_small.toml", d / "p.h5");
  require_refused(scenario::parse_config(p.text, {"particles.seed=2"}), d / "p.h5", "particles.seed: 1 -> 2");

  fresh();
  scenario::RunOptions o;
  o.restart = f.string();
  const auto longer = scenario::parse_config(c.text, {"fokker_planck.t_end=0.2"});
  const auto out = scenario::run(longer, o);
  CHECK(out.step == 20);
  io::File file = io::File::open_read(f.string());
  CHECK(file.root().read_string_attribute("restartHistory") == "restart at iteration 10: fokker_planck.t_end: 0.1 -> 0.2");
  CHECK(file.root().read_string_attribute("config") == longer.text);
  fs::remove_all(d);
}

TEST_CASE("configuration text the TOML parser must never see: deep nesting, huge files, out-of-range numbers") {
  using doctest::Contains;
  const std::string base = slurp(kInputs / "fp2d_small.toml");
  CHECK_THROWS_WITH_AS(scenario::parse_config("a = " + std::string(33, '[') + std::string(33, ']')), Contains("config:1: arrays or inline tables"),
                       core::InvalidArgument);
  CHECK_NOTHROW(scenario::parse_config(base + "\n# " + std::string(100, '[') + "\n"));                // inside a comment: harmless
  CHECK_NOTHROW(scenario::parse_config(base, {"objective.name=\"" + std::string(100, '{') + "\""}));  // inside a string: harmless
  CHECK_THROWS_WITH_AS(scenario::parse_config("[grid]\n" + std::string(2 << 20, '#')), Contains("more than 1 MiB"), core::InvalidArgument);
  std::string dotted = "a";
  for (int i = 0; i < 40; ++i) dotted += ".a";
  CHECK_THROWS_WITH_AS(scenario::parse_config(dotted + " = 1"), Contains("dotted key"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(scenario::parse_config(base, {"schedule.T=1e400"}), Contains("schedule.T = 1e400"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(scenario::parse_config(base, {"schedule.T=-1e-400"}), Contains("schedule.T = -1e-400"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(scenario::parse_config(base, {"grid.n=[99999999999999999999, 4]"}), Contains("grid.n"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(scenario::parse_config(base, {"output.every=99999999999999999999"}), Contains("output.every"), core::InvalidArgument);
  CHECK(scenario::parse_config(base, {"schedule.T=2.5e-308"}).schedule.T == 2.5e-308);  // the smallest normal numbers are fine
}

TEST_CASE("TSPLIB numbers are finite and small enough for finite distances, at FILE:LINE") {
  using doctest::Contains;
  const std::string head = "NAME: t\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nNODE_COORD_SECTION\n";
  CHECK_THROWS_WITH_AS(io::parse_tsplib(head + "1 0 0\n2 1 1\n3 nan 0\nEOF\n", "t.tsp"), Contains("t.tsp:8"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(io::parse_tsplib(head + "1 0 0\n2 1e308 1\n3 0 0\nEOF\n", "t.tsp"), Contains("t.tsp:7"), core::InvalidArgument);
  CHECK_THROWS_WITH_AS(io::parse_tsplib(head + "1 0 0\n2 1 1\n3 inf 0\nEOF\n", "t.tsp"), Contains("at most 1e150"), core::InvalidArgument);
  const auto ok = io::parse_tsplib(head + "1 0 0\n2 3 4\n3 1e150 0\nEOF\n", "t.tsp");
  CHECK(std::isfinite(ok.tour_length(ok.nearest_neighbour_tour(0))));
}

TEST_CASE("messages name the key once, the key that chose the input, and the real reason (issue 26)") {
  const auto d = testing::scratch_dir("messages");
  const std::string in = kInputs.string() + "/";
  // a sampled objective whose samples are finite but too large for derivatives: 1e200 on 16 x 16
  REQUIRE(surgery::write_sampled((d / "huge.h5").string(), surgery::SampledLayout::contiguous_checksummed, std::vector<double>(256, 1e200),
                                 {16, 16}, {-2.0, -2.0}, {2.0, 2.0}, ""));
  std::ofstream(d / "badconst.toml") << "[grid]\nn = [16]\nlower = [-2.0]\nupper = [2.0]\n[objective]\nname = \"expression\"\nf = \"x\"\n"
                                        "\"1abc\" = 2.0\n[fokker_planck]\ndt = 0.01\nt_end = 0.1\n";
  const std::string sampled = "run " + in + "fp2d_small.toml --set 'grid.n=[16, 16]' --set 'grid.lower=[-2.0, -2.0]' --set 'grid.upper=[2.0, 2.0]' "
                              "--set 'objective.name=\"sampled\"' --set 'objective.file=\"huge.h5\"' -o o.h5 -q";
  struct Case {
    std::string args;
    std::vector<std::string> fragments, absent;
  };
  const std::vector<Case> cases{
      // the probe's 21: sampled values too large (was key "potential", "singular points")
      {sampled, {"objective.file = ", "huge.h5:f", "too large for its derivatives"}, {"potential", "singular"}},
      // an invalid constant name (was "objective." with the name lost)
      {"run badconst.toml -o o.h5 -q", {"objective.1abc", "invalid constant name"}, {"objective.:"}},
      // a dimension beyond the limit (was "must be >= 1")
      {"optimize --objective rastrigin --dim 1000000000 --runs 2 --budget 10", {"--dim = 1000000000", "2^20"}, {">= 1 for"}},
      // an empty temperature (was read as 0)
      {"spectrum " + in + "fp2d_small.toml --T ''", {"--T"}, {"--T = 0"}},
      // y in a one-dimensional formula: the dimension is what to change
      {"optimize --expression 'x^2+y^2' --lower=-1 --upper 1 --runs 1 --budget 10", {"unknown name \"y\"", "coordinate 1", "--dim"}, {}},
      // each key once: "KEY = value: must be", never "KEY: KEY ="
      {"run " + in + "fp2d_small.toml --set schedule.T=-1 -o o.h5 -q", {"schedule.T = -1: must be"}, {"schedule.T: schedule.T"}},
      {"optimize --objective rastrigin --dim 2 --budget 0 --runs 2", {"--budget"}, {"--budget: --budget"}},
      // objective.name replaces the objective: double_well's c goes, the new keys stay, in any order
      {"run " + in + "fp2d_small.toml --set objective.b=1 --set objective.name=harmonic -o o.h5 -q", {"objective.b"}, {"objective.c"}},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    const Cli r = cli(c.args, d);
    INFO(r.err);
    CHECK(r.code == 2);
    for (const auto& f : c.fragments) CHECK(r.err.find(f) != std::string::npos);
    for (const auto& a : c.absent) CHECK(r.err.find(a) == std::string::npos);
  }
  // and with known keys only it runs: the old objective's c is gone, harmonic's a kept
  const std::string out = (d / "cfg.txt").string();
  REQUIRE(std::system(("cd " + d.string() + " && " QTZFLOW_CLI " run " + in + "fp2d_small.toml --set 'objective.a=[2, 3]' --set objective.name=harmonic "
                       "--print-config > " + out).c_str()) == 0);
  const std::string cfg = slurp(out);
  CHECK(cfg.find("name = \"harmonic\"") != std::string::npos);
  CHECK(cfg.find("a = [2, 3]") != std::string::npos);
  CHECK(cfg.find("c = 0.3") == std::string::npos);
  // the probe's case: a built-in without parameters in place of double_well runs
  CHECK(cli("run " + in + "fp2d_small.toml --set objective.name=rastrigin -o r.h5 -q", d).code == 0);
  // --unset removes a key (its default applies again); an absent key or a bare section is refused
  REQUIRE(std::system(("cd " + d.string() + " && " QTZFLOW_CLI " run " + in + "fp2d_small.toml --unset objective.c --unset output.path "
                       "--print-config > " + out).c_str()) == 0);
  const std::string unset = slurp(out);
  CHECK(unset.find("c = 0.3") == std::string::npos);
  CHECK(unset.find("fokker_planck_escape.h5") == std::string::npos);  // output.path back to its default
  for (const std::string bad : {"--unset objective.nope", "--unset grid", "--unset nowhere.n"}) {
    const Cli r = cli("run " + in + "fp2d_small.toml " + bad + " --print-config", d);
    INFO(bad << ": " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find("--unset") != std::string::npos);
  }
  fs::remove_all(d);
}
