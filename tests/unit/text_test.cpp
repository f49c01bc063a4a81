// The text library against tests/text/fixtures.json, written by an independent pure-Python implementation of
// Keras's rules (tests/text/keras_text_reference.py, with Python's own str.lower, json.dumps and UTF-8
// decoder as oracles), plus cases counted by hand and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "rnnkit/error.h"
#include "rnnkit/text/sequences.h"
#include "rnnkit/text/tokenizer.h"
#include "rnnkit/text/utf8.h"
#include "test_support.h"

namespace rnnkit {
namespace {

using nlohmann::json;
using rnnkit::testing::TempFolder;

const json& fixtures() {
  static const json parsed = rnnkit::testing::read_json(rnnkit::testing::test_data("text/fixtures.json"));
  return parsed;
}

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return bytes;
}

std::string to_hex(const std::string& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (const char byte : bytes) {
    hex.push_back(kDigits[static_cast<unsigned char>(byte) >> 4]);
    hex.push_back(kDigits[static_cast<unsigned char>(byte) & 0xF]);
  }
  return hex;
}

// Runs `action`, expecting an rnnkit::Error whose message contains every one of `parts`.
template <class Action>
void expect_error(Action&& action, const std::vector<std::string>& parts) {
  try {
    action();
    ADD_FAILURE() << "no rnnkit::Error thrown; expected one mentioning " << parts.front();
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts)
      EXPECT_NE(message.find(part), std::string::npos)
          << "message \"" << message << "\" lacks \"" << part << "\"";
  }
}

std::filesystem::path write_file(const TempFolder& folder, const std::string& name,
                                 const std::string& bytes) {
  const auto path = folder.path() / name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// --- UTF-8 ---

TEST(TextUtf8, FirstInvalidOffsetAndReplacementMatchPython) {
  for (const json& sample : fixtures().at("utf8")) {
    const std::string bytes = from_hex(sample.at("bytes"));
    SCOPED_TRACE(sample.at("bytes").get<std::string>());
    const auto offset = find_invalid_utf8(bytes);
    if (sample.at("first_invalid").is_null()) {
      EXPECT_FALSE(offset.has_value());
    } else {
      ASSERT_TRUE(offset.has_value());
      EXPECT_EQ(*offset, sample.at("first_invalid").get<std::size_t>());
      expect_error([&] { check_utf8(bytes, "sample"); },
                   {"sample", "byte offset " + std::to_string(*offset)});
    }
    EXPECT_EQ(to_hex(replace_invalid_utf8(bytes)), sample.at("replaced").get<std::string>());
  }
}

TEST(TextUtf8, LowerAndCodePointsMatchPython) {
  for (const json& sample : fixtures().at("lower")) {
    const std::string text = sample.at("text");
    SCOPED_TRACE(text);
    EXPECT_EQ(to_lower(text), sample.at("lower").get<std::string>());
    EXPECT_EQ(split_code_points(text), sample.at("code_points").get<std::vector<std::string>>());
    EXPECT_EQ(count_code_points(text), sample.at("code_points").size());
  }
}

TEST(TextUtf8, HangulSyllablesAreOneCodePointEach) {
  // 경 마 장 에 are four precomposed syllables of three bytes each.
  EXPECT_EQ(split_code_points("경마장에"), (std::vector<std::string>{"경", "마", "장", "에"}));
  EXPECT_EQ(decode_utf8("말"), (std::vector<char32_t>{0xB9D0}));
  EXPECT_EQ(encode_utf8(0xB9D0), "말");
  EXPECT_EQ(to_lower("경마장에 ABC"), "경마장에 abc");
  expect_error([] { encode_utf8(0xD800); }, {"U+D800"});
  expect_error([] { encode_utf8(0x110000); }, {"U+110000"});
}

TEST(TextUtf8, ReadTextFileNormalisesLineEndingsAndDropsTheByteOrderMark) {
  TempFolder folder;
  EXPECT_EQ(read_text_file(write_file(folder, "crlf.txt", "a\r\nb\rc\n\r\n말\r")), "a\nb\nc\n\n말\n");
  EXPECT_EQ(read_text_file(write_file(folder, "bom.txt", "\xEF\xBB\xBF경마장에\r\n")), "경마장에\n");
  // Only a leading mark is dropped; one inside the text is the character U+FEFF.
  EXPECT_EQ(read_text_file(write_file(folder, "inner.txt", "a\xEF\xBB\xBF")), "a\xEF\xBB\xBF");
  EXPECT_EQ(read_text_file(write_file(folder, "empty.txt", "")), "");
}

TEST(TextUtf8, ReadTextFileNamesTheFileAndByteOffsetOfInvalidUtf8) {
  TempFolder folder;
  struct Case {
    std::string name, bytes;
    std::size_t offset;
  };
  const std::vector<Case> cases = {
      {"stray.txt", "ab\n\x80z", 3},             // a continuation byte with no lead
      {"truncated.txt", "abc\xE2\x82", 3},       // the file ends inside a three-byte sequence
      {"overlong.txt", "xy\xC0\xAF", 2},         // '/' in two bytes
      {"overlong3.txt", "\xE0\x80\xAF", 0},      // '/' in three bytes
      {"surrogate.txt", "말\xED\xA0\x80", 3},    // U+D800
      {"too_large.txt", "\xF4\x90\x80\x80", 0},  // U+110000
      {"bom_then_bad.txt",
       "\xEF\xBB\xBF"
       "ok\xFF",
       5},  // offsets count the file's bytes, mark included
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const auto path = write_file(folder, c.name, c.bytes);
    expect_error([&] { read_text_file(path); }, {path.string(), "byte offset " + std::to_string(c.offset)});
  }
  // With replacement each maximal bad part becomes one U+FFFD (the stray byte, then the cut-short sequence).
  EXPECT_EQ(
      read_text_file(write_file(folder, "replace.txt", "a\x80\r\nb\xE2\x82"), {.replace_invalid = true}),
      "a\xEF\xBF\xBD\nb\xEF\xBF\xBD");
  expect_error([&] { read_text_file(folder.path() / "missing.txt"); }, {"missing.txt"});
}

TEST(TextUtf8, RandomBytesNeverCrashAndReplacementIsValid) {
  // Bytes drawn mostly from UTF-8's lead and continuation ranges, so that near-valid sequences are common.
  std::mt19937 random(6);
  const std::vector<unsigned char> alphabet = {0x41, 0x20, 0x0A, 0x0D, 0x80, 0x8F, 0x9F,
                                               0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE2,
                                               0xEA, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF};
  Tokenizer tokenizer;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes(random() % 12, '\0');
    for (char& byte : bytes) byte = static_cast<char>(alphabet[random() % alphabet.size()]);
    const std::string replaced = replace_invalid_utf8(bytes);
    ASSERT_FALSE(find_invalid_utf8(replaced).has_value()) << to_hex(bytes);
    const bool valid = !find_invalid_utf8(bytes).has_value();
    if (valid) {
      EXPECT_EQ(replaced, bytes);
    }
    try {
      for (const std::string& token : tokenizer.tokenize(bytes))
        EXPECT_FALSE(find_invalid_utf8(token).has_value());
      EXPECT_TRUE(valid) << to_hex(bytes);
    } catch (const Error&) {
      EXPECT_FALSE(valid) << to_hex(bytes);
    }
  }
}

// --- Tokenizer against the reference ---

TokenizerOptions options_from_json(const json& options) {
  TokenizerOptions result;
  if (options.contains("num_words")) result.num_words = options.at("num_words").get<int>();
  if (options.contains("filters")) result.filters = options.at("filters").get<std::string>();
  if (options.contains("lower")) result.lower = options.at("lower").get<bool>();
  if (options.contains("split")) result.split = options.at("split").get<std::string>();
  if (options.contains("char_level")) result.char_level = options.at("char_level").get<bool>();
  if (options.contains("oov_token")) result.oov_token = options.at("oov_token").get<std::string>();
  return result;
}

template <class Key, class Value>
std::vector<std::pair<Key, Value>> items(const OrderedDict<Key, Value>& dict) {
  return dict.items();
}

template <class Key, class Value>
std::vector<std::pair<Key, Value>> pairs(const json& list) {
  std::vector<std::pair<Key, Value>> result;
  for (const json& item : list) result.emplace_back(item.at(0).get<Key>(), item.at(1).get<Value>());
  return result;
}

void expect_state(const Tokenizer& tokenizer, const json& expected) {
  EXPECT_EQ(tokenizer.document_count(), expected.at("document_count").get<std::int64_t>());
  EXPECT_EQ(items(tokenizer.word_counts()), (pairs<std::string, std::int64_t>(expected.at("word_counts"))));
  EXPECT_EQ(items(tokenizer.word_docs()), (pairs<std::string, std::int64_t>(expected.at("word_docs"))));
  EXPECT_EQ(items(tokenizer.index_docs()), (pairs<int, std::int64_t>(expected.at("index_docs"))));
  EXPECT_EQ(items(tokenizer.word_index()), (pairs<std::string, int>(expected.at("word_index"))));
  EXPECT_EQ(items(tokenizer.index_word()), (pairs<int, std::string>(expected.at("index_word"))));
}

void expect_matrix(const Tensor& actual, const json& expected) {
  Tensor dense(expected.at("shape").get<Shape>());
  for (const json& entry : expected.at("entries"))
    dense.at({entry.at(0).get<std::int64_t>(), entry.at(1).get<std::int64_t>()}) = entry.at(2).get<float>();
  EXPECT_TRUE(rnnkit::testing::all_close(actual, dense, 1e-6, 1e-6));
}

TEST(TokenizerReference, MatchesTheIndependentImplementation) {
  for (const json& c : fixtures().at("tokenizer")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    Tokenizer tokenizer(options_from_json(c.at("options")));
    tokenizer.fit_on_texts(c.at("fit_texts").get<std::vector<std::string>>());
    expect_state(tokenizer, c);

    const auto queries = c.at("queries").get<std::vector<std::string>>();
    EXPECT_EQ(tokenizer.texts_to_sequences(queries), c.at("sequences").get<std::vector<std::vector<int>>>());
    EXPECT_EQ(tokenizer.sequences_to_texts(c.at("decode_sequences").get<std::vector<std::vector<int>>>()),
              c.at("decoded_texts").get<std::vector<std::string>>());
    for (const auto& [mode, expected] : c.at("matrices").items()) {
      SCOPED_TRACE(mode);
      if (expected.is_null()) {  // where Keras raises
        EXPECT_THROW(tokenizer.texts_to_matrix(queries, matrix_mode_from_string(mode)), Error);
        continue;
      }
      expect_matrix(tokenizer.texts_to_matrix(queries, matrix_mode_from_string(mode)), expected);
    }
    // Byte for byte what json.dumps writes, so Python parses the same dictionaries.
    const std::string written = tokenizer.to_json();
    EXPECT_EQ(written, c.at("to_json").get<std::string>());

    const Tokenizer reread = Tokenizer::from_json(c.at("to_json").get<std::string>());
    expect_state(reread, c);
    EXPECT_EQ(reread.to_json(), written);
    EXPECT_EQ(reread.texts_to_sequences(queries), c.at("sequences").get<std::vector<std::vector<int>>>());
  }
}

TEST(TokenizerReference, PadSequencesMatchesTheIndependentImplementation) {
  for (const json& c : fixtures().at("pad_sequences")) {
    PadSequencesOptions options{
        .padding = c.at("padding"), .truncating = c.at("truncating"), .value = c.at("value")};
    if (!c.at("maxlen").is_null()) options.maxlen = c.at("maxlen").get<std::int64_t>();
    SCOPED_TRACE(c.at("maxlen").dump() + " " + options.padding + " " + options.truncating);
    const auto expected = c.at("expected").get<std::vector<std::vector<float>>>();
    const Tensor padded = pad_sequences(c.at("sequences").get<std::vector<std::vector<int>>>(), options);
    ASSERT_EQ(padded.shape(), (Shape{static_cast<std::int64_t>(expected.size()),
                                     static_cast<std::int64_t>(expected.front().size())}));
    for (std::size_t row = 0; row < expected.size(); ++row)
      for (std::size_t column = 0; column < expected[row].size(); ++column)
        EXPECT_EQ(padded.at({static_cast<std::int64_t>(row), static_cast<std::int64_t>(column)}),
                  expected[row][column]);
  }
}

TEST(TokenizerReference, ToCategoricalMatchesTheIndependentImplementation) {
  for (const json& c : fixtures().at("to_categorical")) {
    SCOPED_TRACE(c.dump());
    const Tensor labels(c.at("shape").get<Shape>(), c.at("labels").get<std::vector<float>>());
    std::optional<std::int64_t> num_classes;
    if (!c.at("num_classes").is_null()) num_classes = c.at("num_classes").get<std::int64_t>();
    EXPECT_TRUE(rnnkit::testing::all_close(to_categorical(labels, num_classes),
                                           rnnkit::testing::tensor_from_json(c.at("expected")), 0, 0));
  }
}

// --- Cases counted by hand ---

const std::string kTutorial =
    "경마장에 있는 말이 뛰고 있다\n그의 말이 법이다\n가는 말이 고와야 오는 말이 곱다\n";

TEST(TokenizerHand, TutorialWordIndex) {
  // 말이 occurs 4 times (once in each of the first two lines, twice in the third); every other word once,
  // so 말이 takes index 1 and the rest follow in the order they first appear. The newlines are filters.
  Tokenizer tokenizer;
  tokenizer.fit_on_texts({kTutorial});
  const std::vector<std::pair<std::string, int>> expected = {
      {"말이", 1},   {"경마장에", 2}, {"있는", 3},   {"뛰고", 4},  {"있다", 5}, {"그의", 6},
      {"법이다", 7}, {"가는", 8},     {"고와야", 9}, {"오는", 10}, {"곱다", 11}};
  EXPECT_EQ(tokenizer.word_index().items(), expected);
  EXPECT_EQ(tokenizer.vocabulary_size(), 12);
  EXPECT_EQ(*tokenizer.word_counts().find("말이"), 4);
  EXPECT_EQ(tokenizer.text_to_sequence("가는 말이 고와야 오는 말이 곱다"),
            (std::vector<int>{8, 1, 9, 10, 1, 11}));
  // An unknown word is dropped without an oov_token.
  EXPECT_EQ(tokenizer.text_to_sequence("경마장에 새 말이"), (std::vector<int>{2, 1}));
  EXPECT_EQ(tokenizer.sequences_to_texts({{2, 1, 0, 99}}), (std::vector<std::string>{"경마장에 말이"}));

  // tfidf of "말이 말이": tf = 1 + ln 2; one document, and 말이 is in it: idf = ln(1 + 1/(1+1)) = ln 1.5.
  const Tensor tfidf = tokenizer.texts_to_matrix({"말이 말이"}, MatrixMode::tfidf);
  EXPECT_NEAR(tfidf.at({0, 1}), (1 + std::log(2.0)) * std::log(1.5), 1e-6);
  EXPECT_EQ(tfidf.at({0, 2}), 0.0f);
}

TEST(TokenizerHand, OovTokenAndNumWords) {
  // Counts over the three lines: 말이 4, then ties of 1 in first-seen order: 경마장에, 있는, 뛰고, ...
  // With oov_token "<OOV>" at 1 everything shifts by one: 말이 2, 경마장에 3, 있는 4, 뛰고 5, 있다 6.
  // num_words = 5 keeps indices 1-4; 뛰고 (5) and 있다 (6) become the oov index.
  Tokenizer tokenizer({.num_words = 5, .oov_token = "<OOV>"});
  tokenizer.fit_on_texts(
      {"경마장에 있는 말이 뛰고 있다", "그의 말이 법이다", "가는 말이 고와야 오는 말이 곱다"});
  EXPECT_EQ(*tokenizer.word_index().find("<OOV>"), 1);
  EXPECT_EQ(*tokenizer.word_index().find("있다"), 6);
  EXPECT_EQ(tokenizer.word_index().size(), 12u);  // word_index keeps every word; num_words filters later
  EXPECT_EQ(tokenizer.text_to_sequence("경마장에 있는 말이 뛰고 있다 새"),
            (std::vector<int>{3, 4, 2, 1, 1, 1}));
  EXPECT_EQ(tokenizer.sequences_to_texts({{3, 6, 42}}), (std::vector<std::string>{"경마장에 <OOV> <OOV>"}));
  EXPECT_EQ(tokenizer.texts_to_matrix({"말이"}).shape(), (Shape{1, 5}));
}

TEST(TokenizerHand, CharLevelKoreanKeepsSpacesAndLowercases) {
  // "말이 말" is 말, 이, space, 말: 말 twice, then 이 and the space once each in first-seen order.
  Tokenizer tokenizer({.char_level = true});
  tokenizer.fit_on_texts({"말이 말", "A\n"});
  const std::vector<std::pair<std::string, int>> expected = {
      {"말", 1}, {"이", 2}, {" ", 3}, {"a", 4}, {"\n", 5}};
  EXPECT_EQ(tokenizer.word_index().items(), expected);
  EXPECT_EQ(tokenizer.text_to_sequence("이말A!"), (std::vector<int>{2, 1, 4}));
  // Keras joins with a space even at character level; index_word decodes without.
  EXPECT_EQ(tokenizer.sequences_to_texts({{1, 2}}), (std::vector<std::string>{"말 이"}));
  EXPECT_EQ(*tokenizer.index_word().find(3), " ");
}

TEST(TokenizerHand, FiltersBecomeSeparatorsAndEmptyPiecesAreDropped) {
  // "Hello,world!!  again" -> "hello world    again" -> words hello, world, again.
  Tokenizer tokenizer;
  EXPECT_EQ(tokenizer.tokenize("Hello,world!!  again"),
            (std::vector<std::string>{"hello", "world", "again"}));
  // Curly quotes are not in Keras's filters, so they stay part of the word.
  EXPECT_EQ(tokenizer.tokenize("‘Sh! sh!’"), (std::vector<std::string>{"‘sh", "sh", "’"}));
}

TEST(TokenizerHand, BeforeFitting) {
  // Keras's word_index starts empty: unknown words vanish, and matrices need a width.
  Tokenizer plain;
  EXPECT_EQ(plain.texts_to_sequences({"a b"}), (std::vector<std::vector<int>>{{}}));
  expect_error([&] { plain.texts_to_matrix({"a"}); }, {"num_words", "fit_on_texts"});
  // With an oov_token Keras would emit None for each word; rnnkit says what is missing instead.
  Tokenizer with_oov({.oov_token = "<unk>"});
  expect_error([&] { with_oov.texts_to_sequences({"a"}); }, {"text 0", "fit_on_texts"});
  EXPECT_EQ(with_oov.texts_to_sequences({""}), (std::vector<std::vector<int>>{{}}));
  // A width from num_words is enough for sequences_to_matrix, not for tfidf without documents.
  Tokenizer sized({.num_words = 3});
  EXPECT_EQ(sized.sequences_to_matrix({{1, 2, 2, 7}}, MatrixMode::count).at({0, 2}), 2.0f);
  expect_error([&] { sized.sequences_to_matrix({{1}}, MatrixMode::tfidf); }, {"tfidf"});
  // freq divides by the whole length, ids beyond the width included: 2 of 4.
  EXPECT_EQ(sized.sequences_to_matrix({{1, 2, 2, 7}}, MatrixMode::freq).at({0, 2}), 0.5f);
}

TEST(TokenizerHand, JsonEscapesLikePython) {
  // json.dumps escapes non-ASCII as \uXXXX (lowercase hex, surrogate pairs above U+FFFF) and the inner
  // dictionaries are JSON strings inside the JSON, so their quotes and backslashes are escaped twice.
  Tokenizer tokenizer({.filters = "", .char_level = false});
  tokenizer.fit_on_texts({"말 🙂"});
  const std::string text = tokenizer.to_json();
  EXPECT_NE(text.find(R"("word_counts": "{\"\\ub9d0\": 1, \"\\ud83d\\ude42\": 1}")"), std::string::npos)
      << text;
  EXPECT_NE(
      text.find(R"("filters": "", "lower": true, "split": " ", "char_level": false, "oov_token": null)"),
      std::string::npos)
      << text;
  EXPECT_EQ(text.rfind(R"({"class_name": "Tokenizer", "config": {"num_words": null,)", 0), 0u) << text;
}

TEST(TokenizerHand, FromJsonAcceptsKerasOrderAndContinuesFitting) {
  // Keras writes word_docs and index_docs in set order, which differs from run to run.
  const std::string keras =
      R"({"class_name": "Tokenizer", "config": {"num_words": null, "filters": "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n", )"
      R"("lower": true, "split": " ", "char_level": false, "oov_token": null, "document_count": 2, )"
      R"("word_counts": "{\"b\": 1, \"a\": 2}", "word_docs": "{\"a\": 2, \"b\": 1}", )"
      R"("index_docs": "{\"1\": 2, \"2\": 1}", "index_word": "{\"1\": \"a\", \"2\": \"b\"}", )"
      R"("word_index": "{\"a\": 1, \"b\": 2}"}})";
  Tokenizer tokenizer = Tokenizer::from_json(keras);
  EXPECT_EQ(tokenizer.document_count(), 2);
  EXPECT_EQ(tokenizer.options().filters, TokenizerOptions{}.filters);
  EXPECT_EQ(tokenizer.text_to_sequence("A b c"), (std::vector<int>{1, 2}));
  // b then c reach 2 and 1: counts a 2, b 2, c 1 (first seen: b, a, c) -> b 1, a 2, c 3.
  tokenizer.fit_on_texts({"b c"});
  const std::vector<std::pair<std::string, int>> expected = {{"b", 1}, {"a", 2}, {"c", 3}};
  EXPECT_EQ(tokenizer.word_index().items(), expected);
  EXPECT_EQ(tokenizer.document_count(), 3);
}

// --- Bad input ---

TEST(TokenizerErrors, BadOptionsAndText) {
  expect_error([] { Tokenizer({.split = ""}); }, {"split"});
  EXPECT_NO_THROW(Tokenizer({.split = "", .char_level = true}));
  expect_error([] { Tokenizer({.num_words = -1}); }, {"num_words"});
  expect_error([] { Tokenizer({.filters = "\xFF"}); }, {"filters", "byte offset 0"});
  expect_error([] { Tokenizer({.oov_token = "a\xC0\xAF"}); }, {"oov_token", "byte offset 1"});
  Tokenizer tokenizer;
  expect_error(
      [&] {
        tokenizer.fit_on_texts({"fine", "bad \xED\xA0\x80 text"});
      },
      {"text 1", "byte offset 4"});
  expect_error([&] { tokenizer.texts_to_sequences({"\xE2\x82"}); }, {"text 0", "byte offset 0"});
  expect_error([] { matrix_mode_from_string("tf-idf"); }, {"tf-idf", "binary, count, tfidf or freq"});
  EXPECT_EQ(tokenizer.document_count(), 0);  // the good text before the bad one was not counted either
  EXPECT_TRUE(tokenizer.word_counts().empty());
  tokenizer.fit_on_texts({"a b"});
  expect_error([&] { tokenizer.sequences_to_matrix({{1}, {2, -1}}); }, {"sequence 1", "position 1", "-1"});
}

TEST(TokenizerErrors, FromJsonNamesTheField) {
  Tokenizer fitted;
  fitted.fit_on_texts({"a b a"});
  json good = json::parse(fitted.to_json());
  const auto with = [&](const std::function<void(json&)>& edit) {
    json copy = good;
    edit(copy);
    return copy.dump();
  };
  expect_error([] { Tokenizer::from_json("{not json"); }, {"not valid JSON"});
  expect_error([] { Tokenizer::from_json("[]"); }, {"object"});
  expect_error([&] { Tokenizer::from_json(with([](json& j) { j.erase("config"); })); }, {"config"});
  expect_error([&] { Tokenizer::from_json(with([](json& j) { j["config"].erase("word_index"); })); },
               {"word_index"});
  expect_error(
      [&] { Tokenizer::from_json(with([](json& j) { j["config"]["word_counts"] = json::object(); })); },
      {"config.word_counts", "string"});
  expect_error([&] { Tokenizer::from_json(with([](json& j) { j["config"]["word_docs"] = "{\"a\": "; })); },
               {"config.word_docs", "not valid JSON"});
  expect_error(
      [&] { Tokenizer::from_json(with([](json& j) { j["config"]["index_word"] = "{\"x\": \"a\"}"; })); },
      {"config.index_word", "\"x\""});
  expect_error(
      [&] {
        Tokenizer::from_json(with([](json& j) { j["config"]["word_index"] = "{\"a\": \"1\", \"b\": 2}"; }));
      },
      {"config.word_index[\"a\"]", "integer"});
  expect_error(
      [&] {
        Tokenizer::from_json(
            with([](json& j) { j["config"]["index_word"] = "{\"1\": \"b\", \"2\": \"a\"}"; }));
      },
      {"config.index_word", "config.word_index"});
  expect_error(
      [&] { Tokenizer::from_json(with([](json& j) { j["config"]["word_counts"] = "{\"a\": -2}"; })); },
      {"config.word_counts[\"a\"]", "negative"});
  expect_error([&] { Tokenizer::from_json(with([](json& j) { j["config"]["lower"] = "yes"; })); },
               {"config.lower"});
  expect_error([&] { Tokenizer::from_json(with([](json& j) { j["config"]["num_words"] = 1.5; })); },
               {"config.num_words"});
  expect_error([&] { Tokenizer::from_json(with([](json& j) { j["config"]["analyser"] = nullptr; })); },
               {"unknown field", "analyser"});
  expect_error([&] { Tokenizer::from_json(with([](json& j) { j["config"]["split"] = ""; })); }, {"split"});
}

TEST(SequencesErrors, PadSequences) {
  // Keras's docstring examples.
  const std::vector<std::vector<int>> sequences = {{1}, {2, 3}, {4, 5, 6}};
  EXPECT_EQ(pad_sequences(sequences).reshaped({9}).values().size(), 9u);
  const Tensor cut = pad_sequences(sequences, {.maxlen = 2});
  EXPECT_EQ(std::vector<float>(cut.values().begin(), cut.values().end()),
            (std::vector<float>{0, 1, 2, 3, 5, 6}));
  const Tensor post = pad_sequences(sequences, {.padding = "post", .value = -1});
  EXPECT_EQ(std::vector<float>(post.values().begin(), post.values().end()),
            (std::vector<float>{1, -1, -1, 2, 3, -1, 4, 5, 6}));
  EXPECT_EQ(pad_sequences({}, {.maxlen = 3}).shape(), (Shape{0, 3}));
  EXPECT_EQ(pad_sequences(sequences, {.maxlen = 0}).shape(), (Shape{3, 0}));

  expect_error([&] { pad_sequences(sequences, {.padding = "middle"}); }, {"padding", "middle"});
  expect_error([&] { pad_sequences(sequences, {.truncating = "end"}); }, {"truncating", "end"});
  expect_error([&] { pad_sequences(sequences, {.maxlen = -1}); }, {"maxlen"});
  expect_error([] { pad_sequences({}); }, {"maxlen"});
  EXPECT_NO_THROW(pad_sequences({{1 << 24}}));
  expect_error([] { pad_sequences({{1}, {2, (1 << 24) + 1}}); }, {"sequence 1", "position 1", "16777217"});
}

TEST(SequencesErrors, ToCategorical) {
  const Tensor identity = to_categorical(Tensor({4}, {0, 1, 2, 3}), 4);
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 4; ++j) EXPECT_EQ(identity.at({i, j}), i == j ? 1.0f : 0.0f);
  expect_error([] { to_categorical(Tensor({3}, {0, 5, 1}), 3); }, {"label 1", "5", "num_classes 3"});
  expect_error([] { to_categorical(Tensor({2}, {0, -1})); }, {"label 1", "-1"});
  expect_error([] { to_categorical(Tensor({2}, {0.5f, 1})); }, {"label 0", "0.5"});
  expect_error(
      [] {
        to_categorical(Tensor({2}, {1, std::numeric_limits<float>::quiet_NaN()}));
      },
      {"label 1", "nan"});
  expect_error([] { to_categorical(Tensor({1}, {0}), -2); }, {"num_classes"});
  expect_error([] { to_categorical(Tensor({2}, {1, 1e30f})); }, {"label 1"});
  expect_error([] { to_categorical(Tensor(Shape{0})); }, {"infer"});
}

}  // namespace
}  // namespace rnnkit
