#include "rnnkit/layers/embedding.h"

#include <algorithm>
#include <cmath>

#include "layers/initializers.h"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// tf.keras 2 gives every Embedding an input shape: (input_length,), or (None,) when the length is free.
InputSpec embedding_input(const EmbeddingOptions& options) {
  if (options.input_shape || options.batch_input_shape)
    return {.input_shape = options.input_shape, .batch_input_shape = options.batch_input_shape};
  if (!options.implies_input_shape && !options.input_length) return {};
  return {.input_shape = Shape{options.input_length.value_or(kNone)}};
}

}  // namespace

Embedding::Embedding(std::int64_t input_dim, std::int64_t output_dim, const EmbeddingOptions& options)
    : Layer("Embedding", "embedding", options.name, embedding_input(options)),
      input_dim_(input_dim),
      output_dim_(output_dim),
      options_(options) {
  check(input_dim > 0, where(), ": input_dim must be positive, received ", input_dim);
  check(output_dim > 0, where(), ": output_dim must be positive, received ", output_dim);
  options_.embeddings_initializer =
      initializer_config(options.embeddings_initializer, where() + " embeddings_initializer");
  check_regularizer(options.embeddings_regularizer, where() + " embeddings_regularizer");
  check_regularizer(options.activity_regularizer, where() + " activity_regularizer");
  set_activity_regularizer(options.activity_regularizer);
  check_constraint(options.embeddings_constraint, where() + " embeddings_constraint");
}

std::vector<Shape> Embedding::compute_output_shapes(const Shape& input_shape) const {
  Shape output = input_shape;
  output.push_back(output_dim_);
  return {output};
}

void Embedding::build_weights(const Shape& input_shape, Rng& rng) {
  check(input_shape.size() >= 2, where(), ": expected token ids of shape (batch, timesteps), received shape ",
        shape_string(input_shape));
  initialize(options_.embeddings_initializer,
             add_param("embeddings", {input_dim_, output_dim_}, options_.embeddings_regularizer,
                       options_.embeddings_constraint),
             rng, where() + " embeddings_initializer");
}

std::vector<Tensor> Embedding::forward(const Tensor& x, const CallArgs& args) {
  Shape output_shape = x.shape();
  output_shape.push_back(output_dim_);
  Tensor y = Tensor::uninitialized(output_shape);  // (B,T,E): every row copied from the table
  const float* table = own_weight(0).data();       // (V,E)
  for (std::int64_t i = 0; i < x.size(); ++i) {
    const float id = x[i];
    // Keras casts ids to int; a fractional, negative or too large id is a bug in the caller's data.
    check(std::isfinite(id) && id == std::floor(id) && id >= 0.0f && id < static_cast<float>(input_dim_),
          where(), ": token id ", id, " at flat position ", i, " of the input ", shape_string(x.shape()),
          " is not an integer in [0, ", input_dim_, ")");
    const auto row = static_cast<std::int64_t>(id);
    std::copy_n(table + row * output_dim_, output_dim_, y.data() + i * output_dim_);
  }
  if (args.training) trained_ids_ = x;
  return {std::move(y)};
}

// Only the rows that were looked up get a gradient; token ids have none.
InputGrads Embedding::backward_pass(const std::vector<Tensor>& output_grads) {
  const Tensor& grad = output_grads[0];    // (B,T,E)
  float* table_grad = own_grad(0).data();  // (V,E)
  for (std::int64_t i = 0; i < trained_ids_.size(); ++i) {
    float* row = table_grad + static_cast<std::int64_t>(trained_ids_[i]) * output_dim_;
    for (std::int64_t e = 0; e < output_dim_; ++e) row[e] += grad[i * output_dim_ + e];
  }
  return {};
}

void Embedding::backward_from_table_grad(const Tensor& embeddings_grad) {
  check(embeddings_grad.shape() == own_weight(0).shape(), where(),
        ": the gradient of the embeddings must have shape ", shape_string(own_weight(0).shape()),
        ", received ", shape_string(embeddings_grad.shape()));
  float* table_grad = own_grad(0).data();
  for (std::int64_t i = 0; i < embeddings_grad.size(); ++i) table_grad[i] += embeddings_grad[i];
}

std::optional<Tensor> Embedding::compute_mask(const Tensor& x, const Tensor* /*mask*/) const {
  if (!options_.mask_zero) return std::nullopt;
  Tensor mask(x.shape());
  for (std::int64_t i = 0; i < x.size(); ++i) mask[i] = x[i] != 0.0f ? 1.0f : 0.0f;
  return mask;
}

nlohmann::json Embedding::config() const {
  nlohmann::json config = Layer::config();
  config["input_dim"] = input_dim_;
  config["output_dim"] = output_dim_;
  config["embeddings_initializer"] = options_.embeddings_initializer;
  config["embeddings_regularizer"] = regularizer_config(options_.embeddings_regularizer);
  config["activity_regularizer"] = regularizer_config(options_.activity_regularizer);
  config["embeddings_constraint"] = constraint_config(options_.embeddings_constraint);
  config["mask_zero"] = options_.mask_zero;
  config["input_length"] =
      options_.input_length ? nlohmann::json(*options_.input_length) : nlohmann::json(nullptr);
  return config;
}

}  // namespace rnnkit
