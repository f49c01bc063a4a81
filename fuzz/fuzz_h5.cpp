// libFuzzer target: HDF5 files read from memory through rnnkit's HDF5 reader: Keras 1/2 .h5 model files
// (the Keras 1/2 layout, config dialects and weight conversion), and weights-only files in the Keras 2 layout
// (save_weights) and the Keras 3 layout (model.weights.h5 inside .keras, *.weights.h5), loaded into a fixed
// Embedding + LSTM + Dense model. Anything but rnnkit::Error escaping, a crash or a sanitizer report is a
// finding. Seeds: tests/model_files/files/*.h5, *.h5py and malformed/*.h5 (fuzz/run.sh).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/keras_h5.h"
#include "io/keras_zip.h"
#include "rnnkit/error.h"
#include "rnnkit/layers/dense.h"
#include "rnnkit/layers/embedding.h"
#include "rnnkit/layers/lstm.h"
#include "rnnkit/model_file.h"

namespace {

// The model of the weights-only seeds (tests/model_files/files/embedding_lstm_dense.*weights*).
rnnkit::Sequential weights_model() {
  rnnkit::Sequential model({.name = "sequential"});
  model.add(rnnkit::Embedding(100, 3, {.input_length = 6, .name = "embedding"}));
  model.add(rnnkit::LSTM(4, {.name = "lstm"}));
  model.add(rnnkit::Dense(1, {.activation = "sigmoid", .name = "dense"}));
  return model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!rnnkit::h5::has_signature(bytes.substr(0, 4096))) return -1;  // not HDF5: not this target's input
  try {
    const rnnkit::h5::Reader file = rnnkit::h5::Reader::open_memory(bytes, "fuzz input");
    if (file.has_attribute("/", "model_config")) {
      rnnkit::Sequential model = rnnkit::load_model_from_memory(bytes, "fuzz input");
      (void)model.count_params();
    } else if (rnnkit::keras2::is_weights_group(file, "/")) {
      rnnkit::Sequential model = weights_model();
      rnnkit::keras2::load_weights(file, "/", model);
    } else if (rnnkit::keras3::is_weights_file(file)) {
      rnnkit::Sequential model = weights_model();
      rnnkit::keras3::load_weights(file, model);
    }
  } catch (const rnnkit::Error&) {
  }
  return 0;
}
