// Keras's dot-product attention layers: Attention (Luong) and AdditiveAttention (Bahdanau), each called on
// [query, value] or [query, value, key] (Attention()({q, v})).
#pragma once

#include "rnnkit/layer.h"

namespace rnnkit {

// What both layers share: Keras's call arguments use_causal_mask and return_attention_scores are options
// here, one value for every call of the layer.
struct AttentionCallOptions {
  float dropout = 0.0f;          // of the attention weights, while training
  bool use_causal_mask = false;  // query step i sees key steps j <= i only (tf.keras 2.6-2.9's causal)
  bool return_attention_scores = false;  // a second output: the attention weights (B,Tq,Tv)
};

// softmax(scores(query, key)) applied to value, as Keras's BaseDenseAttention: the value mask (the mask of
// the list's second tensor) and the causal mask remove key steps, the query mask zeroes the output's masked
// steps and is the output's mask.
class DenseAttention : public ListInputLayer {
 public:
  const AttentionCallOptions& call_options() const { return call_options_; }
  // Keras's use_causal_mask and return_attention_scores call arguments, as read from a Functional config
  // (return_attention_scores, which sets the number of outputs, before the layer's first call).
  void set_call_options(bool use_causal_mask, bool return_attention_scores);

 protected:
  DenseAttention(std::string_view class_name, std::string_view snake_name, std::string name,
                 const AttentionCallOptions& options);
  std::pair<std::size_t, std::size_t> list_size_range() const override { return {2, 3}; }
  std::vector<Shape> compute_list_output_shapes(const std::vector<Shape>& input_shapes) const override;
  std::vector<Tensor> forward_list(const std::vector<const Tensor*>& inputs,
                                   const std::vector<const Tensor*>& masks, const CallArgs& args) override;
  std::vector<Tensor> backward_list(const std::vector<Tensor>& output_grads) override;
  std::optional<Tensor> compute_list_mask(const std::vector<const Tensor*>& inputs,
                                          const std::vector<const Tensor*>& masks) const override;
  nlohmann::json attention_config() const;

  // The scores (B,Tq,Tv) of query (B,Tq,D) against key (B,Tv,D).
  virtual Tensor scores(const Tensor& query, const Tensor& key) const = 0;
  // Given dL/d(scores), adds into the weights' grads and returns dL/d(query) and dL/d(key).
  virtual std::pair<Tensor, Tensor> scores_backward(const Tensor& query, const Tensor& key,
                                                    const Tensor& scores_grad) = 0;

 private:
  AttentionCallOptions call_options_;
  // The last training call: its inputs, query mask, attention weights before and after dropout.
  std::vector<Tensor> trained_inputs_;
  Tensor trained_query_mask_, trained_weights_, trained_dropout_;
};

struct AttentionOptions {
  bool use_scale = false;          // a trainable scalar "scale" (init 1) multiplying the scores
  std::string score_mode = "dot";  // "dot": q·k; "concat": concat_score_weight * Σ tanh(scale (q + k))
  float dropout = 0.0f;
  bool use_causal_mask = false;
  bool return_attention_scores = false;
  std::string name{};
};

// Luong-style attention: scores = scale * q·k ("dot") or concat_score_weight * Σ_d tanh(scale (q_d + k_d)).
class Attention : public DenseAttention {
 public:
  explicit Attention(const AttentionOptions& options = {});
  bool use_scale() const { return use_scale_; }
  const std::string& score_mode() const { return score_mode_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<Attention>(*this); }

 protected:
  void build_list_weights(const std::vector<Shape>& input_shapes, Rng& rng) override;
  Tensor scores(const Tensor& query, const Tensor& key) const override;
  std::pair<Tensor, Tensor> scores_backward(const Tensor& query, const Tensor& key,
                                            const Tensor& scores_grad) override;

 private:
  float scale() const { return use_scale_ ? own_weight(0)[0] : 1.0f; }
  float concat_score_weight() const { return own_weight(use_scale_ ? 1 : 0)[0]; }
  bool use_scale_;
  std::string score_mode_;
};

struct AdditiveAttentionOptions {
  bool use_scale = true;  // a trainable vector "scale" (D,), glorot_uniform, weighting each tanh term
  float dropout = 0.0f;
  bool use_causal_mask = false;
  bool return_attention_scores = false;
  std::string name{};
};

// Bahdanau-style attention: scores = Σ_d scale_d tanh(q_d + k_d).
class AdditiveAttention : public DenseAttention {
 public:
  explicit AdditiveAttention(const AdditiveAttentionOptions& options = {});
  bool use_scale() const { return use_scale_; }
  nlohmann::json config() const override;
  std::unique_ptr<Layer> clone() const override { return std::make_unique<AdditiveAttention>(*this); }

 protected:
  void build_list_weights(const std::vector<Shape>& input_shapes, Rng& rng) override;
  Tensor scores(const Tensor& query, const Tensor& key) const override;
  std::pair<Tensor, Tensor> scores_backward(const Tensor& query, const Tensor& key,
                                            const Tensor& scores_grad) override;

 private:
  bool use_scale_;
};

}  // namespace rnnkit
