#include "rnnkit/layers/attention.h"

#include <algorithm>
#include <cmath>

#include "core/blas.h"
#include "layers/config_number.h"
#include "layers/initializers.h"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// Keras subtracts this from the score of a masked key step (1e9 in every era, for float32).
constexpr float kMaskedScoreOffset = 1.0e9f;

// (B,T,F) at [b, t, f], for T and F given once.
struct Index3 {
  std::int64_t steps, features;
  explicit Index3(const Tensor& x) : steps(x.dim(1)), features(x.dim(2)) {}
  std::int64_t operator()(std::int64_t b, std::int64_t t, std::int64_t f) const {
    return (b * steps + t) * features + f;
  }
};

}  // namespace

DenseAttention::DenseAttention(std::string_view class_name, std::string_view snake_name, std::string name,
                               const AttentionCallOptions& options)
    : ListInputLayer(class_name, snake_name, std::move(name), {}), call_options_(options) {
  check(options.dropout >= 0.0f && options.dropout < 1.0f, where(), ": dropout must be in [0, 1), received ",
        options.dropout);
}

void DenseAttention::set_call_options(bool use_causal_mask, bool return_attention_scores) {
  // The number of outputs is the layer's from its first call on.
  check(!built() || return_attention_scores == call_options_.return_attention_scores, where(),
        ": return_attention_scores is set before the layer's first call");
  call_options_.use_causal_mask = use_causal_mask;
  call_options_.return_attention_scores = return_attention_scores;
}

std::vector<Shape> DenseAttention::compute_list_output_shapes(const std::vector<Shape>& input_shapes) const {
  static constexpr const char* kRoles[] = {"query", "value", "key"};
  for (std::size_t i = 0; i < input_shapes.size(); ++i)
    check(input_shapes[i].size() == 3, where(), ": the ", kRoles[i],
          " must have shape (batch, steps, features), ", "received ", shape_string(input_shapes[i]));
  const Shape &query = input_shapes[0], &value = input_shapes[1];
  const Shape& key = input_shapes.size() > 2 ? input_shapes[2] : value;
  const auto agree = [](std::int64_t a, std::int64_t b) { return a == b || a == kNone || b == kNone; };
  check(agree(query[2], key[2]), where(), ": the query ", shape_string(query), " and the ",
        input_shapes.size() > 2 ? "key " : "value (the key when none is given) ", shape_string(key),
        " must have the same number of features");
  check(agree(key[1], value[1]), where(), ": the key ", shape_string(key), " and the value ",
        shape_string(value), " must have the same number of steps");
  const std::int64_t batch = query[0] == kNone ? value[0] : query[0];
  std::vector<Shape> shapes{{batch, query[1], value[2]}};
  if (call_options_.return_attention_scores)
    shapes.push_back({batch, query[1], key[1] == kNone ? value[1] : key[1]});
  return shapes;
}

std::vector<Tensor> DenseAttention::forward_list(const std::vector<const Tensor*>& inputs,
                                                 const std::vector<const Tensor*>& masks,
                                                 const CallArgs& args) {
  const Tensor &query = *inputs[0], &value = *inputs[1];
  const Tensor& key = inputs.size() > 2 ? *inputs[2] : value;
  std::vector<Shape> shapes;
  for (const Tensor* input : inputs) shapes.push_back(input->shape());
  compute_list_output_shapes(shapes);
  check(key.dim(1) == value.dim(1), where(), ": the key ", shape_string(key.shape()), " and the value ",
        shape_string(value.shape()), " must have the same number of steps");
  const std::int64_t batch = query.dim(0), tq = query.dim(1), tv = value.dim(1), features = value.dim(2);
  const Tensor* value_mask = masks[1];
  if (value_mask)
    check(value_mask->shape() == Shape({batch, tv}), where(), ": the value's mask must have shape ",
          shape_string({batch, tv}), ", received ", shape_string(value_mask->shape()));
  const Tensor* query_mask = masks[0];

  // Masked key steps get a score 1e9 lower, in float32 as Keras computes it, before the softmax.
  Tensor weights = scores(query, key);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < tq; ++i) {
      float* row = weights.data() + (b * tq + i) * tv;
      for (std::int64_t j = 0; j < tv; ++j) {
        const bool masked =
            (value_mask && (*value_mask)[b * tv + j] == 0.0f) || (call_options_.use_causal_mask && j > i);
        if (masked) row[j] -= kMaskedScoreOffset;
      }
      const float largest = *std::max_element(row, row + tv);
      double total = 0.0;
      for (std::int64_t j = 0; j < tv; ++j) total += std::exp(static_cast<double>(row[j]) - largest);
      for (std::int64_t j = 0; j < tv; ++j)
        row[j] = static_cast<float>(std::exp(static_cast<double>(row[j]) - largest) / total);
    }

  // Dropout of the attention weights while training: Keras's inverted dropout.
  Tensor dropped = weights;
  Tensor dropout_scale;
  if (args.training && call_options_.dropout > 0.0f) {
    check(args.rng != nullptr, where(), ": a training call needs a random generator for the dropout mask");
    dropout_scale = Tensor(weights.shape());
    const float keep_scale = 1.0f / (1.0f - call_options_.dropout);
    for (float& scale : dropout_scale.values())
      scale = args.rng->uniform() >= call_options_.dropout ? keep_scale : 0.0f;
    for (std::int64_t i = 0; i < dropped.size(); ++i) dropped[i] *= dropout_scale[i];
  }

  // output[b] = weights[b] · value[b], one product per sample; zero where the query is masked.
  Tensor output({batch, tq, features});
  for (std::int64_t b = 0; b < batch; ++b)
    gemm(false, false, tq, features, tv, 1.0f, dropped.data() + b * tq * tv, tv,
         value.data() + b * tv * features, features, 0.0f, output.data() + b * tq * features, features);
  if (query_mask)
    for (std::int64_t row = 0; row < batch * tq; ++row)
      if ((*query_mask)[row] == 0.0f) std::fill_n(output.data() + row * features, features, 0.0f);

  if (args.training) {
    trained_inputs_.clear();
    for (const Tensor* input : inputs) trained_inputs_.push_back(*input);
    trained_query_mask_ = query_mask ? *query_mask : Tensor();
    trained_weights_ = weights;
    trained_dropout_ = std::move(dropout_scale);
  }
  std::vector<Tensor> outputs{std::move(output)};
  if (call_options_.return_attention_scores) outputs.push_back(std::move(dropped));
  return outputs;
}

std::vector<Tensor> DenseAttention::backward_list(const std::vector<Tensor>& output_grads) {
  const Tensor &query = trained_inputs_[0], &value = trained_inputs_[1];
  const Tensor& key = trained_inputs_.size() > 2 ? trained_inputs_[2] : value;
  const Tensor& weights = trained_weights_;
  const std::int64_t batch = query.dim(0), tq = query.dim(1), tv = value.dim(1), features = value.dim(2);

  // Through output = dropped · value (masked query rows had no output): dL/d(dropped) and dL/d(value).
  Tensor dropped_grad = call_options_.return_attention_scores ? output_grads[1] : Tensor(weights.shape());
  Tensor value_grad(value.shape());
  Tensor grad = output_grads[0];
  if (!trained_query_mask_.empty())
    for (std::int64_t row = 0; row < batch * tq; ++row)
      if (trained_query_mask_[row] == 0.0f) std::fill_n(grad.data() + row * features, features, 0.0f);
  Tensor dropped = weights;
  if (!trained_dropout_.empty())
    for (std::int64_t i = 0; i < dropped.size(); ++i) dropped[i] *= trained_dropout_[i];
  for (std::int64_t b = 0; b < batch; ++b) {
    const float* g = grad.data() + b * tq * features;
    const float* v = value.data() + b * tv * features;
    gemm(false, true, tq, tv, features, 1.0f, g, features, v, features, 1.0f,
         dropped_grad.data() + b * tq * tv, tv);
    gemm(true, false, tv, features, tq, 1.0f, dropped.data() + b * tq * tv, tv, g, features, 0.0f,
         value_grad.data() + b * tv * features, features);
  }

  // Through dropout and the softmax: dS = W ⊙ (dW - Σ_j W dW). The mask's offset passes the gradient
  // unchanged.
  Tensor scores_grad(weights.shape());
  for (std::int64_t row = 0; row < batch * tq; ++row) {
    double dot = 0.0;
    for (std::int64_t j = 0; j < tv; ++j) {
      const std::int64_t w = row * tv + j;
      const float weight_grad =
          trained_dropout_.empty() ? dropped_grad[w] : dropped_grad[w] * trained_dropout_[w];
      scores_grad[w] = weight_grad;
      dot += static_cast<double>(weights[w]) * weight_grad;
    }
    for (std::int64_t j = 0; j < tv; ++j) {
      const std::int64_t w = row * tv + j;
      scores_grad[w] = static_cast<float>(weights[w] * (scores_grad[w] - dot));
    }
  }

  auto [query_grad, key_grad] = scores_backward(query, key, scores_grad);
  if (trained_inputs_.size() > 2) return {std::move(query_grad), std::move(value_grad), std::move(key_grad)};
  for (std::int64_t i = 0; i < value_grad.size(); ++i) value_grad[i] += key_grad[i];  // the value was the key
  return {std::move(query_grad), std::move(value_grad)};
}

std::optional<Tensor> DenseAttention::compute_list_mask(const std::vector<const Tensor*>& /*inputs*/,
                                                        const std::vector<const Tensor*>& masks) const {
  if (!masks[0]) return std::nullopt;
  return *masks[0];
}

nlohmann::json DenseAttention::attention_config() const {
  nlohmann::json config = Layer::config();
  config["dropout"] = config_number(call_options_.dropout);
  return config;
}

Attention::Attention(const AttentionOptions& options)
    : DenseAttention("Attention", "attention", options.name,
                     {.dropout = options.dropout,
                      .use_causal_mask = options.use_causal_mask,
                      .return_attention_scores = options.return_attention_scores}),
      use_scale_(options.use_scale),
      score_mode_(options.score_mode) {
  check(score_mode_ == "dot" || score_mode_ == "concat", where(),
        ": score_mode must be 'dot' or 'concat', received '", score_mode_, "'");
}

void Attention::build_list_weights(const std::vector<Shape>& /*input_shapes*/, Rng& /*rng*/) {
  if (use_scale_) add_param("scale", Shape{}) = Tensor(Shape{}, 1.0f);
  if (score_mode_ == "concat") add_param("concat_score_weight", Shape{}) = Tensor(Shape{}, 1.0f);
}

Tensor Attention::scores(const Tensor& query, const Tensor& key) const {
  const std::int64_t batch = query.dim(0), tq = query.dim(1), tv = key.dim(1), depth = query.dim(2);
  const float scale = this->scale();
  Tensor result({batch, tq, tv});
  if (score_mode_ == "dot") {  // scale · q·k: one product per sample
    for (std::int64_t b = 0; b < batch; ++b)
      gemm(false, true, tq, tv, depth, scale, query.data() + b * tq * depth, depth,
           key.data() + b * tv * depth, depth, 0.0f, result.data() + b * tq * tv, tv);
    return result;
  }
  // concat: concat_score_weight · Σ_d tanh(scale (q_d + k_d)).
  const Index3 q_at(query), k_at(key);
  const double weight = concat_score_weight();
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < tq; ++i)
      for (std::int64_t j = 0; j < tv; ++j) {
        double sum = 0.0;
        for (std::int64_t d = 0; d < depth; ++d)
          sum += std::tanh(static_cast<double>(scale) *
                           (static_cast<double>(query[q_at(b, i, d)]) + key[k_at(b, j, d)]));
        result[(b * tq + i) * tv + j] = static_cast<float>(weight * sum);
      }
  return result;
}

std::pair<Tensor, Tensor> Attention::scores_backward(const Tensor& query, const Tensor& key,
                                                     const Tensor& scores_grad) {
  const std::int64_t batch = query.dim(0), tq = query.dim(1), tv = key.dim(1), depth = query.dim(2);
  const double scale = this->scale();
  Tensor query_grad(query.shape()), key_grad(key.shape());
  if (score_mode_ == "dot") {
    // S = scale · Q Kᵀ: dQ = scale · dS K, dK = scale · dSᵀ Q, d scale = Σ dS ⊙ Q Kᵀ.
    Tensor raw(scores_grad.shape());
    for (std::int64_t b = 0; b < batch; ++b) {
      const float *q = query.data() + b * tq * depth, *k = key.data() + b * tv * depth;
      const float* g = scores_grad.data() + b * tq * tv;
      gemm(false, false, tq, depth, tv, static_cast<float>(scale), g, tv, k, depth, 0.0f,
           query_grad.data() + b * tq * depth, depth);
      gemm(true, false, tv, depth, tq, static_cast<float>(scale), g, tv, q, depth, 0.0f,
           key_grad.data() + b * tv * depth, depth);
      if (use_scale_)
        gemm(false, true, tq, tv, depth, 1.0f, q, depth, k, depth, 0.0f, raw.data() + b * tq * tv, tv);
    }
    if (use_scale_) {
      double scale_grad = 0.0;
      for (std::int64_t i = 0; i < raw.size(); ++i)
        scale_grad += static_cast<double>(scores_grad[i]) * raw[i];
      own_grad(0)[0] += static_cast<float>(scale_grad);
    }
    return {std::move(query_grad), std::move(key_grad)};
  }
  const Index3 q_at(query), k_at(key);
  const double weight = concat_score_weight();
  double scale_grad = 0.0, weight_grad = 0.0;
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < tq; ++i)
      for (std::int64_t j = 0; j < tv; ++j) {
        const double g = scores_grad[(b * tq + i) * tv + j];
        double raw = 0.0;  // Σ tanh(scale (q + k))
        for (std::int64_t d = 0; d < depth; ++d) {
          const std::int64_t qi = q_at(b, i, d), kj = k_at(b, j, d);
          const double q = query[qi], k = key[kj];
          const double t = std::tanh(scale * (q + k));
          raw += t;
          const double through = g * weight * (1.0 - t * t);
          query_grad[qi] += static_cast<float>(through * scale);
          key_grad[kj] += static_cast<float>(through * scale);
          scale_grad += through * (q + k);
        }
        weight_grad += g * raw;
      }
  if (use_scale_) own_grad(0)[0] += static_cast<float>(scale_grad);
  own_grad(use_scale_ ? 1 : 0)[0] += static_cast<float>(weight_grad);
  return {std::move(query_grad), std::move(key_grad)};
}

nlohmann::json Attention::config() const {
  nlohmann::json config = attention_config();
  config["use_scale"] = use_scale_;
  config["score_mode"] = score_mode_;
  return config;
}

AdditiveAttention::AdditiveAttention(const AdditiveAttentionOptions& options)
    : DenseAttention("AdditiveAttention", "additive_attention", options.name,
                     {.dropout = options.dropout,
                      .use_causal_mask = options.use_causal_mask,
                      .return_attention_scores = options.return_attention_scores}),
      use_scale_(options.use_scale) {}

void AdditiveAttention::build_list_weights(const std::vector<Shape>& input_shapes, Rng& rng) {
  if (!use_scale_) return;
  const std::int64_t depth = input_shapes[0][2];
  check(depth != kNone, where(), ": the query's number of features must be known to build 'scale', received ",
        shape_string(input_shapes[0]));
  initialize(initializer_config("glorot_uniform", where()), add_param("scale", {depth}), rng,
             where() + " scale");
}

Tensor AdditiveAttention::scores(const Tensor& query, const Tensor& key) const {
  const std::int64_t batch = query.dim(0), tq = query.dim(1), tv = key.dim(1), depth = query.dim(2);
  Tensor result({batch, tq, tv});
  const Index3 q_at(query), k_at(key);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < tq; ++i)
      for (std::int64_t j = 0; j < tv; ++j) {
        double sum = 0.0;
        for (std::int64_t d = 0; d < depth; ++d) {
          const double w = use_scale_ ? own_weight(0)[d] : 1.0;
          sum += w * std::tanh(static_cast<double>(query[q_at(b, i, d)]) + key[k_at(b, j, d)]);
        }
        result[(b * tq + i) * tv + j] = static_cast<float>(sum);
      }
  return result;
}

std::pair<Tensor, Tensor> AdditiveAttention::scores_backward(const Tensor& query, const Tensor& key,
                                                             const Tensor& scores_grad) {
  const std::int64_t batch = query.dim(0), tq = query.dim(1), tv = key.dim(1), depth = query.dim(2);
  Tensor query_grad(query.shape()), key_grad(key.shape());
  std::vector<double> scale_grad(static_cast<std::size_t>(depth), 0.0);
  const Index3 q_at(query), k_at(key);
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t i = 0; i < tq; ++i)
      for (std::int64_t j = 0; j < tv; ++j) {
        const double g = scores_grad[(b * tq + i) * tv + j];
        for (std::int64_t d = 0; d < depth; ++d) {
          const std::int64_t qi = q_at(b, i, d), kj = k_at(b, j, d);
          const double t = std::tanh(static_cast<double>(query[qi]) + key[kj]);
          const double w = use_scale_ ? own_weight(0)[d] : 1.0;
          const double through = g * w * (1.0 - t * t);
          query_grad[qi] += static_cast<float>(through);
          key_grad[kj] += static_cast<float>(through);
          scale_grad[static_cast<std::size_t>(d)] += g * t;
        }
      }
  if (use_scale_)
    for (std::int64_t d = 0; d < depth; ++d)
      own_grad(0)[d] += static_cast<float>(scale_grad[static_cast<std::size_t>(d)]);
  return {std::move(query_grad), std::move(key_grad)};
}

nlohmann::json AdditiveAttention::config() const {
  nlohmann::json config = attention_config();
  config["use_scale"] = use_scale_;
  return config;
}

}  // namespace rnnkit
