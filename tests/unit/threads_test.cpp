// The thread settings, and which OpenBLAS build the binaries load.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "rnnkit/rnnkit.h"

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

// The passes rnnkit splits across threads by rows or elements: softmax, the cross-entropy and its gradient,
// a Dense layer's bias gradient, and Adam's update. Each item is computed as on one thread, so the bits
// agree. (OpenBLAS's products may round differently with the thread count, so whole training steps are not
// compared.)
std::vector<Tensor> row_parallel_results(int threads) {
  constexpr std::int64_t kRows = 96, kClasses = 4096;  // above the size that is split
  Rng rng(17);
  Tensor logits({kRows, kClasses}), labels({kRows});
  for (float& value : logits.values()) value = static_cast<float>(3.0 * rng.normal());
  for (float& label : labels.values()) label = std::floor(static_cast<float>(rng.uniform(0.0, kClasses)));
  const int original = num_threads();
  set_num_threads(threads);
  std::vector<Tensor> results;
  Tensor probabilities = logits;
  apply_activation(ActivationFunction::softmax, probabilities.values(), kClasses);
  results.push_back(probabilities);
  const LossResult loss = Loss("sparse_categorical_crossentropy", true).compute(logits, labels);
  results.push_back(Tensor({1}, std::vector<float>{static_cast<float>(loss.value)}));
  results.push_back(loss.gradient);
  Dense dense(kClasses);
  Rng build_rng(5);
  dense.build({kRows, 1}, build_rng);
  dense.call(Tensor({kRows, 1}, 1.0f), {.training = true});
  dense.zero_grads();
  dense.backward({loss.gradient});
  Param weight{"weight", probabilities, loss.gradient};
  std::unique_ptr<Optimizer> adam = Adam({.learning_rate = 0.01});
  for (int step = 0; step < 2; ++step) adam->apply({&weight});
  set_num_threads(original);
  for (const Param* param : dense.params()) results.push_back(param->grad);
  results.push_back(weight.value);
  return results;
}

TEST(Threads, RowParallelPassesGiveTheSameBitsOnOneAndTwoThreads) {
  const std::vector<Tensor> one = row_parallel_results(1), two = row_parallel_results(2);
  ASSERT_EQ(one.size(), two.size());
  for (std::size_t k = 0; k < one.size(); ++k) {
    ASSERT_EQ(one[k].shape(), two[k].shape());
    EXPECT_TRUE(std::equal(one[k].values().begin(), one[k].values().end(), two[k].values().begin()))
        << "array " << k;
  }
}

}  // namespace
}  // namespace rnnkit
