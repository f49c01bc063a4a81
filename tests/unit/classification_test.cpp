// Text classification: the labelled-file reader's errors (file, line, column), labels to class ids, the
// evaluation report against tests/unit/classification_metrics.py (numpy), the SentencePiece level's round
// trip and a saved classifier's tokenizer giving the same predictions after reload.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rnnkit/model_file.h"
#include "rnnkit/rnnkit.h"
#include "rnnkit/text/classification.h"
#include "rnnkit/text/labelled_file.h"
#include "rnnkit/text/subword.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using testing::read_json;
using testing::test_data;

// The message of the Error `parse` throws, or "" when it throws none.
std::string error_of(std::string_view content, const std::string& name,
                     const LabelledFileOptions& options = {}) {
  try {
    parse_labelled_text(content, name, options);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(ClassificationReaderTest, ReadsTsvWithCommonColumnNames) {
  const LabelledTexts data =
      parse_labelled_text("id\tdocument\tlabel\r\n1\t좋은 영화\t1\r\n\r\n2\t별로\t0\n", "a.tsv");
  EXPECT_EQ(data.text_column, "document");
  EXPECT_EQ(data.label_column, "label");
  EXPECT_EQ(data.texts, (std::vector<std::string>{"좋은 영화", "별로"}));
  EXPECT_EQ(data.labels, (std::vector<std::string>{"1", "0"}));
  EXPECT_EQ(data.lines, (std::vector<std::int64_t>{2, 4}));  // the blank line 3 is skipped
}

TEST(ClassificationReaderTest, ReadsRfc4180Csv) {
  const std::string csv =
      "\xEF\xBB\xBFReview,Sentiment\n"
      "\"a, b\",pos\n"
      "\"she said \"\"no\"\"\nand left\",neg\n"
      "plain,pos\n";
  const LabelledTexts data = parse_labelled_text(csv, "b.csv");
  EXPECT_EQ(data.text_column, "Review");
  EXPECT_EQ(data.texts, (std::vector<std::string>{"a, b", "she said \"no\"\nand left", "plain"}));
  EXPECT_EQ(data.labels, (std::vector<std::string>{"pos", "neg", "pos"}));
  EXPECT_EQ(data.lines, (std::vector<std::int64_t>{2, 3, 5}));  // the quoted line break takes line 4
}

TEST(ClassificationReaderTest, ColumnsByName) {
  const LabelledTexts data =
      parse_labelled_text("a\tb\tc\nx\ty\tz\n", "c.tsv", {.text_column = "c", .label_column = "a"});
  EXPECT_EQ(data.texts, std::vector<std::string>{"z"});
  EXPECT_EQ(data.labels, std::vector<std::string>{"x"});
  EXPECT_EQ(data.label_location(0), "file 'c.tsv', line 2, column 1 (a)");
}

TEST(ClassificationReaderTest, BadInputsNameFileLineAndColumn) {
  EXPECT_EQ(error_of("id\tbody\tlabel\n1\tx\t0\n", "d.tsv"),
            "file 'd.tsv' has no text column (none of text, document, sentence, review, content); its header "
            "(tab-separated) has 'id', 'body', 'label': name the column with --text-column");
  EXPECT_EQ(error_of("text\tstars\nx\t1\n", "d.tsv"),
            "file 'd.tsv' has no label column (none of label, sentiment, class, target); its header "
            "(tab-separated) has 'text', 'stars': name the column with --label-column");
  EXPECT_EQ(
      error_of("text\tlabel\nx\t1\n", "d.tsv", {.text_column = "", .label_column = "stars"}).substr(0, 40),
      "file 'd.tsv' has no label column 'stars'");
  EXPECT_EQ(error_of("text\tlabel\nx\t1\n\t0\n", "e.tsv"),
            "file 'e.tsv', line 3, column 1 (text): the text is empty");
  EXPECT_EQ(error_of("text,label\nx,1\ny,\n", "e.csv"),
            "file 'e.csv', line 3, column 2 (label): the label is empty");
  EXPECT_EQ(error_of("text\tlabel\nx\t1\ny\t0\textra\n", "f.tsv"),
            "file 'f.tsv', line 3: 3 fields where the header has 2 (column 3 is extra); a tab inside a text "
            "must be removed");
  EXPECT_EQ(
      error_of("text,label\nx,1\ny\n", "f.csv"),
      "file 'f.csv', line 3: 1 field where the header has 2 (column 2 is missing); quote a field holding "
      "a comma");
  EXPECT_EQ(error_of("id\ttext\tlabel\n1\tok\t0\n2\tbad \xC3\x28\t1\n", "g.tsv"),
            "file 'g.tsv', line 3, column 2 (text): invalid UTF-8 at byte 4 of the field");
  EXPECT_EQ(error_of("text,label\n\"open,1\n", "h.csv"),
            "file 'h.csv', line 2, column 1: a quoted field is not closed before the end of the file");
  EXPECT_EQ(
      error_of("text,label\n\"a\"b,1\n", "h.csv"),
      "file 'h.csv', line 2, column 1: text after the closing quote of a quoted field (a quote inside a "
      "field is written \"\")");
  EXPECT_EQ(error_of("", "i.tsv"), "file 'i.tsv' is empty: it needs a header row naming its columns");
  EXPECT_EQ(error_of("text\tlabel\n", "i.tsv"), "file 'i.tsv' has a header but no rows");
}

TEST(ClassificationReaderTest, UnknownLabelNamesItsPlace) {
  const LabelMap labels = LabelMap::from_labels({"neg", "pos", "neg"});
  const LabelledTexts test = parse_labelled_text("text\tlabel\na\tpos\nb\tneutral\n", "t.tsv");
  try {
    labels.ids(test);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "file 't.tsv', line 3, column 2 (label): unknown label 'neutral'; the model's classes are "
                 "'neg', 'pos'");
  }
}

TEST(ClassificationLabelsTest, IntegersKeepTheirValuesStringsAreSorted) {
  const LabelMap binary = LabelMap::from_labels({"1", "0", "1"});
  EXPECT_TRUE(binary.binary());
  EXPECT_EQ(*binary.find("0"), 0);
  EXPECT_EQ(*binary.find("1"), 1);
  const LabelMap numbers = LabelMap::from_labels({"10", "9", "2"});
  EXPECT_EQ(numbers.names(), (std::vector<std::string>{"2", "9", "10"}));
  EXPECT_FALSE(numbers.binary());
  const LabelMap names = LabelMap::from_labels({"sports", "arts", "news", "arts"});
  EXPECT_EQ(names.names(), (std::vector<std::string>{"arts", "news", "sports"}));
  EXPECT_THROW(LabelMap::from_labels({"a", "a"}), Error);
  // n / (k * count): 4 / (2 * 3) and 4 / (2 * 1), as scikit-learn's compute_class_weight('balanced').
  const auto weights = balanced_class_weights({0, 0, 0, 1}, 2);
  EXPECT_DOUBLE_EQ(weights.at(0), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(weights.at(1), 2.0);
}

TEST(ClassificationReportTest, MatchesNumpyDefinitions) {
  const nlohmann::json cases = read_json(test_data("unit/fixtures/classification_metrics.json"));
  for (const auto& [name, expected] : cases.items()) {
    SCOPED_TRACE(name);
    const auto truth = expected["truth"].get<std::vector<std::int64_t>>();
    const auto probabilities = expected["probabilities"].get<std::vector<std::vector<double>>>();
    const auto classes = static_cast<std::int64_t>(probabilities[0].size());
    const ClassificationReport report = classification_report(truth, probabilities, classes);
    EXPECT_NEAR(report.loss, expected["loss"].get<double>(), 1e-12);
    EXPECT_NEAR(report.accuracy, expected["accuracy"].get<double>(), 1e-12);
    EXPECT_EQ(report.confusion, expected["confusion"].get<std::vector<std::vector<std::int64_t>>>());
    for (std::int64_t c = 0; c < classes; ++c) {
      const auto i = static_cast<std::size_t>(c);
      EXPECT_NEAR(report.per_class[i].precision, expected["precision"][i].get<double>(), 1e-12);
      EXPECT_NEAR(report.per_class[i].recall, expected["recall"][i].get<double>(), 1e-12);
      EXPECT_NEAR(report.per_class[i].f1, expected["f1"][i].get<double>(), 1e-12);
      EXPECT_EQ(report.per_class[i].support, expected["support"][i].get<std::int64_t>());
    }
    EXPECT_NEAR(report.macro.precision, expected["macro"][0].get<double>(), 1e-12);
    EXPECT_NEAR(report.macro.recall, expected["macro"][1].get<double>(), 1e-12);
    EXPECT_NEAR(report.macro.f1, expected["macro"][2].get<double>(), 1e-12);
    EXPECT_NEAR(report.weighted.precision, expected["weighted"][0].get<double>(), 1e-12);
    EXPECT_NEAR(report.weighted.recall, expected["weighted"][1].get<double>(), 1e-12);
    EXPECT_NEAR(report.weighted.f1, expected["weighted"][2].get<double>(), 1e-12);
    if (expected.contains("roc_auc")) {
      ASSERT_TRUE(report.roc_auc.has_value());
      EXPECT_NEAR(*report.roc_auc, expected["roc_auc"].get<double>(), 1e-12);
    } else {
      EXPECT_FALSE(report.roc_auc.has_value());
    }
  }
}

TEST(ClassificationReportTest, RocAucByHand) {
  // Pairs (positive, negative): (0.8,0.1) (0.8,0.4) (0.35,0.1) (0.35,0.4); 3 ordered right, 0 tied: 3/4.
  EXPECT_DOUBLE_EQ(*roc_auc({0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}), 0.75);
  // A tie between a positive and a negative counts one half: (1 + 0.5) / 2.
  EXPECT_DOUBLE_EQ(*roc_auc({0, 1, 0, 1}, {0.2, 0.5, 0.5, 0.9}), 0.875);
  EXPECT_FALSE(roc_auc({1, 1}, {0.2, 0.3}).has_value());
}

std::vector<std::string> korean_reviews() {
  std::vector<std::string> texts;
  const std::vector<std::string> parts = {"영화가 정말 재미있다",        "영화는 지루하고 별로였다",
                                          "배우의 연기가 좋았다",        "스토리가 엉망이다",
                                          "음악이 아름다운 영화를 봤다", "다시 보고 싶은 영화"};
  for (int i = 0; i < 40; ++i)
    texts.push_back(parts[static_cast<std::size_t>(i) % parts.size()] + " " + std::to_string(i));
  return texts;
}

TEST(ClassificationSubwordTest, EncodeDecodeRoundTripAndReload) {
  const std::vector<std::string> texts = korean_reviews();
  const SubwordTokenizer trained = SubwordTokenizer::train(texts, {.vocab_size = 60});
  EXPECT_LE(trained.vocabulary_size(), 60);
  for (const std::string& text : texts) {
    const std::vector<int> ids = trained.encode(text);
    ASSERT_FALSE(ids.empty());
    for (const int id : ids) {
      EXPECT_GT(id, 0);  // 0 is padding
      EXPECT_LT(id, trained.vocabulary_size());
    }
    EXPECT_EQ(trained.decode(ids), text);
  }
  // A text with characters never seen: the unknown id 1, and no crash.
  const std::vector<int> unseen = trained.encode("ΩΩ");
  EXPECT_NE(std::find(unseen.begin(), unseen.end(), 1), unseen.end());
  // The same texts train the same model; the saved bytes load back to the same encoder.
  EXPECT_EQ(SubwordTokenizer::train(texts, {.vocab_size = 60}).model_bytes(), trained.model_bytes());
  const SubwordTokenizer reloaded =
      SubwordTokenizer::from_model(trained.model_bytes(), false, "the test model");
  for (const std::string& text : texts) EXPECT_EQ(reloaded.encode(text), trained.encode(text));
  EXPECT_THROW(SubwordTokenizer::from_model("not a model", false, "bytes"), Error);
}

TEST(ClassificationSubwordTest, LowercasesWhenAsked) {
  const SubwordTokenizer tokenizer =
      SubwordTokenizer::train({"Good Movie", "BAD movie", "good acting", "bad plot"},
                              {.vocab_size = 20, .character_coverage = 0.9995, .lower = true});
  EXPECT_EQ(tokenizer.encode("GOOD MOVIE"), tokenizer.encode("good movie"));
}

// A classifier saved with its subword tokenizer as an asset gives the same probabilities once reloaded.
TEST(ClassificationSubwordTest, SavedModelAndTokenizerReproducePredictions) {
  const std::vector<std::string> texts = korean_reviews();
  TextEncoderOptions options{.level = "subword"};
  options.subword.vocab_size = 60;
  const TextEncoder encoder = TextEncoder::fit(texts, options);
  const PadSequencesOptions padding{.maxlen = 12};
  Sequential model({.name = "", .seed = 3});
  model.add(Embedding(encoder.vocabulary_size(), 8, {.input_length = 12}));
  model.add(std::make_unique<LSTM>(6));
  model.add(Dense(1, {.activation = "sigmoid"}));
  model.build({kNone, 12});
  const Tensor before = model.predict(pad_sequences(encoder.encode(texts), padding));

  testing::TempFolder folder;
  const auto path = folder.path() / "classifier.keras";
  save_model(model, path, {{"sentencepiece.model", encoder.subword()->model_bytes()}});
  LoadedModel loaded = load_model_file(path);
  const TextEncoder reloaded = TextEncoder::from_subword(
      SubwordTokenizer::from_model(loaded.assets.at("sentencepiece.model"), false, "the asset"));
  const Tensor after = loaded.model.predict(pad_sequences(reloaded.encode(texts), padding));
  ASSERT_EQ(before.shape(), after.shape());
  for (std::int64_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i], after[i]);
}

TEST(ClassificationDatasetTest, BatchesPadAndTarget) {
  // Binary: (B,1) float targets; padded 'post' and cut 'post' to 3.
  ClassificationDataset binary(
      {{5, 6}, {1, 2, 3, 4}, {7}}, {1, 0, 1}, true,
      {.padding = {.maxlen = 3, .padding = "post", .truncating = "post"}, .batch_size = 2});
  EXPECT_EQ(binary.batch_count(), 2);
  const auto [x, y] = binary.batch(0);
  EXPECT_EQ(x.shape(), (Shape{2, 3}));
  EXPECT_EQ(std::vector<float>(x.values().begin(), x.values().end()), (std::vector<float>{5, 6, 0, 1, 2, 3}));
  EXPECT_EQ(y.shape(), (Shape{2, 1}));
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], 0.0f);
  // Several classes: (B) ids for sparse_categorical_crossentropy.
  ClassificationDataset multi({{1}, {2}, {3}}, {2, 0, 1}, false, {.padding = {.maxlen = 2}, .batch_size = 8});
  const auto [mx, my] = multi.batch(0);
  EXPECT_EQ(my.shape(), (Shape{3}));
  EXPECT_EQ(my[0], 2.0f);
  EXPECT_EQ(mx[0], 0.0f);  // 'pre' padding
  EXPECT_EQ(mx[1], 1.0f);
}

}  // namespace
}  // namespace rnnkit
