#include "core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

namespace fs = std::filesystem;

// Throws "cannot write TARGET: PARTS: strerror(errno)"; call right after the failed system call.
template <class... Parts>
[[noreturn]] void fail_system(const fs::path& target, const Parts&... parts) {
  const int error = errno;  // before anything else can change it
  fail("cannot write ", target, ": ", parts..., ": ", std::strerror(error));
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }

  int get() const { return fd_; }
  // Unlike the destructor, reports the error: some file systems only report a failed write at close.
  int close() { return ::close(std::exchange(fd_, -1)); }

 private:
  int fd_;
};

fs::path folder_of(const fs::path& target) {
  return target.has_parent_path() ? target.parent_path() : fs::path(".");
}

// Like mkstemp, but with mode 0666 so that the umask applies as to any new file; mkstemp's 0600 would make
// every saved file private to its owner.
fs::path create_temporary(const fs::path& target) {
  static constexpr std::string_view kAlphabet =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 generator{std::random_device{}()};
  // Built with append: GCC 12 wrongly warns (-Wrestrict) on "." + std::string.
  std::string prefix = ".";
  prefix.append(target.filename().string()).append(".");
  for (int attempt = 0;; ++attempt) {
    std::string name = prefix;
    for (int i = 0; i < 6; ++i) name += kAlphabet[generator() % kAlphabet.size()];
    const fs::path candidate = folder_of(target) / name;
    FileDescriptor file(::open(candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666));
    if (file.get() >= 0) return candidate;
    if (errno != EEXIST || attempt == 100) {
      fail_system(target, "cannot create a temporary file in ", folder_of(target));
    }
  }
}

// Replacing a file must not change who may read it.
void copy_permissions(const fs::path& target, const fs::path& temporary) {
  struct stat existing {};
  if (::stat(target.c_str(), &existing) != 0) return;  // a new file: the umask decides
  if (::chmod(temporary.c_str(), existing.st_mode & 07777) != 0) {
    fail_system(target, "cannot set the permissions of ", temporary);
  }
}

// Opens the file by name rather than keeping the descriptor from create_temporary: the writer may have
// replaced the file at that path (libzip renames its own temporary onto it).
void sync_file(const fs::path& target, const fs::path& temporary) {
  FileDescriptor file(::open(temporary.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) fail_system(target, "cannot reopen the temporary file ", temporary);
  if (::fsync(file.get()) != 0) fail_system(target, "cannot flush ", temporary, " to disk");
}

// Makes the rename itself durable. Best effort: some file systems cannot sync a folder, and the data is
// already safe by then.
void sync_folder(const fs::path& folder) {
  FileDescriptor directory(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.get() >= 0) ::fsync(directory.get());
}

}  // namespace

void write_file_atomically(const fs::path& target,
                           const std::function<void(const fs::path& temporary)>& write) {
  check(target.has_filename(), "cannot write ", target, ": the path names a folder, not a file");
  const fs::path temporary = create_temporary(target);
  try {
    write(temporary);
    copy_permissions(target, temporary);
    sync_file(target, temporary);
    if (::rename(temporary.c_str(), target.c_str()) != 0) fail_system(target, "cannot replace it");
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
  sync_folder(folder_of(target));
}

void write_bytes_atomically(const fs::path& target, std::string_view bytes) {
  write_file_atomically(target, [&](const fs::path& temporary) {
    FileDescriptor file(::open(temporary.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (file.get() < 0) fail_system(target, "cannot open the temporary file ", temporary);
    for (std::string_view rest = bytes; !rest.empty();) {
      const ssize_t written = ::write(file.get(), rest.data(), rest.size());
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) fail_system(target, "cannot write the temporary file ", temporary);
      rest.remove_prefix(static_cast<std::size_t>(written));
    }
    if (file.close() != 0) fail_system(target, "cannot write the temporary file ", temporary);
  });
}

}  // namespace rnnkit
