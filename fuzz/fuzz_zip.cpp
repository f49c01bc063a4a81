// libFuzzer target: Keras 3 .keras archives read from memory: the zip container (libzip), config.json in the
// Keras 3 dialect, metadata.json and the model.weights.h5 inside. Seeds: tests/model_files/files/*.keras and
// malformed/*.keras (fuzz/run.sh).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/keras_zip.h"
#include "rnnkit/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    rnnkit::Sequential model = rnnkit::keras3::load_archive_from_memory(bytes, "fuzz input", {}).model;
    (void)model.count_params();
  } catch (const rnnkit::Error&) {
  }
  return 0;
}
