// qtzflow/core/memory.hpp — memory needs checked before they are allocated.
//
// A problem size that cannot fit (a 10⁵ × 10⁵ grid, a TSPLIB file declaring 10⁹ cities, 10¹² runs)
// is bad input: it is refused with exit code 2 and a message that names the key that sets it, the
// estimated need and the limit, instead of ending in std::bad_alloc or the kernel's OOM killer.
// The limit is the memory this process may use: the tightest limit of its own cgroup (named in
// /proc/self/cgroup: a Slurm job's or a container's) and of the cgroup's ancestors (v2
// memory.max, v1 memory.limit_in_bytes) when one is set, otherwise the machine's physical memory
// (MemTotal).
// Estimates are computed in double precision, so products of sizes cannot wrap around.
#pragma once

#include <string>
#include <string_view>

namespace qtzflow::core {

/// Bytes this process may use (cgroup limit or physical memory); 0 if neither can be read.
double memory_limit_bytes();

/// Throws InvalidArgument(key, ...) when `bytes` (the estimated need of `what`) exceeds the limit,
/// or is not finite.  Does nothing when the limit cannot be read.
void require_memory(std::string_view key, double bytes, std::string_view what);

/// "1.5 GiB", "300 MiB", … for messages.
std::string format_bytes(double bytes);

}  // namespace qtzflow::core
