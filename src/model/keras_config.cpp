#include "rnnkit/keras_config.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <type_traits>

#include "layers/initializers.h"
#include "layers/normalization_axes.h"
#include "model/functional_config.h"
#include "rnnkit/error.h"
#include "rnnkit/layers/activation.h"
#include "rnnkit/layers/attention.h"
#include "rnnkit/layers/batch_normalization.h"
#include "rnnkit/layers/bidirectional.h"
#include "rnnkit/layers/conv1d.h"
#include "rnnkit/layers/dense.h"
#include "rnnkit/layers/dropout.h"
#include "rnnkit/layers/embedding.h"
#include "rnnkit/layers/gru.h"
#include "rnnkit/layers/layer_normalization.h"
#include "rnnkit/layers/lstm.h"
#include "rnnkit/layers/masking.h"
#include "rnnkit/layers/merge.h"
#include "rnnkit/layers/pooling1d.h"
#include "rnnkit/layers/reshaping.h"
#include "rnnkit/layers/simple_rnn.h"
#include "rnnkit/layers/spatial_dropout.h"
#include "rnnkit/layers/time_distributed.h"
#include "rnnkit/model_layer.h"

namespace rnnkit {
namespace {

using nlohmann::json;

// Typed access to one layer's config, with errors that name the layer and the field.
class ConfigReader {
 public:
  ConfigReader(const json& config, std::string where, const KerasDialect& dialect)
      : config_(config), where_(std::move(where)), dialect_(dialect) {
    check(config.is_object(), where_, ": 'config' must be an object");
  }

  const std::string& where() const { return where_; }
  const KerasDialect& dialect() const { return dialect_; }
  bool has(const char* key) const { return config_.contains(key) && !config_.at(key).is_null(); }
  const json& raw(const char* key) const { return config_.at(key); }

  template <class T>
  T get(const char* key, T fallback) const {
    if (!has(key)) return fallback;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
      check(config_.at(key).is_number_integer(), where_, ": field '", key, "' must be an integer, received ",
            config_.at(key).dump());
    try {
      return config_.at(key).get<T>();
    } catch (const json::exception&) {
      fail(where_, ": field '", key, "' has the wrong type: ", config_.at(key).dump());
    }
  }

  template <class T>
  T required(const char* key) const {
    check(has(key), where_, ": field '", key, "' is missing");
    return get<T>(key, T{});
  }

  std::string activation(const char* key, const char* fallback) const {
    if (!has(key)) return fallback;
    const json& value = config_.at(key);
    std::string name = value.is_object() ? activation_object(key, value) : get<std::string>(key, fallback);
    if (name == "hard_sigmoid" && dialect_.keras3) name = "hard_sigmoid_keras3";
    return name;
  }

  // Keras 3 may write an activation as a serialized function, {"class_name": "function", "config": "gelu",
  // ...}: that names it. Anything else there (a lambda, or an object such as a LeakyReLU layer with its
  // own parameters) has no name rnnkit could read without losing what it says.
  std::string activation_object(const char* key, const json& value) const {
    const std::string field = where_ + " field '" + key + "'";
    const ConfigReader object(value, field, dialect_);
    const std::string class_name = object.get<std::string>("class_name", "");
    check(
        class_name == "function", field, ": an activation given as ",
        class_name.empty() ? std::string("an object without a class_name") : "a '" + class_name + "' object",
        " is not supported, only an activation name: ", value.dump());
    return object.required<std::string>("config");
  }

  std::optional<Shape> shape(const char* key) const {
    if (!has(key)) return std::nullopt;
    const json& value = config_.at(key);
    check(value.is_array(), where_, ": field '", key, "' must be a list of dimensions, received ",
          value.dump());
    Shape shape;
    for (const json& extent : value) {
      check(extent.is_null() || extent.is_number_integer(), where_, ": field '", key,
            "' has a dimension that is not an integer or None: ", value.dump());
      shape.push_back(extent.is_null() ? kNone : extent.get<std::int64_t>());
    }
    return shape;
  }

  // Keras 2's batch_input_shape or Keras 3's batch_shape.
  std::optional<Shape> batch_input_shape() const {
    return has("batch_input_shape") ? shape("batch_input_shape") : shape("batch_shape");
  }

  // An initializer, checked here so that an error names the file as well as the layer and field.
  json initializer(const char* key, const char* fallback) const {
    if (!has(key)) return fallback;
    return initializer_config(config_.at(key), where_ + " field '" + key + "'");
  }

  std::optional<Regularizer> regularizer(const char* key) const {
    if (!has(key)) return std::nullopt;
    return regularizer_from_config(config_.at(key), where_ + " field '" + key + "'");
  }

  std::optional<Constraint> constraint(const char* key) const {
    if (!has(key)) return std::nullopt;
    return constraint_from_config(config_.at(key), where_ + " field '" + key + "'");
  }

  void require_value(const char* key, const json& supported, const char* why) const {
    if (has(key))
      check(config_.at(key) == supported, where_, ": field '", key, "' = ", config_.at(key).dump(), " ", why);
  }

 private:
  const json& config_;
  std::string where_;
  const KerasDialect& dialect_;
};

// The dtype of a layer config: a name, or Keras 3's DTypePolicy object.
std::string dtype_name(const ConfigReader& reader, const char* key) {
  const json& dtype = reader.raw(key);
  return dtype.is_object() ? ConfigReader(dtype, reader.where(), reader.dialect())
                                 .get<json>("config", json::object())
                                 .value("name", std::string("float32"))
                           : reader.get<std::string>(key, "float32");
}

void check_dtype(const ConfigReader& reader) {
  if (!reader.has("dtype")) return;
  const std::string name = dtype_name(reader, "dtype");
  check(name == "float32", reader.where(), ": dtype '", name,
        "' is not supported (rnnkit computes in float32)");
}

RecurrentOptions recurrent_options(const ConfigReader& reader) {
  reader.require_value("time_major", false, "is not supported: inputs are batch-major (B,T,F)");
  RecurrentOptions options;
  options.name = reader.get<std::string>("name", "");
  options.activation = reader.activation("activation", "tanh");
  options.recurrent_activation = reader.activation("recurrent_activation", "sigmoid");
  options.use_bias = reader.get("use_bias", true);
  options.return_sequences = reader.get("return_sequences", false);
  options.return_state = reader.get("return_state", false);
  options.go_backwards = reader.get("go_backwards", false);
  options.stateful = reader.get("stateful", false);
  options.unroll = reader.get("unroll", false);
  options.unit_forget_bias = reader.get("unit_forget_bias", true);
  options.reset_after = reader.get("reset_after", true);
  options.dropout = reader.get("dropout", 0.0f);
  options.recurrent_dropout = reader.get("recurrent_dropout", 0.0f);
  options.kernel_initializer = reader.initializer("kernel_initializer", "glorot_uniform");
  options.recurrent_initializer = reader.initializer("recurrent_initializer", "orthogonal");
  options.bias_initializer = reader.initializer("bias_initializer", "zeros");
  options.kernel_regularizer = reader.regularizer("kernel_regularizer");
  options.recurrent_regularizer = reader.regularizer("recurrent_regularizer");
  options.bias_regularizer = reader.regularizer("bias_regularizer");
  options.activity_regularizer = reader.regularizer("activity_regularizer");
  options.kernel_constraint = reader.constraint("kernel_constraint");
  options.recurrent_constraint = reader.constraint("recurrent_constraint");
  options.bias_constraint = reader.constraint("bias_constraint");
  options.batch_input_shape = reader.batch_input_shape();
  if (!options.batch_input_shape && (reader.has("input_dim") || reader.has("input_length"))) {
    options.input_dim = reader.get<std::int64_t>("input_dim", kNone);
    options.input_length = reader.get<std::int64_t>("input_length", kNone);
  }
  return options;
}

ShapeLayerOptions shape_layer_options(const ConfigReader& reader) {
  return {.input_shape = std::nullopt,
          .batch_input_shape = reader.batch_input_shape(),
          .name = reader.get<std::string>("name", "")};
}

using Factory = std::function<std::unique_ptr<Layer>(const ConfigReader&)>;

// A 1-D size written as Keras writes it: an integer, or a one-element list ([3], Keras's tuples).
std::int64_t size_1d(const ConfigReader& reader, const char* key, std::int64_t fallback) {
  if (!reader.has(key)) return fallback;
  const json& value = reader.raw(key);
  if (value.is_array()) {
    check(value.size() == 1 && value[0].is_number_integer(), reader.where(), ": field '", key,
          "' must be an integer or a list of one integer, received ", value.dump());
    return value[0].get<std::int64_t>();
  }
  return reader.required<std::int64_t>(key);
}

std::unique_ptr<Layer> conv1d_from_config(const ConfigReader& r) {
  for (const char* key : {"lora_rank", "dora_rank"})
    check(!r.has(key), r.where(), ": field '", key, "' (LoRA/DoRA) is not supported");
  check(r.has("kernel_size"), r.where(), ": field 'kernel_size' is missing");
  return std::make_unique<Conv1D>(
      r.required<std::int64_t>("filters"), size_1d(r, "kernel_size", 1),
      Conv1DOptions{.strides = size_1d(r, "strides", 1),
                    .padding = r.get<std::string>("padding", "valid"),
                    .data_format = r.get<std::string>("data_format", "channels_last"),
                    .dilation_rate = size_1d(r, "dilation_rate", 1),
                    .groups = r.get<std::int64_t>("groups", 1),
                    .activation = r.activation("activation", "linear"),
                    .use_bias = r.get("use_bias", true),
                    .kernel_initializer = r.initializer("kernel_initializer", "glorot_uniform"),
                    .bias_initializer = r.initializer("bias_initializer", "zeros"),
                    .kernel_regularizer = r.regularizer("kernel_regularizer"),
                    .bias_regularizer = r.regularizer("bias_regularizer"),
                    .activity_regularizer = r.regularizer("activity_regularizer"),
                    .kernel_constraint = r.constraint("kernel_constraint"),
                    .bias_constraint = r.constraint("bias_constraint"),
                    .input_shape = std::nullopt,
                    .batch_input_shape = r.batch_input_shape(),
                    .name = r.get<std::string>("name", "")});
}

template <class Pooling>
std::unique_ptr<Layer> pooling1d_from_config(const ConfigReader& r) {
  std::optional<std::int64_t> strides;
  if (r.has("strides")) strides = size_1d(r, "strides", 0);
  return std::make_unique<Pooling>(
      size_1d(r, "pool_size", 2),
      Pooling1DOptions{.strides = strides,
                       .padding = r.get<std::string>("padding", "valid"),
                       .data_format = r.get<std::string>("data_format", "channels_last"),
                       .input_shape = std::nullopt,
                       .batch_input_shape = r.batch_input_shape(),
                       .name = r.get<std::string>("name", "")});
}

template <class Pooling>
std::unique_ptr<Layer> global_pooling1d_from_config(const ConfigReader& r) {
  return std::make_unique<Pooling>(
      GlobalPooling1DOptions{.keepdims = r.get("keepdims", false),
                             .data_format = r.get<std::string>("data_format", "channels_last"),
                             .input_shape = std::nullopt,
                             .batch_input_shape = r.batch_input_shape(),
                             .name = r.get<std::string>("name", "")});
}

std::unique_ptr<Recurrent> recurrent_from_config(const json& layer, std::string_view where,
                                                 const KerasDialect& dialect);

template <typename Merge>
std::unique_ptr<Layer> merge_factory(const ConfigReader& r) {
  return std::make_unique<Merge>(MergeOptions{.name = r.get<std::string>("name", "")});
}

const std::map<std::string, Factory, std::less<>>& factories() {
  static const std::map<std::string, Factory, std::less<>> table{
      {"SimpleRNN",
       [](const ConfigReader& r) {
         return std::make_unique<SimpleRNN>(r.required<std::int64_t>("units"), recurrent_options(r));
       }},
      {"LSTM",
       [](const ConfigReader& r) {
         return std::make_unique<LSTM>(r.required<std::int64_t>("units"), recurrent_options(r));
       }},
      {"GRU",
       [](const ConfigReader& r) {
         return std::make_unique<GRU>(r.required<std::int64_t>("units"), recurrent_options(r));
       }},
      {"Dense",
       [](const ConfigReader& r) {
         return std::make_unique<Dense>(
             r.required<std::int64_t>("units"),
             DenseOptions{.activation = r.activation("activation", "linear"),
                          .use_bias = r.get("use_bias", true),
                          .kernel_initializer = r.initializer("kernel_initializer", "glorot_uniform"),
                          .bias_initializer = r.initializer("bias_initializer", "zeros"),
                          .kernel_regularizer = r.regularizer("kernel_regularizer"),
                          .bias_regularizer = r.regularizer("bias_regularizer"),
                          .activity_regularizer = r.regularizer("activity_regularizer"),
                          .kernel_constraint = r.constraint("kernel_constraint"),
                          .bias_constraint = r.constraint("bias_constraint"),
                          .input_shape = std::nullopt,
                          .batch_input_shape = r.batch_input_shape(),
                          .name = r.get<std::string>("name", "")});
       }},
      // Convolution and pooling over time, under their class names and Keras 2's aliases.
      {"Conv1D", conv1d_from_config},
      {"Convolution1D", conv1d_from_config},
      {"MaxPooling1D", pooling1d_from_config<MaxPooling1D>},
      {"MaxPool1D", pooling1d_from_config<MaxPooling1D>},
      {"AveragePooling1D", pooling1d_from_config<AveragePooling1D>},
      {"AvgPool1D", pooling1d_from_config<AveragePooling1D>},
      {"GlobalMaxPooling1D", global_pooling1d_from_config<GlobalMaxPooling1D>},
      {"GlobalMaxPool1D", global_pooling1d_from_config<GlobalMaxPooling1D>},
      {"GlobalAveragePooling1D", global_pooling1d_from_config<GlobalAveragePooling1D>},
      {"GlobalAvgPool1D", global_pooling1d_from_config<GlobalAveragePooling1D>},
      {"Activation",
       [](const ConfigReader& r) {
         return std::make_unique<Activation>(r.activation("activation", "linear"),
                                             ActivationOptions{.input_shape = std::nullopt,
                                                               .batch_input_shape = r.batch_input_shape(),
                                                               .name = r.get<std::string>("name", "")});
       }},
      {"Embedding",
       [](const ConfigReader& r) {
         std::optional<std::int64_t> input_length;
         if (r.has("input_length")) {
           const json& length = r.raw("input_length");
           // Keras 1 and some writers give input_length as a one-element list.
           input_length = length.is_array() && length.size() == 1 ? length[0].get<std::int64_t>()
                                                                  : r.get<std::int64_t>("input_length", 0);
         }
         return std::make_unique<Embedding>(
             r.required<std::int64_t>("input_dim"), r.required<std::int64_t>("output_dim"),
             EmbeddingOptions{.input_length = input_length,
                              .implies_input_shape = !r.dialect().keras3,
                              .mask_zero = r.get("mask_zero", false),
                              .embeddings_initializer = r.initializer("embeddings_initializer", "uniform"),
                              .embeddings_regularizer = r.regularizer("embeddings_regularizer"),
                              .activity_regularizer = r.regularizer("activity_regularizer"),
                              .embeddings_constraint = r.constraint("embeddings_constraint"),
                              .input_shape = std::nullopt,
                              .batch_input_shape = r.batch_input_shape(),
                              .name = r.get<std::string>("name", "")});
       }},
      {"Dropout",
       [](const ConfigReader& r) {
         return std::make_unique<Dropout>(r.required<float>("rate"),
                                          DropoutOptions{.input_shape = std::nullopt,
                                                         .batch_input_shape = r.batch_input_shape(),
                                                         .name = r.get<std::string>("name", "")});
       }},
      {"InputLayer",
       [](const ConfigReader& r) {
         std::optional<Shape> shape = r.batch_input_shape();
         check(shape.has_value(), r.where(), ": an InputLayer needs 'batch_input_shape' (or 'batch_shape')");
         // A model input may hold token ids as integers (Keras 1 calls the field input_dtype).
         const char* key = r.has("dtype") ? "dtype" : "input_dtype";
         const std::string dtype = r.has(key) ? dtype_name(r, key) : "float32";
         check(dtype == "float32" || dtype == "int32" || dtype == "int64", r.where(), ": dtype '", dtype,
               "' is not supported (float32, int32 or int64)");
         return std::make_unique<InputLayer>(InputSpec{.batch_input_shape = shape},
                                             r.get<std::string>("name", ""), dtype);
       }},
      {"Bidirectional",
       [](const ConfigReader& r) {
         check(!r.has("backward_layer"), r.where(), ": a custom 'backward_layer' is not supported yet");
         check(r.has("layer"), r.where(), ": field 'layer' is missing");
         std::unique_ptr<Recurrent> inner =
             recurrent_from_config(r.raw("layer"), r.where() + " field 'layer'", r.dialect());
         std::optional<std::string> merge_mode;
         if (r.has("merge_mode")) merge_mode = r.get<std::string>("merge_mode", "concat");
         return std::make_unique<Bidirectional>(
             *inner, BidirectionalOptions{.merge_mode = merge_mode,
                                          .input_shape = std::nullopt,
                                          .batch_input_shape = r.batch_input_shape(),
                                          .name = r.get<std::string>("name", "")});
       }},
      // The weightless shape and masking layers: their own argument, and the input shape and name.
      {"Flatten",
       [](const ConfigReader& r) {
         return std::make_unique<Flatten>(
             FlattenOptions{.data_format = r.get<std::string>("data_format", "channels_last"),
                            .input_shape = std::nullopt,
                            .batch_input_shape = r.batch_input_shape(),
                            .name = r.get<std::string>("name", "")});
       }},
      {"Reshape",
       [](const ConfigReader& r) {
         check(r.has("target_shape"), r.where(), ": field 'target_shape' is missing");
         return std::make_unique<Reshape>(*r.shape("target_shape"), shape_layer_options(r));
       }},
      {"Permute",
       [](const ConfigReader& r) {
         return std::make_unique<Permute>(r.required<std::vector<int>>("dims"), shape_layer_options(r));
       }},
      {"RepeatVector",
       [](const ConfigReader& r) {
         return std::make_unique<RepeatVector>(r.required<std::int64_t>("n"), shape_layer_options(r));
       }},
      {"Masking",
       [](const ConfigReader& r) {
         return std::make_unique<Masking>(MaskingOptions{.mask_value = r.get("mask_value", 0.0f),
                                                         .input_shape = std::nullopt,
                                                         .batch_input_shape = r.batch_input_shape(),
                                                         .name = r.get<std::string>("name", "")});
       }},
      {"SpatialDropout1D",
       [](const ConfigReader& r) {
         return std::make_unique<SpatialDropout1D>(r.required<float>("rate"),
                                                   DropoutOptions{.input_shape = std::nullopt,
                                                                  .batch_input_shape = r.batch_input_shape(),
                                                                  .name = r.get<std::string>("name", "")});
       }},
      {"LayerNormalization",
       [](const ConfigReader& r) {
         check(
             !r.get("rms_scaling", false), r.where(),
             ": rms_scaling=True (Keras 3's deprecated form, which scales by the variance) is not supported");
         return std::make_unique<LayerNormalization>(LayerNormalizationOptions{
             .axis =
                 r.has("axis") ? normalization::axis_from_config(r.raw("axis"), r.where()) : std::vector{-1},
             .epsilon = r.get("epsilon", 1e-3),
             .center = r.get("center", true),
             .scale = r.get("scale", true),
             .beta_initializer = r.initializer("beta_initializer", "zeros"),
             .gamma_initializer = r.initializer("gamma_initializer", "ones"),
             .beta_regularizer = r.regularizer("beta_regularizer"),
             .gamma_regularizer = r.regularizer("gamma_regularizer"),
             .beta_constraint = r.constraint("beta_constraint"),
             .gamma_constraint = r.constraint("gamma_constraint"),
             .input_shape = std::nullopt,
             .batch_input_shape = r.batch_input_shape(),
             .name = r.get<std::string>("name", "")});
       }},
      {"BatchNormalization",
       [](const ConfigReader& r) {
         r.require_value("mode", 0, "is not supported: only Keras 1's feature-wise mode 0");
         r.require_value("renorm", false, "(batch renormalization) is not supported");
         check(!r.has("virtual_batch_size"), r.where(),
               ": field 'virtual_batch_size' (ghost batches) is not supported");
         // `synchronized` only matters across devices; on one it computes the same.
         return std::make_unique<BatchNormalization>(BatchNormalizationOptions{
             .axis =
                 r.has("axis") ? normalization::axis_from_config(r.raw("axis"), r.where()) : std::vector{-1},
             .momentum = r.get("momentum", 0.99),
             .epsilon = r.get("epsilon", 1e-3),
             .center = r.get("center", true),
             .scale = r.get("scale", true),
             .beta_initializer = r.initializer("beta_initializer", "zeros"),
             .gamma_initializer = r.initializer("gamma_initializer", "ones"),
             .moving_mean_initializer = r.initializer("moving_mean_initializer", "zeros"),
             .moving_variance_initializer = r.initializer("moving_variance_initializer", "ones"),
             .beta_regularizer = r.regularizer("beta_regularizer"),
             .gamma_regularizer = r.regularizer("gamma_regularizer"),
             .beta_constraint = r.constraint("beta_constraint"),
             .gamma_constraint = r.constraint("gamma_constraint"),
             .input_shape = std::nullopt,
             .batch_input_shape = r.batch_input_shape(),
             .name = r.get<std::string>("name", "")});
       }},
      {"TimeDistributed",
       [](const ConfigReader& r) {
         check(r.has("layer"), r.where(), ": field 'layer' is missing");
         std::unique_ptr<Layer> inner =
             layer_from_config(r.raw("layer"), r.where() + " field 'layer'", r.dialect());
         return std::make_unique<TimeDistributed>(
             *inner, TimeDistributedOptions{.input_shape = std::nullopt,
                                            .batch_input_shape = r.batch_input_shape(),
                                            .name = r.get<std::string>("name", "")});
       }},
      {"Concatenate",
       [](const ConfigReader& r) {
         return std::make_unique<Concatenate>(
             ConcatenateOptions{.axis = r.get("axis", -1), .name = r.get<std::string>("name", "")});
       }},
      {"Add", merge_factory<Add>},
      {"Subtract", merge_factory<Subtract>},
      {"Multiply", merge_factory<Multiply>},
      {"Average", merge_factory<Average>},
      {"Maximum", merge_factory<Maximum>},
      {"Minimum", merge_factory<Minimum>},
      {"Dot",
       [](const ConfigReader& r) {
         DotOptions options{.normalize = r.get("normalize", false), .name = r.get<std::string>("name", "")};
         const json& axes = r.raw("axes");
         check(axes.is_number_integer() || (axes.is_array() && axes.size() == 2), r.where(),
               ": field 'axes' must be an integer or a list of two, received ", axes.dump());
         if (axes.is_array()) {
           options.axes = std::array<int, 2>{axes[0].get<int>(), axes[1].get<int>()};
         } else {
           options.axes = axes.get<int>();
         }
         return std::make_unique<Dot>(options);
       }},
      // tf.keras 2.6-2.9 write `causal`; later eras pass use_causal_mask to the call (the node's kwargs).
      {"Attention",
       [](const ConfigReader& r) {
         return std::make_unique<Attention>(
             AttentionOptions{.use_scale = r.get("use_scale", false),
                              .score_mode = r.get<std::string>("score_mode", "dot"),
                              .dropout = r.get("dropout", 0.0f),
                              .use_causal_mask = r.get("causal", false),
                              .name = r.get<std::string>("name", "")});
       }},
      {"AdditiveAttention",
       [](const ConfigReader& r) {
         return std::make_unique<AdditiveAttention>(
             AdditiveAttentionOptions{.use_scale = r.get("use_scale", true),
                                      .dropout = r.get("dropout", 0.0f),
                                      .use_causal_mask = r.get("causal", false),
                                      .name = r.get<std::string>("name", "")});
       }},
  };
  return table;
}

std::unique_ptr<Recurrent> recurrent_from_config(const json& layer, std::string_view where,
                                                 const KerasDialect& dialect) {
  std::unique_ptr<Layer> built = layer_from_config(layer, where, dialect);
  auto* recurrent = dynamic_cast<Recurrent*>(built.get());
  check(recurrent != nullptr, where, ": Bidirectional wraps SimpleRNN, LSTM or GRU, not ",
        built->class_name());
  built.release();
  return std::unique_ptr<Recurrent>(recurrent);
}

}  // namespace

std::unique_ptr<Layer> layer_from_config(const json& layer, std::string_view where,
                                         const KerasDialect& dialect) {
  check(layer.is_object() && layer.contains("class_name") && layer.at("class_name").is_string(), where,
        ": a layer must be {\"class_name\": ..., \"config\": {...}}");
  const std::string class_name = layer.at("class_name").get<std::string>();
  check(layer.contains("config"), where, " (", class_name, "): 'config' is missing");
  const json& config = layer.at("config");
  const json& name_field = config.is_object() && config.contains("name") ? config.at("name") : json("?");
  const std::string name = name_field.is_string() ? name_field.get<std::string>() : name_field.dump();
  check(class_name != "Lambda", where, " '", name,
        "' (Lambda): a Lambda layer is Python code (its config holds the function's bytecode), which rnnkit "
        "cannot run; build the model with the Keras layer that computes the same, or leave the layer out");
  if (class_name == "Sequential" || class_name == "Functional" || class_name == "Model") {
    // A nested model: its config is a model's, read as one (in the file's Keras dialect).
    check(config.is_object(), where, " '", name, "' (", class_name, "): 'config' must be an object");
    json model{{"class_name", class_name}, {"config", config}};
    // What tf.keras's Sequential.from_config put on its first layer is the outer model's input.
    model["config"].erase("batch_input_shape");
    if (dialect.keras3) model["keras_version"] = "3";
    const bool trainable = config.value("trainable", true);
    auto result = std::make_unique<ModelLayer>(
        model_from_config(model, std::string(where) + " '" + name + "' (" + class_name + ")"));
    result->set_trainable(trainable);
    return result;
  }
  const auto factory = factories().find(class_name);
  if (factory == factories().end()) {
    std::string known;
    for (const auto& entry : factories()) known += (known.empty() ? "" : ", ") + entry.first;
    fail(where, " '", name, "' (", class_name, "): unknown layer class_name '", class_name, "' (known: ", known, ")");
  }
  ConfigReader reader(config, std::string(where) + " '" + name + "' (" + class_name + ")", dialect);
  try {
    check(name_field.is_string(), reader.where(), ": field 'name' must be a string");
    if (class_name != "InputLayer") check_dtype(reader);
    std::unique_ptr<Layer> result = factory->second(reader);
    check(!reader.has("activity_regularizer") || result->activity_regularizer(), reader.where(),
          ": field 'activity_regularizer' is not supported on a ", class_name, " layer");
    result->set_trainable(reader.get("trainable", true));
    return result;
  } catch (const json::exception& error) {
    // A field of the wrong JSON type or a missing nested one: say where, not just what nlohmann saw.
    fail(reader.where(), ": malformed config: ", error.what());
  }
}

namespace {

KerasDialect dialect_of(const json& model) {
  const std::string version = model.value("keras_version", std::string());
  return {.keras3 = !version.empty() && version[0] >= '3' && version[0] <= '9'};
}

std::string tensor_text(const TensorReference& tensor) {
  return "['" + tensor.layer + "', " + std::to_string(tensor.node_index) + ", " +
         std::to_string(tensor.tensor_index) + "]";
}

// The calls' keyword options (Attention's use_causal_mask, return_attention_scores) become the layer's:
// rnnkit keeps one value for all of a layer's calls. A causal layer (tf.keras 2.6-2.9's config field) stays
// causal.
void apply_call_options(Layer& layer, const std::vector<NodeSpec>& nodes, const std::string& at) {
  auto* attention = dynamic_cast<DenseAttention*>(&layer);
  if (attention == nullptr || nodes.empty()) return;
  const auto option = [](const NodeSpec& node, const char* key) {
    return node.call_options.value(key, false);
  };
  for (const NodeSpec& node : nodes)
    check(option(node, "use_causal_mask") == option(nodes[0], "use_causal_mask") &&
              option(node, "return_attention_scores") == option(nodes[0], "return_attention_scores"),
          at,
          ": its calls differ in use_causal_mask or return_attention_scores, which rnnkit takes once per "
          "layer");
  attention->set_call_options(
      attention->call_options().use_causal_mask || option(nodes[0], "use_causal_mask"),
      option(nodes[0], "return_attention_scores"));
}

// Keras's Functional.from_config: every layer made from its config, then its calls made in the config's
// order, a call whose inputs do not exist yet deferred until they do; each call gets the node index the file
// gives it.
Model functional_from_config(const json& model, std::string_view where, const SequentialOptions& options) {
  const json& config = model.value("config", json());
  check(config.is_object() && config.contains("layers") && config["layers"].is_array() &&
            !config["layers"].empty(),
        where, ": a Functional model config needs a non-empty list of layers");
  const FunctionalSpec spec = parse_functional_config(model, where);
  const KerasDialect dialect = dialect_of(model);
  std::map<std::string, std::shared_ptr<Layer>> layers;
  std::map<std::pair<std::string, int>, std::vector<SymbolicTensor>> made;  // (layer, node) -> outputs
  for (const LayerSpec& layer : spec.layers) {
    const std::string name = functional_layer_name(layer.layer);
    const std::string at = std::string(where) + " layer '" + name + "'";
    std::shared_ptr<Layer> created = layer_from_config(layer.layer, std::string(where) + " layer", dialect);
    check(created->name() == name, at, ": its config names it '", created->name(), "'");
    apply_call_options(*created, layer.nodes, at);
    if (auto input = std::dynamic_pointer_cast<InputLayer>(created)) made[{name, 0}] = {input_tensor(input)};
    layers.emplace(name, std::move(created));
  }
  Rng rng(options.seed);
  std::map<std::string, std::size_t> done;  // per layer: how many of its calls are made
  const auto find = [&](const TensorReference& tensor) -> const SymbolicTensor* {
    const auto found = made.find({tensor.layer, tensor.node_index});
    if (found == made.end()) return nullptr;
    if (static_cast<std::size_t>(tensor.tensor_index) >= found->second.size())
      fail(where, ": ", tensor_text(tensor), " reads output ", tensor.tensor_index, " of layer '",
           tensor.layer, "', which has ", found->second.size(), " output(s)");
    return &found->second[static_cast<std::size_t>(tensor.tensor_index)];
  };
  for (bool progress = true; progress;) {
    progress = false;
    for (const LayerSpec& layer : spec.layers) {
      const std::string name = functional_layer_name(layer.layer);
      std::size_t& next = done[name];
      for (; next < layer.nodes.size(); ++next) {
        const NodeSpec& node = layer.nodes[next];
        const SymbolicTensor* input = find(node.input);
        SymbolicCallArgs args;
        std::vector<SymbolicTensor> list;
        if (input) list.push_back(*input);
        bool ready = input != nullptr;
        const auto gather = [&](const std::vector<TensorReference>& tensors,
                                std::vector<SymbolicTensor>& into) {
          for (const TensorReference& reference : tensors) {
            const SymbolicTensor* tensor = find(reference);
            ready = ready && tensor != nullptr;
            if (tensor) into.push_back(*tensor);
          }
        };
        gather(node.initial_state, args.initial_state);
        gather(node.extra_inputs, list);
        if (!ready) break;  // later, once its inputs exist
        try {
          const std::shared_ptr<Layer>& called = layers.at(name);
          check(called->takes_input_list() || node.extra_inputs.empty(), "it is called on a list of ",
                list.size(), " tensors, and takes one");
          const LayerOutputs outputs =
              called->takes_input_list()
                  ? Layer::call_symbolic(called, list, rng, static_cast<int>(next))
                  : Layer::call_symbolic(called, *input, args, rng, static_cast<int>(next));
          made[{name, static_cast<int>(next)}] = std::vector<SymbolicTensor>(outputs.begin(), outputs.end());
        } catch (const Error& error) {
          fail(where, " layer '", name, "' node ", next, ": ", error.what());
        }
        progress = true;
      }
    }
  }
  for (const LayerSpec& layer : spec.layers) {
    const std::string name = functional_layer_name(layer.layer);
    check(done[name] == layer.nodes.size(), where, ": layer '", name, "' node ", done[name],
          " reads tensors that no call of the model makes (a cycle)");
  }
  std::vector<SymbolicTensor> inputs, outputs;
  for (const TensorReference& tensor : spec.inputs) inputs.push_back(*find(tensor));
  for (const TensorReference& tensor : spec.outputs) outputs.push_back(*find(tensor));
  SequentialOptions model_options = options;
  if (model_options.name.empty()) model_options.name = spec.name;
  Model result(std::move(inputs), std::move(outputs), model_options);
  // Keras lists a layer in model.layers only when the outputs depend on it.
  std::string output_names;
  for (const TensorReference& output : spec.outputs)
    output_names += (output_names.empty() ? "'" : ", '") + output.layer + "'";
  for (const LayerSpec& layer : spec.layers) {
    const std::string name = functional_layer_name(layer.layer);
    const bool used = std::ranges::any_of(result.layers(), [&](const auto& l) { return l->name() == name; });
    if (used) continue;
    std::string reads;
    for (const NodeSpec& node : layer.nodes) reads += (reads.empty() ? "'" : ", '") + node.input.layer + "'";
    fail(where, ": not supported yet: layer '", name, "'", reads.empty() ? "" : " (reading " + reads + ")",
         " is not on a path from the inputs to the outputs (", output_names, ")");
  }
  return result;
}

Sequential sequential_from_config(const json& model, std::string_view where,
                                  const SequentialOptions& options) {
  check(model.is_object() && model.contains("class_name"), where,
        ": expected a Keras model {\"class_name\": \"Sequential\", \"config\": {...}}");
  const std::string class_name = model.at("class_name").get<std::string>();
  check(class_name == "Sequential", where, ": model class '", class_name,
        "' is not supported (Sequential, Functional or Model)");
  const KerasDialect dialect = dialect_of(model);
  check(model.contains("config"), where, ": 'config' is missing");
  const json& config = model.at("config");
  // Keras 1 and early Keras 2 wrote the layer list itself as the config.
  const json& layers = config.is_array() ? config : config.at("layers");
  check(layers.is_array(), where, ": 'config.layers' must be a list");
  SequentialOptions model_options = options;
  if (model_options.name.empty() && config.is_object())
    model_options.name = config.value("name", std::string());
  Sequential sequential(model_options);
  // The InputLayer that tf.keras's add() made for the first layer's input shape is named after that layer;
  // it is the first layer's shape (Keras 3 writes it only there), which config() writes back the same way.
  const auto config_name = [](const json& layer) {
    return layer.is_object() && layer.contains("config") && layer["config"].is_object()
               ? layer["config"].value("name", std::string())
               : std::string();
  };
  const bool implicit_input_layer = layers.size() > 1 && layers[0].is_object() &&
                                    layers[0].value("class_name", std::string()) == "InputLayer" &&
                                    !config_name(layers[1]).empty() &&
                                    config_name(layers[0]) == config_name(layers[1]) + "_input";
  for (std::size_t i = implicit_input_layer ? 1 : 0; i < layers.size(); ++i) {
    const std::string layer_where = std::string(where) + " layer " + std::to_string(i);
    json layer_json = layers[i];
    if (implicit_input_layer && i == 1) {
      const json& input = layers[0].at("config");
      json& first = layer_json.at("config");
      if (!first.contains("batch_input_shape") && !first.contains("batch_shape"))
        first["batch_input_shape"] =
            input.contains("batch_input_shape") ? input.at("batch_input_shape") : input.at("batch_shape");
    }
    std::unique_ptr<Layer> layer = layer_from_config(layer_json, layer_where, dialect);
    try {
      sequential.add(std::move(layer));
    } catch (const Error& error) {
      fail(layer_where, ": ", error.what());
    }
  }
  return sequential;
}

}  // namespace

Model model_from_config(const json& model, std::string_view where, const SequentialOptions& options) {
  try {
    if (model.is_object() && model.contains("class_name") &&
        (model["class_name"] == "Functional" || model["class_name"] == "Model"))
      return functional_from_config(model, where, options);
    return sequential_from_config(model, where, options);
  } catch (const json::exception& error) {
    fail(where, ": malformed model config: ", error.what());
  }
}

Model load_model_json(const std::filesystem::path& path, const SequentialOptions& options) {
  std::ifstream file(path);
  check(file.good(), "cannot open model file '", path.string(), "'");
  json model;
  try {
    model = json::parse(file);
  } catch (const json::parse_error& error) {
    fail("model file '", path.string(), "' is not valid JSON: ", error.what());
  }
  return model_from_config(model, "model file '" + path.string() + "'", options);
}

}  // namespace rnnkit
