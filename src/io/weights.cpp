#include "rnnkit/weights.h"

#include <set>

#include "rnnkit/error.h"
#include "rnnkit/npy.h"

namespace rnnkit {
namespace {

std::vector<std::string> split_path(std::string name) {
  if (name.ends_with(":0")) name.resize(name.size() - 2);
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t slash; (slash = name.find('/', start)) != std::string::npos; start = slash + 1)
    parts.push_back(name.substr(start, slash - start));
  parts.push_back(name.substr(start));
  return parts;
}

std::string direction(const std::vector<std::string>& parts) {
  for (const std::string& part : parts) {
    if (part.starts_with("forward_")) return "forward";
    if (part.starts_with("backward_")) return "backward";
  }
  return "";
}

bool same_weight(const std::string& wanted, const std::string& candidate) {
  if (wanted == candidate) return true;
  const std::vector<std::string> a = split_path(wanted), b = split_path(candidate);
  return a.front() == b.front() && a.back() == b.back() && direction(a) == direction(b);
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> named_weights(const Model& model) {
  std::vector<std::pair<std::string, Tensor>> weights;
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model.layer(i);
    const std::vector<std::string> names = layer.weight_names();
    std::vector<Tensor> values = layer.get_weights();
    for (std::size_t k = 0; k < names.size(); ++k) weights.emplace_back(names[k], std::move(values[k]));
  }
  return weights;
}

void set_named_weights(Model& model, const std::vector<std::pair<std::string, Tensor>>& arrays,
                       const std::string& source) {
  check(model.built(), source, ": model '", model.name(),
        "' is not built yet, so its weight shapes are unknown: give it an input shape first");
  std::set<std::size_t> used;
  for (std::size_t i = 0; i < model.size(); ++i) {
    Layer& layer = model.layer(i);
    std::vector<Tensor> values;
    for (const std::string& wanted : layer.weight_names()) {
      std::optional<std::size_t> found;
      for (std::size_t k = 0; k < arrays.size(); ++k) {
        if (!same_weight(wanted, arrays[k].first)) continue;
        check(!found, source, ": both '", arrays[*found].first, "' and '", arrays[k].first, "' match weight '",
              wanted, "'");
        found = k;
      }
      check(found.has_value(), source, ": no array for weight '", wanted, "' of layer '", layer.name(), "'");
      used.insert(*found);
      values.push_back(arrays[*found].second);
    }
    try {
      layer.set_weights(values);
    } catch (const Error& error) {
      fail(source, ": ", error.what());
    }
  }
  for (std::size_t k = 0; k < arrays.size(); ++k)
    check(used.count(k), source, ": array '", arrays[k].first, "' matches no weight of model '", model.name(), "'");
}

void load_weights_npz(Model& model, const std::filesystem::path& path) {
  set_named_weights(model, load_npz(path), "weights file '" + path.string() + "'");
}

void save_weights_npz(const Model& model, const std::filesystem::path& path) {
  save_npz(path, named_weights(model));
}

}  // namespace rnnkit
