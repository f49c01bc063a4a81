#include "model_arrays.h"

#include <algorithm>
#include <optional>

#include "rnnkit/error.h"
#include "rnnkit/npy.h"

namespace rnnkit::cli {
bool ends_with_npz(const std::string& path) {
  return path.size() >= 4 && path.compare(path.size() - 4, 4, ".npz") == 0;
}

std::vector<Tensor> read_model_arrays(const std::vector<std::string>& given,
                                      const std::vector<std::string>& names, std::string_view flag,
                                      std::string_view what) {
  std::string known;
  for (const std::string& name : names) known += (known.empty() ? "" : ", ") + name;
  if (given.size() == 1 && ends_with_npz(given[0]) && given[0].find('=') == std::string::npos) {
    const NamedTensors arrays = load_npz(given[0]);
    check(arrays.size() == names.size(), flag, " '", given[0], "' holds ", arrays.size(),
          " arrays; the model has ", names.size(), " ", what, "(s): ", known);
    std::vector<Tensor> ordered;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const auto named = std::ranges::find_if(arrays, [&](const auto& a) { return a.first == names[i]; });
      ordered.push_back(named != arrays.end() ? named->second : arrays[i].second);
    }
    return ordered;
  }
  check(given.size() == names.size(), "the model has ", names.size(), " ", what, "(s) (", known,
        "), received ", given.size(), " ", flag);
  std::vector<std::optional<Tensor>> arrays(names.size());
  for (std::size_t i = 0; i < given.size(); ++i) {
    const std::size_t equals = given[i].find('=');
    std::size_t slot = i;
    std::string file = given[i];
    if (equals != std::string::npos) {
      const std::string name = given[i].substr(0, equals);
      const auto found = std::ranges::find(names, name);
      check(found != names.end(), flag, " ", given[i], ": the model has no ", what, " '", name, "' (its ", what,
            "s: ", known, ")");
      slot = static_cast<std::size_t>(found - names.begin());
      file = given[i].substr(equals + 1);
    }
    check(!arrays[slot], flag, ": '", names[slot], "' is given twice");
    arrays[slot] = load_npy(file);
  }
  std::vector<Tensor> ordered;
  for (auto& array : arrays) ordered.push_back(std::move(*array));
  return ordered;
}

}  // namespace rnnkit::cli
