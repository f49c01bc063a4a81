#include "core/atomic_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

namespace fs = std::filesystem;

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "rnnkit_atomic_file_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    folder_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(folder_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(folder_, ignored);
  }

  static std::string contents(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
  }

  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(folder_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  fs::path folder_;
};

TEST_F(AtomicFile, CreatesAndReplacesTheTarget) {
  const fs::path target = folder_ / "model.npz";
  write_bytes_atomically(target, "old");
  EXPECT_EQ(contents(target), "old");
  write_bytes_atomically(target, std::string(100000, 'n'));
  EXPECT_EQ(contents(target), std::string(100000, 'n'));
  EXPECT_EQ(files(), std::vector<std::string>{"model.npz"});
}

TEST_F(AtomicFile, NewFileGetsTheUsualPermissionsNotMkstempsPrivateOnes) {
  const mode_t mask = ::umask(022);
  write_bytes_atomically(folder_ / "model.npz", "x");
  ::umask(mask);
  EXPECT_EQ(fs::status(folder_ / "model.npz").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
}

TEST_F(AtomicFile, WriterGetsAHiddenTemporaryBesideTheTarget) {
  const fs::path target = folder_ / "model.npz";
  write_file_atomically(target, [&](const fs::path& temporary) {
    EXPECT_EQ(temporary.parent_path(), folder_);
    EXPECT_TRUE(temporary.filename().string().starts_with(".model.npz.")) << temporary;
    EXPECT_TRUE(fs::exists(temporary));
    EXPECT_FALSE(fs::exists(target));
    std::ofstream(temporary) << "new";
  });
  EXPECT_EQ(contents(target), "new");
  EXPECT_EQ(files(), std::vector<std::string>{"model.npz"});
}

TEST_F(AtomicFile, ThrowingWriterLeavesTheOldFileAndNoTemporary) {
  const fs::path target = folder_ / "model.npz";
  write_bytes_atomically(target, "old");
  const auto half_written = [](const fs::path& temporary) {
    std::ofstream(temporary) << "half of the new cont";
    throw std::runtime_error("disk on fire");
  };
  EXPECT_THROW(write_file_atomically(target, half_written), std::runtime_error);
  EXPECT_EQ(contents(target), "old");
  EXPECT_EQ(files(), std::vector<std::string>{"model.npz"});
}

TEST_F(AtomicFile, KeepsThePermissionsOfTheFileItReplaces) {
  const fs::path target = folder_ / "secret.npy";
  write_bytes_atomically(target, "old");
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write);
  write_bytes_atomically(target, "new");
  EXPECT_EQ(fs::status(target).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(AtomicFile, UnwritableFolderIsAClearError) {
  const fs::path missing = folder_ / "no_such_folder" / "model.npz";
  try {
    write_bytes_atomically(missing, "x");
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find(missing.string()), std::string::npos) << message;
    EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
  }

  if (::geteuid() == 0) return;  // root writes into read-only folders anyway
  const fs::path target = folder_ / "model.npz";
  write_bytes_atomically(target, "old");
  fs::permissions(folder_, fs::perms::owner_read | fs::perms::owner_exec);
  try {
    write_bytes_atomically(target, "new");
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("Permission denied"), std::string::npos) << error.what();
  }
  EXPECT_EQ(contents(target), "old");
}

TEST_F(AtomicFile, TargetThatIsAFolderIsAClearError) {
  fs::create_directory(folder_ / "model");
  EXPECT_THROW(write_bytes_atomically(folder_ / "model", "x"), Error);
  EXPECT_THROW(write_bytes_atomically(folder_ / "model" / "", "x"), Error);
  EXPECT_EQ(files(), std::vector<std::string>{"model"});
}

}  // namespace
}  // namespace rnnkit
