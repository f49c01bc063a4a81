#include "rnnkit/layers/dropout.h"

#include "rnnkit/error.h"

namespace rnnkit {

Dropout::Dropout(float rate, const DropoutOptions& options)
    : Layer("Dropout", "dropout", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      rate_(rate) {
  check(rate >= 0.0f && rate < 1.0f, where(), ": rate must be in [0, 1), received ", rate);
}

std::vector<Tensor> Dropout::forward(const Tensor& x, const CallArgs& args) {
  check(!args.training || rate_ == 0.0f, where(), ": training with dropout is not implemented yet");
  return {x};
}

nlohmann::json Dropout::config() const {
  nlohmann::json config = Layer::config();
  config["rate"] = rate_;
  config["noise_shape"] = nullptr;
  config["seed"] = nullptr;
  return config;
}

InputLayer::InputLayer(const InputSpec& input, std::string name)
    : Layer("InputLayer", "input", name.empty() ? unique_object_name("input", false) : std::move(name), input) {
  check(declared_batch_input_shape().has_value(), where(), ": an input layer needs a shape");
}

nlohmann::json InputLayer::config() const {
  nlohmann::json config = Layer::config();
  config.erase("trainable");
  config["sparse"] = false;
  config["ragged"] = false;
  return config;
}

}  // namespace rnnkit
