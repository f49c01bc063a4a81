// The thread settings, and which OpenBLAS build the binaries load.
#include <gtest/gtest.h>

#include <string>

#include "rnnkit/error.h"
#include "rnnkit/threads.h"

namespace rnnkit {
namespace {

// The pthread build loads instead when the RUNPATH to the OpenMP build is lost: it still works, but its idle
// threads then spin against oneDNN's OpenMP ones.
TEST(Threads, OpenBlasIsTheOpenMpBuild) {
  EXPECT_NE(blas_description().find("USE_OPENMP"), std::string::npos) << blas_description();
}

TEST(Threads, SetNumThreadsIsReadBackAndRestored) {
  const int original = num_threads();
  set_num_threads(2);
  EXPECT_EQ(num_threads(), 2);
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  set_num_threads(original);
  EXPECT_EQ(num_threads(), original);
}

TEST(Threads, ZeroThreadsIsRefused) {
  EXPECT_THROW(set_num_threads(0), Error);
}

}  // namespace
}  // namespace rnnkit
