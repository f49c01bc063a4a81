// The tutorials' models (tests/acceptance/summaries, copies of shared/acceptance): Keras JSON in,
// model.summary() out, byte for byte as Keras printed it in each era.
#include <gtest/gtest.h>

#include "rnnkit/rnnkit.h"
#include "test_support.h"

namespace rnnkit {
namespace {

struct Era {
  const char* suffix;
  SummaryStyle style;
};

class AcceptanceSummary : public ::testing::TestWithParam<std::string> {};

TEST_P(AcceptanceSummary, MatchesKerasInEveryEra) {
  const std::string stem = GetParam();
  const auto folder = testing::test_data("acceptance/summaries");
  Sequential model = load_model_json(folder / (stem + ".json"));
  for (const Era era : {Era{"keras2.12", SummaryStyle::keras2_12}, Era{"keras2.6", SummaryStyle::keras2_6},
                        Era{"keras2.15", SummaryStyle::keras2_15}}) {
    const std::string actual = model.summary_text(era.style);
    const std::string expected = testing::read_text(folder / (stem + "." + era.suffix + ".txt"));
    EXPECT_EQ(actual, expected) << stem << " in " << era.suffix;
  }
}

std::vector<std::string> acceptance_stems() {
  std::vector<std::string> stems;
  for (const auto& entry : std::filesystem::directory_iterator(testing::test_data("acceptance/summaries")))
    if (entry.path().extension() == ".json") stems.push_back(entry.path().stem().string());
  std::sort(stems.begin(), stems.end());
  return stems;
}

INSTANTIATE_TEST_SUITE_P(Tutorials, AcceptanceSummary, ::testing::ValuesIn(acceptance_stems()));

TEST(AcceptanceSummaryFiles, AreAllThere) { EXPECT_EQ(acceptance_stems().size(), 15u); }

}  // namespace
}  // namespace rnnkit
