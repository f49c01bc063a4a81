// numpy's .npy and .npz files: how Keras weights and test data travel between Python and rnnkit.
//
// Reading accepts .npy format versions 1.0, 2.0 and 3.0 with a little-endian float32, float64, int8/16/32/64,
// uint8/16/32/64 or bool dtype, in C or Fortran order, and converts to float32. Integers must lie within
// ±2^24 (float32 holds them exactly: token ids stay exact), float64 values must fit in float32's range.
// Big-endian, object, structured, string and complex dtypes are errors. Writing produces float32 ('<f4'),
// C order, format 1.0, byte for byte what np.save writes for the same float32 array, and replaces the file
// atomically.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit {

Tensor load_npy(const std::filesystem::path& path);
void save_npy(const std::filesystem::path& path, const Tensor& tensor);

// The bytes of a .npy file. `what_for_errors` names the source in messages, e.g. "\"weights.npy\"".
Tensor parse_npy(std::string_view bytes, const std::string& what_for_errors);
std::string serialize_npy(const Tensor& tensor);

// An .npz archive is a zip of NAME.npy members, as np.savez (stored) and np.savez_compressed (deflated)
// write. Names may contain '/' and ':', like Keras's "lstm/lstm_cell/kernel:0".
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

enum class NpzCompression { kStored, kDeflated };

// The arrays in archive order, named without the ".npy" suffix.
NamedTensors load_npz(const std::filesystem::path& path);
// Writes member "NAME.npy" per array, in order; replaces the file atomically. Names must be unique.
void save_npz(const std::filesystem::path& path, const NamedTensors& arrays,
              NpzCompression compression = NpzCompression::kStored);

}  // namespace rnnkit
