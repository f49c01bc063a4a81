#include "rnnkit/layers/dropout.h"

#include "layers/config_number.h"
#include "rnnkit/error.h"

namespace rnnkit {

Dropout::Dropout(float rate, const DropoutOptions& options)
    : Layer("Dropout", "dropout", options.name,
            {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape}),
      rate_(rate) {
  check(rate >= 0.0f && rate < 1.0f, where(), ": rate must be in [0, 1), received ", rate);
}

std::vector<Tensor> Dropout::forward(const Tensor& x, const CallArgs& args) {
  trained_scale_ = Tensor();
  if (!args.training || rate_ == 0.0f) return {x};
  check(args.rng != nullptr, where(), ": a training call needs a random generator for the dropout mask");
  // Keras's inverted dropout: keep with probability 1 - rate and scale by 1/(1 - rate).
  trained_scale_ = Tensor(x.shape());
  const float keep_scale = 1.0f / (1.0f - rate_);
  for (float& scale : trained_scale_.values()) scale = args.rng->uniform() >= rate_ ? keep_scale : 0.0f;
  Tensor y = x;
  for (std::int64_t i = 0; i < y.size(); ++i) y[i] *= trained_scale_[i];
  return {std::move(y)};
}

InputGrads Dropout::backward_pass(const std::vector<Tensor>& output_grads) {
  Tensor grad = output_grads[0];
  if (!trained_scale_.empty())
    for (std::int64_t i = 0; i < grad.size(); ++i) grad[i] *= trained_scale_[i];
  return {std::move(grad)};
}

nlohmann::json Dropout::config() const {
  nlohmann::json config = Layer::config();
  config["rate"] = config_number(rate_);
  config["noise_shape"] = nullptr;
  config["seed"] = nullptr;
  return config;
}

InputLayer::InputLayer(const InputSpec& input, std::string name, std::string dtype)
    : Layer("InputLayer", "input", name.empty() ? unique_object_name("input", false) : std::move(name),
            input),
      dtype_(std::move(dtype)) {
  check(declared_batch_input_shape().has_value(), where(), ": an input layer needs a shape");
  check(dtype_ == "float32" || dtype_ == "int32" || dtype_ == "int64", where(), ": dtype '", dtype_,
        "' is not supported (float32, int32 or int64)");
}

nlohmann::json InputLayer::config() const {
  nlohmann::json config = Layer::config();
  config.erase("trainable");
  config["dtype"] = dtype_;
  config["sparse"] = false;
  config["ragged"] = false;
  return config;
}

}  // namespace rnnkit
