// libFuzzer target: Keras .h5 model files (HDF5) read from memory, through rnnkit's HDF5 reader, the Keras 1/2
// layout and config dialects, and weight conversion. Anything but rnnkit::Error escaping, a crash or a
// sanitizer report is a finding. Seeds: tests/model_files/files/*.h5 and malformed/*.h5 (fuzz/run.sh).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/keras_h5.h"
#include "rnnkit/error.h"
#include "rnnkit/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (!rnnkit::h5::has_signature(bytes.substr(0, 4096))) return -1;  // not HDF5: not this target's input
  try {
    rnnkit::Sequential model = rnnkit::load_model_from_memory(bytes, "fuzz input");
    (void)model.count_params();
  } catch (const rnnkit::Error&) {
  }
  return 0;
}
