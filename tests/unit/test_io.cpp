#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "../test_support.hpp"
#include "io/hdf5.hpp"
#include "io/snapshot.hpp"

using namespace qtzflow;
namespace fs = std::filesystem;

namespace {

using testing::scratch_dir;

std::vector<double> field(std::size_t n, double seed) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::sin(seed * static_cast<double>(i + 1)) * 1e3 + 1e-300 * static_cast<double>(i);
  return v;
}

}  // namespace

TEST_CASE("HDF5 layer: attributes and datasets round trip, failures name the file") {
  const auto dir = scratch_dir("hdf5");
  const std::string path = (dir / "a.h5").string();
  {
    auto f = io::File::create(path);
    {
      const auto g = f.root().create_group("x/y");
      g.write_attribute("d", 2.5);
      g.write_attribute("i", std::int64_t{-7});
      g.write_attribute("s", std::string("grüße"));
      const std::vector<double> v{1, 2, 3};
      g.write_attribute("v", std::span<const double>(v));
      g.write_attribute("names", std::vector<std::string>{"x", "y"});
      const std::vector<std::int32_t> labels{1, 2, 3, 4, 5, 6};
      g.write_dataset("lab", std::span<const std::int32_t>(labels), {2, 3});
      const auto series = g.create_series("t");
      series.append(std::span<const double>(v));
      series.append(std::span<const double>(v));
      // closing the file with objects open would defer the real close, and the write errors it
      // reports (a full disk), to the last object's close, where nobody looks: refused
      CHECK_THROWS_WITH_AS(f.close(), doctest::Contains("still open"), io::Hdf5Error);
    }
    f.close();
  }
  auto f = io::File::open_read(path);
  const auto g = f.root().open_group("x/y");
  CHECK(g.read_double_attribute("d") == 2.5);
  CHECK(g.read_int_attribute("i") == -7);
  CHECK(g.read_string_attribute("s") == "grüße");
  CHECK(g.read_doubles_attribute("v") == std::vector<double>{1, 2, 3});
  CHECK(g.read_strings_attribute("names") == std::vector<std::string>{"x", "y"});
  CHECK(g.open_dataset("lab").shape() == std::vector<std::size_t>{2, 3});
  CHECK(g.open_dataset("t").read_doubles() == std::vector<double>{1, 2, 3, 1, 2, 3});
  CHECK(f.root().exists("x/y/lab"));
  CHECK(!f.root().exists("x/nope/lab"));
  CHECK_THROWS_WITH_AS(io::File::open_read((dir / "missing.h5").string()), doctest::Contains("missing.h5"), io::Hdf5Error);
  CHECK_THROWS_WITH_AS(g.open_dataset("nope"), doctest::Contains("/x/y/nope"), io::Hdf5Error);
  fs::remove_all(dir);
}

TEST_CASE("snapshots: every field type round-trips bit for bit, linked and consolidated") {
  const auto dir = scratch_dir("snap");
  const std::string path = (dir / "run.h5").string();
  const grids::Grid<2> grid({6, 4}, {-1.0, 0.0}, {1.0, 2.0});
  const auto mesh = io::MeshGeometry::of(grid);
  io::SnapshotWriter w(path, mesh, {"[grid]\nn = [6, 4]\n", "abc123", "", ""});
  CHECK(!fs::exists(path));  // nothing written before the first snapshot
  for (std::int64_t it : {0, 10, 20}) {
    const auto rho = field(24, 1.0 + it), re = field(24, 2.0 + it), im = field(24, 3.0 + it), hist = field(24, 4.0 + it);
    const std::vector<io::FieldView> fields{{"rho", rho}, {"psi/re", re}, {"psi/im", im}, {"particles_hist", hist}};
    w.write(it, 0.5 * static_cast<double>(it), 0.05, fields, {{"norm", 1.0 + it}, {"energy", -2.0 * it}});
    CHECK(fs::exists(path));
  }
  auto verify = [&] {
    CHECK(io::snapshot_iterations(path) == std::vector<std::int64_t>{0, 10, 20});
    const auto s = io::read_snapshot(path, 10);
    CHECK(s.time == 5.0);
    CHECK(s.dt == 0.05);
    CHECK(s.fields.at("rho") == field(24, 11.0));
    CHECK(s.fields.at("psi/re") == field(24, 12.0));
    CHECK(s.fields.at("psi/im") == field(24, 13.0));
    CHECK(s.fields.at("particles_hist") == field(24, 14.0));
    CHECK(io::read_config_text(path) == "[grid]\nn = [6, 4]\n");
    auto f = io::File::open_read(path);
    const auto d = f.root().open_dataset("data/0/meshes/rho");
    CHECK(d.shape() == std::vector<std::size_t>{6, 4});
    CHECK(d.read_doubles_attribute("gridSpacing") == std::vector<double>{grid.spacing(0), grid.spacing(1)});
    CHECK(d.read_doubles_attribute("gridGlobalOffset") == std::vector<double>{grid.x(0, 0), grid.x(1, 0)});
    CHECK(d.read_strings_attribute("axisLabels") == std::vector<std::string>{"x", "y"});
    CHECK(f.root().read_string_attribute("gitRevision") == "abc123");
    CHECK(f.root().open_dataset("diagnostics/energy").read_doubles() == std::vector<double>{0, -20, -40});
    CHECK(f.root().open_dataset("diagnostics/iteration").read_int64() == std::vector<std::int64_t>{0, 10, 20});
  };
  verify();  // linked form (as during a run)
  testing::check_h5py_layout(path, "--xdmf --expect-snapshots 3");
  w.finish();
  CHECK(!fs::exists(dir / "run.h5.parts"));
  verify();  // self-contained form
  testing::check_h5py_layout(path, "--xdmf --expect-snapshots 3");

  // restart: continue the consolidated file
  auto r = io::SnapshotWriter::resume(path);
  CHECK(r.count() == 3);
  const auto a = field(24, 9.0);
  const std::vector<io::FieldView> more{{"rho", a}, {"psi/re", a}, {"psi/im", a}, {"particles_hist", a}};
  CHECK_THROWS_AS(r.write(20, 10.0, 0.05, more, {{"norm", 0.0}, {"energy", 0.0}}), core::InvalidArgument);
  CHECK_THROWS_AS(r.write(30, 15.0, 0.05, more, {{"norm", 0.0}}), core::InvalidArgument);
  r.write(30, 15.0, 0.05, more, {{"norm", 7.0}, {"energy", 8.0}});
  r.finish();
  CHECK(io::snapshot_iterations(path) == std::vector<std::int64_t>{0, 10, 20, 30});
  CHECK(io::read_snapshot(path, 10).fields.at("rho") == field(24, 11.0));
  testing::check_h5py_layout(path, "--xdmf --expect-snapshots 4");
  fs::remove_all(dir);
}
