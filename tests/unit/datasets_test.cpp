// Language-model datasets: every batch below is written out by hand from small id lists.
#include "rnnkit/text/datasets.h"

#include <gtest/gtest.h>

#include <set>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

TokenIds ids_from(std::vector<std::int32_t> ids) {
  return std::make_shared<const std::vector<std::int32_t>>(std::move(ids));
}

std::vector<float> values(const Tensor& tensor) {
  return {tensor.values().begin(), tensor.values().end()};
}

TEST(WindowDataset, WindowsAndNextTokenTargetsByHand) {
  // Ids 10..19 (10 tokens), T = 3, stride 2: windows start at 0, 2, 4, 6 (6 + 3 + 1 = 10 fits; 8 does not).
  std::vector<std::int32_t> ids(10);
  for (int i = 0; i < 10; ++i) ids[static_cast<std::size_t>(i)] = 10 + i;
  WindowDataset dataset(ids_from(ids), 0, 10, {.seq_length = 3, .stride = 2, .batch_size = 3});
  EXPECT_EQ(dataset.window_count(), 4);
  EXPECT_EQ(dataset.batch_count(), 2);
  auto [x0, y0] = dataset.batch(0);
  EXPECT_EQ(x0.shape(), (Shape{3, 3}));
  EXPECT_EQ(values(x0), (std::vector<float>{10, 11, 12, 12, 13, 14, 14, 15, 16}));
  EXPECT_EQ(values(y0), (std::vector<float>{11, 12, 13, 13, 14, 15, 15, 16, 17}));
  auto [x1, y1] = dataset.batch(1);  // the last, smaller batch
  EXPECT_EQ(x1.shape(), (Shape{1, 3}));
  EXPECT_EQ(values(x1), (std::vector<float>{16, 17, 18}));
  EXPECT_EQ(values(y1), (std::vector<float>{17, 18, 19}));
  EXPECT_THROW(dataset.batch(2), Error);
}

TEST(WindowDataset, DefaultStrideIsTheSequenceLength) {
  // 7 ids, T = 3: windows at 0 and 3 (3 + 4 = 7).
  WindowDataset dataset(ids_from({1, 2, 3, 4, 5, 6, 7}), 0, 7, {.seq_length = 3, .batch_size = 8});
  EXPECT_EQ(dataset.window_count(), 2);
  auto [x, y] = dataset.batch(0);
  EXPECT_EQ(values(x), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(values(y), (std::vector<float>{2, 3, 4, 5, 6, 7}));
}

TEST(WindowDataset, ShufflingPermutesWindowsReproducibly) {
  std::vector<std::int32_t> ids(41);
  for (int i = 0; i < 41; ++i) ids[static_cast<std::size_t>(i)] = i;
  WindowDataset first(ids_from(ids), 0, 41, {.seq_length = 1, .stride = 1, .batch_size = 40});
  WindowDataset second(ids_from(ids), 0, 41, {.seq_length = 1, .stride = 1, .batch_size = 40});
  Rng rng_a(3), rng_b(3);
  first.start_epoch(rng_a, true);
  second.start_epoch(rng_b, true);
  const std::vector<float> a = values(first.batch(0).first), b = values(second.batch(0).first);
  EXPECT_EQ(a, b);
  // Every window once (a permutation), not in order, and each target still the input's successor.
  EXPECT_EQ(std::set<float>(a.begin(), a.end()).size(), 40u);
  std::vector<float> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NE(a, sorted);
  const std::vector<float> targets = values(first.batch(0).second);
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(targets[i], a[i] + 1);
  // Without shuffle: the corpus order.
  first.start_epoch(rng_a, false);
  EXPECT_EQ(values(first.batch(0).first), sorted);
}

TEST(WindowDataset, ValidationComesFromTheEnd) {
  // 20 ids, split 0.25: training ids [0, 15), validation ids [15, 20); T = 2 gives windows at 0,2,..,12
  // (12 + 3 = 15) and at 15, 17 (17 + 3 = 20).
  std::vector<std::int32_t> ids(20);
  for (int i = 0; i < 20; ++i) ids[static_cast<std::size_t>(i)] = i;
  WindowDatasets datasets = make_window_datasets(ids_from(ids), {.seq_length = 2, .batch_size = 100}, 0.25);
  EXPECT_EQ(datasets.training->window_count(), 7);
  ASSERT_NE(datasets.validation, nullptr);
  EXPECT_EQ(datasets.validation->window_count(), 2);
  EXPECT_EQ(values(datasets.validation->batch(0).first), (std::vector<float>{15, 16, 17, 18}));
  EXPECT_EQ(values(datasets.validation->batch(0).second), (std::vector<float>{16, 17, 18, 19}));
  EXPECT_EQ(make_window_datasets(ids_from(ids), {.seq_length = 2, .batch_size = 100}, 0.0).validation,
            nullptr);
}

TEST(WindowDataset, ClearErrors) {
  const auto message = [](const std::function<void()>& make) {
    try {
      make();
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { make_window_datasets(ids_from({}), {.seq_length = 3}, 0.1); }).find("empty"),
            std::string::npos);
  const std::string short_corpus = message([] {
    make_window_datasets(ids_from({1, 2, 3}), {.seq_length = 3}, 0.0);
  });
  EXPECT_NE(short_corpus.find("has 3 tokens, fewer than one window of seq_length + 1 = 4"), std::string::npos)
      << short_corpus;
  const std::string short_validation = message([] {
    make_window_datasets(ids_from({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), {.seq_length = 3}, 0.2);
  });
  EXPECT_NE(short_validation.find("validation part"), std::string::npos) << short_validation;
}

TEST(PrefixNgramDataset, TheTutorialsSamplesByHand) {
  // The tutorial's three lines as Keras numbers them: 경마장에 2, 있는 3, 말이 1, 뛰고 4, 있다 5 / 그의 6
  // 말이 1 법이다 7 / 가는 8 말이 1 고와야 9 오는 10 말이 1 곱다 11. Prefixes: 4 + 2 + 5 = 11 samples,
  // longest 6 ids.
  PrefixNgramDataset dataset({{2, 3, 1, 4, 5}, {6, 1, 7}, {8, 1, 9, 10, 1, 11}},
                             {.batch_size = 32, .one_hot = true, .num_classes = 12});
  EXPECT_EQ(dataset.sample_count(), 11);
  EXPECT_EQ(dataset.input_length(), 5);
  auto [x, y] = dataset.all();
  EXPECT_EQ(x.shape(), (Shape{11, 5}));
  EXPECT_EQ(y.shape(), (Shape{11, 12}));
  const std::vector<std::vector<float>> expected_x = {
      {0, 0, 0, 0, 2}, {0, 0, 0, 2, 3}, {0, 0, 2, 3, 1}, {0, 2, 3, 1, 4},  {0, 0, 0, 0, 6}, {0, 0, 0, 6, 1},
      {0, 0, 0, 0, 8}, {0, 0, 0, 8, 1}, {0, 0, 8, 1, 9}, {0, 8, 1, 9, 10}, {8, 1, 9, 10, 1}};
  const std::vector<int> expected_y = {3, 1, 4, 5, 1, 7, 1, 9, 10, 1, 11};
  for (std::int64_t row = 0; row < 11; ++row) {
    for (std::int64_t t = 0; t < 5; ++t)
      EXPECT_EQ(x.at({row, t}), expected_x[static_cast<std::size_t>(row)][static_cast<std::size_t>(t)])
          << row;
    for (std::int64_t v = 0; v < 12; ++v)
      EXPECT_EQ(y.at({row, v}), v == expected_y[static_cast<std::size_t>(row)] ? 1.0f : 0.0f) << row;
  }
  PrefixNgramDataset sparse({{2, 3, 1, 4, 5}, {6, 1, 7}},
                            {.batch_size = 4, .one_hot = false, .num_classes = 0});
  EXPECT_EQ(sparse.batch_count(), 2);
  EXPECT_EQ(values(sparse.batch(1).second), (std::vector<float>{1, 7}));
  EXPECT_EQ(values(sparse.batch(1).first), (std::vector<float>{0, 0, 0, 6, 0, 0, 6, 1}));
  // A fixed input length of 2: shorter prefixes are padded, longer ones keep their last ids.
  PrefixNgramDataset fixed({{2, 3, 1, 4}},
                           {.batch_size = 8, .one_hot = false, .num_classes = 0, .input_length = 2});
  EXPECT_EQ(values(fixed.all().first), (std::vector<float>{0, 2, 2, 3, 3, 1}));
  EXPECT_EQ(values(fixed.all().second), (std::vector<float>{3, 1, 4}));
}

TEST(PrefixNgramDataset, ClearErrors) {
  EXPECT_THROW(PrefixNgramDataset({{1}, {}}, {.batch_size = 2, .one_hot = false, .num_classes = 0}), Error);
  EXPECT_THROW(PrefixNgramDataset({{1, 12}}, {.batch_size = 2, .one_hot = true, .num_classes = 12}), Error);
}

}  // namespace
}  // namespace rnnkit
