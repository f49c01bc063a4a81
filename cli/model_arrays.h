// The arrays of a model's inputs or outputs as the command line names them: one .npy per array (in order, or
// NAME=FILE), or one .npz holding an array per input or output layer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit::cli {

// Whether a path names a .npz file.
bool ends_with_npz(const std::string& path);

// The arrays for `names` (the model's input or output layer names, in its order), from what `flag` was given:
//   - one FILE.npz: an array per name (matched by name, else taken in order);
//   - one FILE.npy or NAME=FILE.npy per name.
// The errors name the flag, the file and the names the model has.
// `what` is "input" or "output".
std::vector<Tensor> read_model_arrays(const std::vector<std::string>& given, const std::vector<std::string>& names,
                                      std::string_view flag, std::string_view what);

}  // namespace rnnkit::cli
