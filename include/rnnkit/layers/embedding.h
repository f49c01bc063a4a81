// Embedding: token ids (B,T) to vectors (B,T,E) by row lookup, optionally masking id 0 (mask_zero).
#pragma once

#include "rnnkit/layer.h"

namespace rnnkit {

struct EmbeddingOptions {
  std::optional<std::int64_t> input_length{};  // T, when fixed
  // tf.keras 2 gives every Embedding the input shape (input_length,) (None when free), so a model that starts
  // with one is built from its config; Keras 3's Embedding declares none, and such a model stays unbuilt.
  bool implies_input_shape = true;
  bool mask_zero = false;
  nlohmann::json embeddings_initializer = "uniform";
  std::optional<Regularizer> embeddings_regularizer{};  // rnnkit::L2(0.01), ...
  std::optional<Regularizer> activity_regularizer{};
  std::optional<Constraint> embeddings_constraint{};  // rnnkit::MaxNorm(3), ...
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::string name{};
};

class Embedding : public Layer {
 public:
  Embedding(std::int64_t input_dim, std::int64_t output_dim, const EmbeddingOptions& options = {});
  std::int64_t input_dim() const { return input_dim_; }
  std::int64_t output_dim() const { return output_dim_; }
  const EmbeddingOptions& options() const { return options_; }
  const Tensor& embeddings() const { return own_weight(0); }  // (V,E)
  // backward() where the next layer took this one's output as a TableLookup and returned dL/d(embeddings).
  void backward_from_table_grad(const Tensor& embeddings_grad);
  std::optional<Tensor> compute_mask(const Tensor& x, const Tensor* mask) const override;
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Embedding>(*this); }

 protected:
  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;

 private:
  std::int64_t input_dim_;   // V
  std::int64_t output_dim_;  // E
  EmbeddingOptions options_;
  Tensor trained_ids_;  // (B,T) of the last training call
};

}  // namespace rnnkit
