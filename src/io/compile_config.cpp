#include "io/compile_config.h"

#include <algorithm>

#include "rnnkit/error.h"

namespace rnnkit::compile_config {
namespace {

using nlohmann::json;

std::string loss_class_name(Loss::Kind kind) {
  switch (kind) {
    case Loss::Kind::categorical_crossentropy:
      return "CategoricalCrossentropy";
    case Loss::Kind::sparse_categorical_crossentropy:
      return "SparseCategoricalCrossentropy";
    case Loss::Kind::binary_crossentropy:
      return "BinaryCrossentropy";
    case Loss::Kind::mean_squared_error:
      return "MeanSquaredError";
  }
  return "";
}

// The loss a saved config names: a string, Keras 3's {"class_name": "function", "config": "name"}, or a loss
// class with its config.
Loss parse_loss(const json& value, const std::string& where) {
  if (value.is_string()) return Loss(value.get<std::string>());
  check(value.is_object() && value.contains("class_name") && value["class_name"].is_string(), where,
        ": loss ", value.dump(), " is not supported (a loss name or a Keras loss class)");
  const std::string class_name = value["class_name"].get<std::string>();
  const json config = value.value("config", json::object());
  if (class_name == "function" && config.is_string()) return Loss(config.get<std::string>());
  check(config.is_object(), where, ": loss ", class_name, " has no config object");
  const double smoothing = config.value("label_smoothing", 0.0);
  check(smoothing == 0.0, where, ": loss ", class_name, " has label_smoothing ", smoothing,
        ", which rnnkit does not support");
  const std::string reduction = config.value("reduction", std::string("auto"));
  check(reduction == "auto" || reduction == "sum_over_batch_size", where, ": loss ", class_name,
        " has reduction '", reduction, "'; rnnkit computes Keras's default, sum_over_batch_size");
  check(config.value("axis", -1) == -1, where, ": loss ", class_name, " reduces over axis ",
        config.value("axis", -1), "; rnnkit supports the last axis (-1)");
  check(!config.contains("ignore_class") || config["ignore_class"].is_null(), where, ": loss ", class_name,
        " sets ignore_class, which rnnkit does not support");
  return Loss(class_name, config.value("from_logits", false));
}

// Whether a saved metric is Keras's accuracy: "accuracy"/"acc", or a MeanMetricWrapper around an accuracy
// function, as tf.keras 2.11 writes compiled metrics once built.
bool is_accuracy(const json& metric) {
  if (metric.is_string()) return metric == "accuracy" || metric == "acc";
  if (!metric.is_object() || !metric.contains("config") || !metric["config"].is_object()) return false;
  const json& config = metric["config"];
  const std::string name = config.value("name", std::string());
  const std::string fn =
      config.contains("fn") && config["fn"].is_string() ? config["fn"].get<std::string>() : "";
  return name == "accuracy" || name == "acc" || fn.ends_with("accuracy");
}

// The metrics of a saved config, flattened (tf.keras nests them per output: [[...]]): accuracy into
// `metrics` where it is given, any other into `dropped` (as saved, JSON).
void collect_metrics(const json& value, std::vector<std::string>* metrics,
                     std::vector<std::string>& dropped) {
  if (value.is_null()) return;
  if (value.is_array()) {
    for (const json& item : value) collect_metrics(item, metrics, dropped);
    return;
  }
  if (metrics == nullptr || !is_accuracy(value)) {
    dropped.push_back(value.dump());
    return;
  }
  if (metrics->empty()) metrics->push_back("accuracy");
}

}  // namespace

json loss_json(const Loss& loss, Dialect dialect) {
  if (!loss.from_logits()) return loss.name();
  json config = {{"name", loss.name()}, {"from_logits", true}};
  config["reduction"] = dialect == Dialect::kKeras2 ? "auto" : "sum_over_batch_size";
  if (loss.kind() == Loss::Kind::sparse_categorical_crossentropy) {
    config["ignore_class"] = nullptr;
  } else {
    config["label_smoothing"] = 0.0;
    config["axis"] = -1;
  }
  if (dialect == Dialect::kKeras2) return {{"class_name", loss_class_name(loss.kind())}, {"config", config}};
  return {{"module", "keras.losses"},
          {"class_name", loss_class_name(loss.kind())},
          {"config", config},
          {"registered_name", nullptr}};
}

json model_loss_json(const Model& model, Dialect dialect) {
  const std::vector<Loss>& losses = model.losses();
  const bool shared = std::ranges::all_of(losses, [&](const Loss& loss) {
    return loss.name() == losses[0].name() && loss.from_logits() == losses[0].from_logits();
  });
  if (shared) return loss_json(losses[0], dialect);
  const std::vector<std::string> names = model.output_names();
  json by_output = json::object();
  for (std::size_t i = 0; i < losses.size(); ++i) by_output[names[i]] = loss_json(losses[i], dialect);
  return by_output;
}

json model_loss_weights_json(const Model& model) {
  const std::vector<double>& weights = model.loss_weights();
  if (std::ranges::all_of(weights, [](double weight) { return weight == 1.0; })) return nullptr;
  const std::vector<std::string> names = model.output_names();
  if (weights.size() == 1) return json::array({weights[0]});
  json by_output = json::object();
  for (std::size_t i = 0; i < weights.size(); ++i) by_output[names[i]] = weights[i];
  return by_output;
}

json model_metrics_json(const Model& model) {
  const std::size_t count = model.losses().size();
  const std::vector<std::string> first = model.metrics_of(0);
  bool shared = true;
  for (std::size_t i = 1; i < count; ++i) shared = shared && model.metrics_of(i) == first;
  if (shared) return first.empty() ? json(nullptr) : json(first);
  const std::vector<std::string> names = model.output_names();
  json by_output = json::object();
  for (std::size_t i = 0; i < count; ++i)
    if (!model.metrics_of(i).empty()) by_output[names[i]] = model.metrics_of(i);
  return by_output;
}

json optimizer_json(const Optimizer& optimizer, Dialect dialect) {
  json config = optimizer.config();
  if (dialect == Dialect::kKeras2) return {{"class_name", "Custom>" + optimizer.name()}, {"config", config}};
  // Keras 3's BaseOptimizer.get_config: no jit_compile or is_legacy_optimizer, two more keys, the name
  // snake_cased from the class by auto_name, a schedule wrapped with its module.
  config.erase("jit_compile");
  config.erase("is_legacy_optimizer");
  config["loss_scale_factor"] = nullptr;
  config["gradient_accumulation_steps"] = nullptr;
  const std::string name = optimizer.name();
  config["name"] = name == "RMSprop" ? "rmsprop"
                   : name == "SGD"   ? "sgd"
                   : name == "Adam"  ? "adam"
                                     : "adagrad";
  if (config["learning_rate"].is_object()) {
    json& schedule = config["learning_rate"];
    schedule["module"] = "keras.optimizers.schedules";
    schedule["registered_name"] = nullptr;
  }
  return {
      {"module", "keras.optimizers"}, {"class_name", name}, {"config", config}, {"registered_name", nullptr}};
}

std::vector<std::string> compile_model(Model& model, const json& loss, const json& metrics,
                                       const json& weighted_metrics, const json& optimizer,
                                       const std::string& where, const json& loss_weights) {
  check(optimizer.is_string() || (optimizer.is_object() && optimizer.contains("class_name") &&
                                  optimizer["class_name"].is_string()),
        where, ": the optimizer must be a name or {\"class_name\": ..., \"config\": ...}, found ",
        optimizer.dump());
  CompileOptions options;
  const std::vector<std::string> outputs = model.output_names();
  try {
    // One loss for every output, a list in outputs order, or a dict by output name.
    std::vector<std::pair<std::string, Loss>> parsed;
    if (loss.is_array()) {
      check(loss.size() == outputs.size(), where, ": ", loss.size(), " losses for the ", outputs.size(),
            " outputs of model '", model.name(), "'");
      for (std::size_t i = 0; i < loss.size(); ++i)
        parsed.emplace_back(outputs[i], parse_loss(loss[i], where));
    } else if (loss.is_object() && !loss.contains("class_name")) {
      for (const auto& [name, item] : loss.items()) parsed.emplace_back(name, parse_loss(item, where));
    } else {
      parsed.emplace_back("", parse_loss(loss, where));
    }
    check(!parsed.empty(), where, ": no loss");
    options.from_logits = parsed[0].second.from_logits();
    for (const auto& [name, one] : parsed) {
      check(one.from_logits() == options.from_logits, where,
            ": the outputs' losses differ in from_logits, which rnnkit sets for all outputs at once");
      if (name.empty()) {
        options.loss = one.name();
      } else {
        options.loss_by_output[name] = one.name();
      }
    }
    if (loss_weights.is_array()) {
      for (const json& weight : loss_weights) {
        check(weight.is_number(), where, ": loss_weights ", loss_weights.dump(), " are not numbers");
        options.loss_weights.push_back(weight.get<double>());
      }
    } else if (loss_weights.is_object()) {
      for (const auto& [name, weight] : loss_weights.items()) {
        check(weight.is_number(), where, ": loss_weights ", loss_weights.dump(), " are not numbers");
        options.loss_weight_by_output[name] = weight.get<double>();
      }
    } else {
      check(loss_weights.is_null(), where, ": loss_weights ", loss_weights.dump(),
            " are not a list or a dict by output");
    }
  } catch (const Error& error) {
    const std::string message = error.what();
    if (message.starts_with(where)) throw;
    fail(where, ": ", message);
  }
  std::vector<std::string> dropped_metrics;
  const bool per_output_list = outputs.size() > 1 && metrics.is_array() && metrics.size() == outputs.size() &&
                               std::ranges::all_of(metrics, [](const json& m) { return m.is_array(); });
  if (metrics.is_object()) {  // by output name
    for (const auto& [name, item] : metrics.items())
      collect_metrics(item, &options.metrics_by_output[name], dropped_metrics);
  } else if (per_output_list) {  // tf.keras nests them per output
    for (std::size_t i = 0; i < outputs.size(); ++i)
      collect_metrics(metrics[i], &options.metrics_by_output[outputs[i]], dropped_metrics);
  } else {
    collect_metrics(metrics, &options.metrics, dropped_metrics);
  }
  // Keras weighs these by sample_weight (class_weight in fit), which rnnkit's accuracy does not read.
  std::vector<std::string> dropped_weighted;
  collect_metrics(weighted_metrics, nullptr, dropped_weighted);
  for (const std::string& metric : dropped_weighted)
    dropped_metrics.push_back(metric + " (in weighted_metrics)");
  if (optimizer.is_string()) {  // Keras 3 keeps compile(optimizer="adam") as the string
    try {
      options.optimizer = make_optimizer(optimizer.get<std::string>());
    } catch (const Error& error) {
      fail(where, ": ", error.what());
    }
  } else {
    options.optimizer = optimizer_from_config(optimizer["class_name"].get<std::string>(),
                                              optimizer.value("config", json::object()), where);
  }
  model.compile(std::move(options));
  return dropped_metrics;
}

std::vector<std::string> trainable_weight_names(const Model& model) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < model.size(); ++i) {
    if (!model.layer(i).trainable()) continue;
    const std::vector<const Param*> params = model.layer(i).params();
    std::vector<std::string> layer_names = model.layer(i).weight_names();
    for (std::size_t k = 0; k < params.size(); ++k)
      if (params[k]->trainable) names.push_back(std::move(layer_names[k]));
  }
  return names;
}

std::vector<Shape> trainable_weight_shapes(const Model& model) {
  std::vector<Shape> shapes;
  for (std::size_t i = 0; i < model.size(); ++i)
    if (model.layer(i).trainable())
      for (const Param* param : model.layer(i).params())
        if (param->trainable) shapes.push_back(param->value.shape());
  return shapes;
}

}  // namespace rnnkit::compile_config
