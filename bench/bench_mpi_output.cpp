// Snapshot output under mpirun (issue 17), two ways side by side in one run, through the same
// io::SnapshotWriter and the same file layout:
//   collective  every rank hands the writer its own rows; the part file is written by all ranks
//               together through parallel HDF5 (what `qtzflow run` does);
//   gathered    rank 0 first gathers every field whole (core::mpi::gather_to_root), then writes
//               it alone (what `qtzflow run` did before parallel HDF5).
// A snapshot holds three fields of the grid (real time: psi/re, psi/im, psi_abs2).  Reported: the
// median over samples of the slowest rank's time per snapshot, the bandwidth it amounts to, and
// the memory rank 0 needs beyond its own rows (the gathered copy).
// Usage: mpirun -n P bench_mpi_output [--dir DIR] [--quick] [--samples N]
//   --dir      where the outputs go (default: the temporary directory); removed at the end
//   --quick    256² and 64³ instead of 1024² and 256³
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/mpi.hpp"
#include "io/snapshot.hpp"

using namespace qtzflow;
namespace mpi = core::mpi;

namespace {

struct Result {
  double seconds = 0;         // median, slowest rank
  double gathered_bytes = 0;  // rank 0's gathered copy per snapshot
};

io::MeshGeometry mesh_of(const std::vector<std::size_t>& shape) {
  io::MeshGeometry mesh;
  mesh.shape = shape;
  for (std::size_t a = 0; a < shape.size(); ++a) {
    mesh.spacing.push_back(0.1);
    mesh.offset.push_back(-1.0);
    mesh.labels.emplace_back(std::string(1, "xyz"[a]));
  }
  return mesh;
}

/// Writes `samples` snapshots of three fields of `shape` both ways, interleaved (so that the
/// file system's state, e.g. its write-back of earlier snapshots, weighs on both alike).
std::array<Result, 2> measure(const std::string& stem, const std::vector<std::size_t>& shape, int samples) {
  std::size_t row = 1;
  for (std::size_t a = 1; a < shape.size(); ++a) row *= shape[a];
  const auto b = mpi::block_of(static_cast<long>(shape[0]), mpi::rank(), mpi::size());
  const std::size_t mine = static_cast<std::size_t>(b.last - b.first) * row;
  std::vector<std::vector<double>> rows(3, std::vector<double>(mine));
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t i = 0; i < mine; ++i) rows[k][i] = static_cast<double>(k) + 1e-6 * static_cast<double>(i);
  const char* names[] = {"psi/re", "psi/im", "psi_abs2"};

  std::array<io::SnapshotWriter, 2> writers{io::SnapshotWriter(stem + "-collective.h5", mesh_of(shape), io::RunInfo{"benchmark", "", "", {}}),
                                            io::SnapshotWriter(stem + "-gathered.h5", mesh_of(shape), io::RunInfo{"benchmark", "", "", {}})};
  std::array<std::vector<double>, 2> times;
  std::array<Result, 2> r;
  for (int s = 0; s < samples; ++s)
    for (const int way : {0, 1}) {
      const bool collective = way == 0;
      mpi::allreduce_max(0.0);  // start together
      const auto t0 = std::chrono::steady_clock::now();
      std::vector<std::vector<double>> whole;  // the gathered copies (rank 0)
      std::vector<io::FieldView> fields;
      for (std::size_t k = 0; k < 3; ++k) {
        if (collective) {
          fields.push_back({names[k], rows[k], {}, io::FieldView::Layout::blocks});
        } else {
          whole.push_back(mpi::gather_to_root(rows[k]));
          if (s == 0 && mpi::rank() == 0) r[1].gathered_bytes += 8.0 * static_cast<double>(whole.back().size());
        }
      }
      if (!collective)  // rank 0's block is the whole field, the other ranks' blocks are empty
        for (std::size_t k = 0; k < 3; ++k) fields.push_back({names[k], whole[k], {}, io::FieldView::Layout::blocks});
      writers[static_cast<std::size_t>(way)].write(s, 0.1 * s, 0.1, fields, {{"norm", 1.0}});
      const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      times[static_cast<std::size_t>(way)].push_back(mpi::allreduce_max(t));
    }
  for (std::size_t way = 0; way < 2; ++way) {
    writers[way].finish();
    std::sort(times[way].begin(), times[way].end());
    r[way].seconds = times[way][times[way].size() / 2];
    r[way].gathered_bytes = mpi::allreduce_max(r[way].gathered_bytes);
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  mpi::Session session(argc, argv);
  std::string dir = std::filesystem::temp_directory_path().string();
  bool quick = false;
  int samples = 5;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--dir") && i + 1 < argc)
      dir = argv[++i];
    else if (!std::strcmp(argv[i], "--quick"))
      quick = true;
    else if (!std::strcmp(argv[i], "--samples") && i + 1 < argc)
      samples = std::max(1, std::atoi(argv[++i]));
    else {
      if (mpi::rank() == 0) std::fprintf(stderr, "usage: bench_mpi_output [--dir DIR] [--quick] [--samples N]\n");
      return 2;
    }
  }
  std::string sub = dir + "/qtzflow-bench-output-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  mpi::broadcast(sub);
  mpi::on_root([&] { std::filesystem::create_directories(sub); });
  const std::vector<std::vector<std::size_t>> shapes =
      quick ? std::vector<std::vector<std::size_t>>{{256, 256}, {64, 64, 64}} : std::vector<std::vector<std::size_t>>{{1024, 1024}, {256, 256, 256}};
  if (mpi::rank() == 0)
    std::printf("ranks %d, %d samples, 3 fields per snapshot, output in %s\n%-14s %-11s %12s %10s %18s\n", mpi::size(), samples, dir.c_str(), "grid",
                "how", "s/snapshot", "MB/s", "rank 0 extra MiB");
  for (const auto& shape : shapes) {
    std::string name;
    double bytes = 3 * 8;
    for (auto n : shape) {
      name += (name.empty() ? "" : "x") + std::to_string(n);
      bytes *= static_cast<double>(n);
    }
    const auto r = measure(sub + "/" + name, shape, samples);
    for (std::size_t way = 0; way < 2; ++way)
      if (mpi::rank() == 0)
        std::printf("%-14s %-11s %12.4f %10.0f %18.1f\n", name.c_str(), way == 0 ? "collective" : "gathered", r[way].seconds,
                    bytes / r[way].seconds / 1e6, r[way].gathered_bytes / 1048576.0);
  }
  mpi::on_root([&] { std::filesystem::remove_all(sub); });
  return 0;
}
