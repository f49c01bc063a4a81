#include "rnnkit/text/subword.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <unordered_map>

#include "rnnkit/error.h"
#include "rnnkit/text/utf8.h"

namespace rnnkit {
namespace {

// The training texts, one sentence each, as SentencePiece's trainer reads them.
class TextIterator : public sentencepiece::SentenceIterator {
 public:
  TextIterator(const std::vector<std::string>& texts, bool lower) : texts_(texts), lower_(lower) { load(); }
  bool done() const override { return index_ >= texts_.size(); }
  void Next() override {
    ++index_;
    load();
  }
  const std::string& value() const override { return current_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void load() {
    if (done()) return;
    const std::string& text = texts_[index_];
    current_ = lower_ ? to_lower(text, "a training text") : text;
    // SentencePiece reads a sentence per line: a line break inside a text would split it.
    for (char& c : current_)
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  const std::vector<std::string>& texts_;
  bool lower_;
  std::size_t index_ = 0;
  std::string current_;
};

}  // namespace

struct SubwordTokenizer::Processor {
  sentencepiece::SentencePieceProcessor processor;
};

SubwordTokenizer::SubwordTokenizer() : processor_(std::make_unique<Processor>()) {}
SubwordTokenizer::SubwordTokenizer(SubwordTokenizer&&) noexcept = default;
SubwordTokenizer& SubwordTokenizer::operator=(SubwordTokenizer&&) noexcept = default;
SubwordTokenizer::~SubwordTokenizer() = default;

SubwordTokenizer SubwordTokenizer::train(const std::vector<std::string>& texts,
                                         const SubwordOptions& options) {
  check(!texts.empty(), "SentencePiece: no texts to train on");
  check(options.vocab_size >= 4, "SentencePiece: vocab_size must be at least 4, not ", options.vocab_size);
  for (const std::string& text : texts) check_utf8(text, "a training text");
  sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned int>(options.seed));
  const std::unordered_map<std::string, std::string> spec{
      {"model_type", "unigram"},
      {"vocab_size", std::to_string(options.vocab_size)},
      // A vocabulary the texts cannot fill is made smaller rather than an error.
      {"hard_vocab_limit", "false"},
      {"character_coverage", std::to_string(options.character_coverage)},
      {"pad_id", "0"},
      {"unk_id", "1"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      // One thread and the input in its order: the same texts give the same model.
      {"num_threads", "1"},
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      {"minloglevel", "2"},
  };
  TextIterator iterator(texts, options.lower);
  SubwordTokenizer tokenizer;
  const auto status = sentencepiece::SentencePieceTrainer::Train(spec, &iterator, &tokenizer.model_);
  // The common failure: fewer pieces than the distinct characters the texts need (Korean has thousands).
  check(status.ok(), "SentencePiece cannot train ", options.vocab_size, " pieces on these texts (",
        status.message(), ")");
  const auto loaded = tokenizer.processor_->processor.LoadFromSerializedProto(tokenizer.model_);
  check(loaded.ok(), "SentencePiece: the trained model does not load: ", loaded.ToString());
  tokenizer.lower_ = options.lower;
  return tokenizer;
}

SubwordTokenizer SubwordTokenizer::from_model(std::string_view model_bytes, bool lower,
                                              std::string_view source) {
  SubwordTokenizer tokenizer;
  tokenizer.model_ = std::string(model_bytes);
  const auto loaded = tokenizer.processor_->processor.LoadFromSerializedProto(tokenizer.model_);
  check(loaded.ok(), source, " is not a SentencePiece model: ", loaded.ToString());
  check(tokenizer.processor_->processor.pad_id() == 0, source,
        ": the SentencePiece model's pad id is not 0 (id 0 must be the Embedding's padding)");
  tokenizer.lower_ = lower;
  return tokenizer;
}

std::vector<int> SubwordTokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  const std::string input = lower_ ? to_lower(text, "the text") : std::string(text);
  check_utf8(input, "the text");
  const auto status = processor_->processor.Encode(input, &ids);
  check(status.ok(), "SentencePiece cannot encode the text: ", status.ToString());
  return ids;
}

std::vector<std::string> SubwordTokenizer::pieces(std::string_view text) const {
  std::vector<std::string> result;
  const std::string input = lower_ ? to_lower(text, "the text") : std::string(text);
  check_utf8(input, "the text");
  const auto status = processor_->processor.Encode(input, &result);
  check(status.ok(), "SentencePiece cannot encode the text: ", status.ToString());
  return result;
}

std::string SubwordTokenizer::decode(const std::vector<int>& ids) const {
  for (const int id : ids)
    check(id >= 0 && id < vocabulary_size(), "SentencePiece: id ", id, " is outside the vocabulary of ",
          vocabulary_size());
  std::string text;
  const auto status = processor_->processor.Decode(ids, &text);
  check(status.ok(), "SentencePiece cannot decode: ", status.ToString());
  return text;
}

int SubwordTokenizer::vocabulary_size() const {
  return processor_->processor.GetPieceSize();
}

}  // namespace rnnkit
