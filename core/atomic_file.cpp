#include "core/atomic_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/error.hpp"

namespace qtzflow::core {

AtomicReplacement::AtomicReplacement(std::string path) : path_(std::move(path)), temporary_(temporary_of(path_)) {
  require_replaceable("output", path_);
}

AtomicReplacement::~AtomicReplacement() {
  if (committed_) return;
  std::error_code ec;  // best effort: a destructor must not throw
  std::filesystem::remove(temporary_, ec);
}

void AtomicReplacement::commit() {
  std::error_code ec;
  std::filesystem::rename(temporary_, path_, ec);
  if (ec) throw Error("cannot rename " + temporary_ + " to " + path_ + ": " + ec.message());
  committed_ = true;
}

void require_replaceable(std::string_view key, const std::string& path, const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);  // follows symbolic links: what a rename would hit is the link, but its target tells the intent
  if (fs::exists(st) && !fs::is_regular_file(st))
    throw_invalid(key, path, "a regular file or a new name (it is a directory, device, pipe or socket, which an output must not replace)");
  for (const auto& input : inputs)
    if (!input.empty() && fs::exists(path, ec) && fs::equivalent(path, input, ec))
      throw_invalid(key, path, "a file other than the run's input " + input);
  // The folder must exist already: an output never creates directories (a typo would leave them behind).
  const fs::path parent = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
  if (!fs::is_directory(parent, ec)) throw_invalid(key, path, "a name in an existing folder (" + parent.string() + " is not one)");
  if (::access(parent.c_str(), W_OK) != 0) throw_invalid(key, path, "a name in a folder this process may write (" + parent.string() + " is not)");
}

void write_text_atomically(const std::string& path, std::string_view text) {
  replace_file_atomically(path, [&](const std::string& tmp) {
    errno = 0;
    std::ofstream out(tmp, std::ios::trunc | std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) throw Error("cannot write " + tmp + (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string()));
  });
}

}  // namespace qtzflow::core
