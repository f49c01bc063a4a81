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

// The metrics of a saved config, flattened (tf.keras nests them per output: [[...]]) into `metrics`; one
// rnnkit does not compute goes into `dropped` (as saved, JSON, with the reason). tf.keras 2.x saves a
// multi-output model's metric objects with the names compile gave them ("pitch_accuracy" for output
// "pitch"): `output`'s prefix is taken off, as compile puts it back.
void collect_metrics(const json& value, std::vector<MetricSpec>& metrics, std::vector<std::string>& dropped,
                     const std::string& where, const std::string& suffix, const std::string& output = "") {
  if (value.is_null()) return;
  if (value.is_array()) {
    for (const json& item : value) collect_metrics(item, metrics, dropped, where, suffix, output);
    return;
  }
  try {
    std::unique_ptr<Metric> metric = metric_from_config(value, where);
    const std::string prefix = output + "_";
    if (!output.empty() && metric->name().starts_with(prefix) && metric->name().size() > prefix.size())
      metric->set_name(metric->name().substr(prefix.size()));
    if (value.is_string()) {
      metrics.emplace_back(value.get<std::string>());
    } else {
      metrics.emplace_back(std::move(metric));
    }
  } catch (const Error& error) {
    std::string reason = error.what();
    if (reason.starts_with(where + ": ")) reason = reason.substr(where.size() + 2);
    dropped.push_back(value.dump() + suffix + ": " + reason);
  }
}

// A compiled metric as compile() got it: the name it was given, or its class and config.
json metric_json(const MetricSpec& spec, const Metric& metric, Dialect dialect) {
  if (spec.name()) return *spec.name();
  if (dialect == Dialect::kKeras2) return {{"class_name", metric.class_name()}, {"config", metric.config()}};
  json config = metric.config();
  std::string class_name = metric.class_name();
  if (class_name == "MeanMetricWrapper") {  // Keras 3 has the class for each accuracy function
    const std::string fn = config.value("fn", std::string());
    class_name = fn == "binary_accuracy"                     ? "BinaryAccuracy"
                 : fn == "categorical_accuracy"              ? "CategoricalAccuracy"
                 : fn == "sparse_categorical_accuracy"       ? "SparseCategoricalAccuracy"
                 : fn == "top_k_categorical_accuracy"        ? "TopKCategoricalAccuracy"
                 : fn == "sparse_top_k_categorical_accuracy" ? "SparseTopKCategoricalAccuracy"
                                                             : "Accuracy";
    config.erase("fn");
  }
  return {{"module", "keras.metrics"},
          {"class_name", class_name},
          {"config", config},
          {"registered_name", nullptr}};
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

json model_metrics_json(const Model& model, Dialect dialect, bool weighted) {
  const std::size_t count = model.losses().size();
  std::vector<json> lists;
  for (std::size_t i = 0; i < count; ++i) {
    const std::vector<MetricSpec> specs = model.metric_specs_of(i, weighted);
    const std::vector<const Metric*> objects = model.metric_objects_of(i, weighted);
    json list = json::array();
    for (std::size_t m = 0; m < specs.size(); ++m)
      list.push_back(metric_json(specs[m], *objects[m], dialect));
    lists.push_back(std::move(list));
  }
  const bool shared = std::ranges::all_of(lists, [&](const json& list) { return list == lists[0]; });
  if (shared) return lists[0].empty() ? json(nullptr) : lists[0];
  const std::vector<std::string> names = model.output_names();
  json by_output = json::object();
  for (std::size_t i = 0; i < count; ++i)
    if (!lists[i].empty()) by_output[names[i]] = lists[i];
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
  const auto read_metrics = [&](const json& saved, std::vector<MetricSpec>& all,
                                std::map<std::string, std::vector<MetricSpec>>& by_output,
                                const std::string& suffix) {
    const bool per_output_list = outputs.size() > 1 && saved.is_array() && saved.size() == outputs.size() &&
                                 std::ranges::all_of(saved, [](const json& m) { return m.is_array(); });
    if (saved.is_object() && !saved.contains("class_name")) {  // by output name
      for (const auto& [name, item] : saved.items())
        collect_metrics(item, by_output[name], dropped_metrics, where, suffix, name);
    } else if (per_output_list) {  // tf.keras nests them per output
      for (std::size_t i = 0; i < outputs.size(); ++i)
        collect_metrics(saved[i], by_output[outputs[i]], dropped_metrics, where, suffix, outputs[i]);
    } else {
      collect_metrics(saved, all, dropped_metrics, where, suffix);
    }
  };
  read_metrics(metrics, options.metrics, options.metrics_by_output, "");
  read_metrics(weighted_metrics, options.weighted_metrics, options.weighted_metrics_by_output,
               " (in weighted_metrics)");
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
