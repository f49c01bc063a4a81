// rnnkit._rnnkit: the C++ library as Python sees it. The Keras-shaped API (argument names, defaults, classes)
// is the pure-Python package rnnkit.keras on top of this module; here are the objects and the numpy
// conversions.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "arrays.h"
#include "rnnkit/rnnkit.h"

namespace rnnkit::python {
namespace {

using nlohmann::json;

json parse_json(const std::string& text, std::string_view what) {
  try {
    return json::parse(text);
  } catch (const json::exception& error) {
    throw py::value_error(std::string(what) + ": invalid JSON: " + error.what());
  }
}

std::optional<Shape> optional_shape(const std::optional<std::vector<std::optional<std::int64_t>>>& dims) {
  if (!dims) return std::nullopt;
  Shape shape;
  for (const auto& dim : *dims) shape.push_back(dim.value_or(kNone));
  return shape;
}

// A shape as Python writes it: a tuple with None where unknown.
py::tuple shape_tuple(const Shape& shape) {
  py::tuple tuple(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i)
    tuple[i] = shape[i] == kNone ? py::object(py::none()) : py::object(py::int_(shape[i]));
  return tuple;
}

py::dict logs_dict(const Logs& logs) {
  py::dict dict;
  for (const auto& [key, value] : logs) dict[py::str(key)] = value;
  return dict;
}

// A callback whose hooks call a Python object's (rnnkit.keras.callbacks.Callback's dispatch methods) with the
// GIL held: fit runs with the GIL released.
class PythonCallback : public Callback {
 public:
  explicit PythonCallback(py::object target) : target_(std::move(target)) {}
  ~PythonCallback() override {
    py::gil_scoped_acquire gil;
    target_ = py::object();
  }
  void on_train_begin() override { invoke("_rnnkit_train_begin"); }
  void on_train_end() override { invoke("_rnnkit_train_end"); }
  void on_epoch_begin(int epoch) override { invoke("_rnnkit_epoch_begin", epoch); }
  void on_epoch_end(int epoch, const Logs& logs) override { invoke_logs("_rnnkit_epoch_end", epoch, logs); }
  void on_batch_end(std::int64_t batch, const Logs& logs) override {
    invoke_logs("_rnnkit_batch_end", batch, logs);
  }

 private:
  template <class... Arguments>
  void invoke(const char* method, Arguments... arguments) {
    py::gil_scoped_acquire gil;
    target_.attr(method)(arguments...);
  }
  template <class Index>
  void invoke_logs(const char* method, Index index, const Logs& logs) {
    py::gil_scoped_acquire gil;
    target_.attr(method)(index, logs_dict(logs));
  }
  py::object target_;
};

std::shared_ptr<Layer> layer_from_json(const std::string& text) {
  return std::shared_ptr<Layer>(layer_from_config(parse_json(text, "layer config"), "layer config"));
}

// A loaded or converted model: a Sequential where it is one (so that add() works), a Model otherwise.
std::shared_ptr<Model> hold_model(Model&& model) {
  if (model.is_sequential()) return std::make_shared<Sequential>(std::move(model));
  return std::make_shared<Model>(std::move(model));
}

std::vector<SymbolicTensor> symbolic_call(const std::shared_ptr<Layer>& layer,
                                          const std::vector<SymbolicTensor>& inputs,
                                          const std::vector<SymbolicTensor>& initial_state,
                                          std::uint64_t seed) {
  Rng rng(seed);
  if (layer->takes_input_list()) {
    check(initial_state.empty(), layer->name(), ": initial_state is for recurrent layers");
    const LayerOutputs outputs = Layer::call_symbolic(layer, inputs, rng);
    return outputs;
  }
  check(inputs.size() == 1, "layer '", layer->name(), "' (", layer->class_name(),
        ") takes one tensor, received ", inputs.size());
  const LayerOutputs outputs = Layer::call_symbolic(layer, inputs[0], {.initial_state = initial_state}, rng);
  return outputs;
}

py::list call_layer(Layer& layer, const std::vector<py::object>& inputs,
                    const std::vector<py::object>& initial_state, const py::object& mask, bool training,
                    std::uint64_t seed) {
  const std::string where = "layer '" + layer.name() + "'";
  std::vector<Tensor> x = to_tensors(inputs, where + " inputs");
  std::vector<Tensor> states = to_tensors(initial_state, where + " initial_state");
  std::optional<Tensor> mask_tensor;
  if (!mask.is_none()) mask_tensor = to_tensor(mask, where + " mask");
  std::vector<Tensor> outputs;
  {
    py::gil_scoped_release release;
    Rng rng(seed);
    if (auto* list_layer = dynamic_cast<ListInputLayer*>(&layer)) {
      check(states.empty(), where, ": initial_state is for recurrent layers");
      outputs = list_layer->call_list(x, {}, training, &rng);
    } else {
      check(x.size() == 1, where, " (", layer.class_name(), ") takes one array, received ", x.size());
      CallArgs args{.mask = mask_tensor ? &*mask_tensor : nullptr,
                    .initial_state = std::move(states),
                    .training = training,
                    .rng = &rng};
      outputs = layer.call(x[0], args);
    }
  }
  return to_numpy_list(std::move(outputs));
}

std::unique_ptr<Optimizer> make_optimizer_from(const std::string& class_name, const std::string& config) {
  if (config.empty()) return make_optimizer(class_name);
  return optimizer_from_config(class_name, parse_json(config, "optimizer config"), "optimizer " + class_name);
}

py::dict history_dict(const History& history) {
  py::dict result;
  py::dict logs;
  for (const auto& [key, values] : history.history) logs[py::str(key)] = py::cast(values);
  result["history"] = logs;
  result["epoch"] = py::cast(history.epoch);
  const char* reason = "none";
  switch (history.stop_reason) {
    case StopReason::none:
      break;
    case StopReason::callback:
      reason = "callback";
      break;
    case StopReason::interrupt:
      reason = "interrupt";
      break;
    case StopReason::max_duration:
      reason = "max_duration";
      break;
  }
  result["stop_reason"] = reason;
  return result;
}

// compile()'s metrics from Python: a name, or a metric object's {"class_name", "config"} as JSON text.
std::vector<MetricSpec> metric_specs(const std::vector<std::string>& metrics) {
  std::vector<MetricSpec> specs;
  for (const std::string& metric : metrics) {
    if (metric.starts_with("{"))
      specs.emplace_back(metric_from_config(json::parse(metric), "compile(metrics=...)"));
    else
      specs.emplace_back(metric);
  }
  return specs;
}

}  // namespace

PYBIND11_MODULE(_rnnkit, m) {
  m.doc() = "rnnkit's C++ library; use rnnkit.keras";

  // rnnkit::Error is Keras's ValueError, or NotImplementedError where it says rnnkit does not support
  // something.
  static py::exception<Error> error_type(m, "Error", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr pointer) {
    try {
      if (pointer) std::rethrow_exception(pointer);
    } catch (const Error& error) {
      const std::string_view message = error.what();
      if (message.find("not supported") != std::string_view::npos)
        PyErr_SetString(PyExc_NotImplementedError, error.what());
      else
        PyErr_SetString(error_type.ptr(), error.what());
    }
  });

  m.def("clear_session", &clear_session, "Restarts Keras's per-process layer and model names.");

  py::class_<SymbolicTensor>(m, "SymbolicTensor")
      .def_property_readonly("shape", [](const SymbolicTensor& t) { return shape_tuple(t.shape()); })
      .def_property_readonly("description", &SymbolicTensor::description)
      .def_property_readonly("layer_name", [](const SymbolicTensor& t) { return t.layer().name(); });

  m.def(
      "Input",
      [](const std::vector<std::optional<std::int64_t>>& shape, const std::string& name,
         std::optional<std::int64_t> batch_size, const std::string& dtype) {
        return Input(*optional_shape(shape),
                     InputOptions{.name = name, .batch_size = batch_size, .dtype = dtype});
      },
      py::arg("shape"), py::arg("name") = "", py::arg("batch_size") = py::none(),
      py::arg("dtype") = "float32");

  py::class_<Layer, std::shared_ptr<Layer>>(m, "Layer")
      .def_static("from_config", &layer_from_json, py::arg("config"),
                  "A layer from Keras's {\"class_name\": ..., \"config\": {...}} as JSON text.")
      .def_property_readonly("address", [](const Layer& l) { return reinterpret_cast<std::uintptr_t>(&l); })
      .def_property_readonly("name", &Layer::name)
      .def_property_readonly("class_name", &Layer::class_name)
      .def_property("trainable", &Layer::trainable, &Layer::set_trainable)
      .def_property_readonly("built", &Layer::built)
      .def_property_readonly("stateful", &Layer::stateful)
      .def_property_readonly("takes_input_list", &Layer::takes_input_list)
      .def_property_readonly("input_shape", [](const Layer& l) { return shape_tuple(l.input_shape()); })
      .def_property_readonly("output_shapes",
                             [](const Layer& l) {
                               py::list shapes;
                               for (const Shape& shape : l.output_shapes()) shapes.append(shape_tuple(shape));
                               return shapes;
                             })
      .def("build",
           [](Layer& l, const std::vector<std::optional<std::int64_t>>& shape, std::uint64_t seed) {
             Rng rng(seed);
             l.build(*optional_shape(shape), rng);
           })
      .def("count_params", &Layer::count_params)
      .def("weight_names", &Layer::weight_names)
      .def("get_weights", [](const Layer& l) { return to_numpy_list(l.get_weights()); })
      .def("set_weights",
           [](Layer& l, const std::vector<py::object>& weights) {
             l.set_weights(to_tensors(weights, "layer '" + l.name() + "' set_weights"));
           })
      .def("weight_trainable",
           [](Layer& l) {
             std::vector<bool> flags;
             for (const Param* param : l.params()) flags.push_back(param->trainable);
             return flags;
           })
      .def("config", [](const Layer& l) { return l.config().dump(); })
      .def("reset_states", &Layer::reset_states)
      .def("call", &call_layer, py::arg("inputs"), py::arg("initial_state"), py::arg("mask"),
           py::arg("training"), py::arg("seed"))
      .def_static("call_symbolic", &symbolic_call);

  py::class_<Callback, std::shared_ptr<Callback>>(m, "Callback");
  m.def("python_callback", [](py::object target) -> std::shared_ptr<Callback> {
    return std::make_shared<PythonCallback>(std::move(target));
  });
  m.def("EarlyStopping",
        [](const std::string& monitor, double min_delta, int patience, const std::string& mode,
           std::optional<double> baseline, bool restore_best_weights) {
          return EarlyStopping({.monitor = monitor,
                                .min_delta = min_delta,
                                .patience = patience,
                                .mode = mode,
                                .baseline = baseline,
                                .restore_best_weights = restore_best_weights});
        });
  m.def("ModelCheckpoint", [](const std::string& path, const std::string& monitor, bool save_best_only,
                              const std::string& mode) {
    return ModelCheckpoint(path, {.monitor = monitor, .save_best_only = save_best_only, .mode = mode});
  });
  m.def("CSVLogger", [](const std::string& path, const std::string& separator, bool append) {
    check(separator.size() == 1, "CSVLogger: separator must be one character, received '", separator, "'");
    return CSVLogger(path, separator[0], append);
  });

  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def("as_layer", &Model::as_layer)  // the one layer every call of it as a nested model goes through
      .def(py::init([](const std::vector<SymbolicTensor>& inputs, const std::vector<SymbolicTensor>& outputs,
                       const std::string& name, std::uint64_t seed) {
             return std::make_shared<Model>(inputs, outputs, ModelOptions{.name = name, .seed = seed});
           }),
           py::arg("inputs"), py::arg("outputs"), py::arg("name"), py::arg("seed"))
      .def_property_readonly("name", &Model::name)
      .def_property_readonly("is_sequential", &Model::is_sequential)
      .def_property_readonly("built", &Model::built)
      .def_property_readonly("compiled", &Model::compiled)
      .def_property_readonly("layers", [](const Model& model) { return model.layers(); })
      .def("get_layer", [](const Model& model, const std::string& name) { return model.shared_layer(name); })
      .def_property_readonly("inputs", &Model::inputs)
      .def_property_readonly("outputs", &Model::outputs)
      .def_property_readonly("input_names", &Model::input_names)
      .def_property_readonly("output_names", &Model::output_names)
      .def_property(
          "stop_training", [](const Model& model) { return model.stop_training; },
          [](Model& model, bool stop) { model.stop_training = stop; })
      .def("count_params", &Model::count_params)
      .def("get_weights", [](const Model& model) { return to_numpy_list(model.get_weights()); })
      .def("set_weights",
           [](Model& model, const std::vector<py::object>& weights) {
             model.set_weights(to_tensors(weights, "model '" + model.name() + "' set_weights"));
           })
      .def("reset_states", &Model::reset_states)
      .def("summary_text",
           [](const Model& model, const std::string& style, int line_length) {
             return format_summary(model.summary_table(), parse_summary_style(style), line_length);
           })
      .def("config", [](const Model& model) { return model.config().dump(); })
      .def(
          "predict",
          [](Model& model, const std::vector<py::object>& x, std::int64_t batch_size) {
            std::vector<Tensor> inputs = to_tensors(x, "predict x");
            std::vector<Tensor> outputs;
            {
              py::gil_scoped_release release;
              outputs = model.predict(inputs, batch_size);
            }
            return to_numpy_list(std::move(outputs));
          },
          py::arg("x"), py::arg("batch_size"))
      .def(
          "call",
          [](Model& model, const std::vector<py::object>& x, bool training) {
            std::vector<Tensor> inputs = to_tensors(x, "model call");
            std::vector<Tensor> outputs;
            {
              py::gil_scoped_release release;
              outputs = model(inputs, training);
            }
            return to_numpy_list(std::move(outputs));
          },
          py::arg("x"), py::arg("training"))
      .def(
          "compile",
          [](Model& model, const std::string& loss, const std::vector<std::string>& losses,
             const std::map<std::string, std::string>& loss_by_output, const std::string& optimizer_class,
             const std::string& optimizer_config, const std::vector<std::string>& metrics,
             const std::map<std::string, std::vector<std::string>>& metrics_by_output,
             const std::vector<double>& loss_weights,
             const std::map<std::string, double>& loss_weight_by_output, bool from_logits) {
            CompileOptions options;
            options.loss = loss;
            options.losses = losses;
            options.loss_by_output = loss_by_output;
            options.optimizer = make_optimizer_from(optimizer_class, optimizer_config);
            options.metrics = metric_specs(metrics);
            for (const auto& [output, names] : metrics_by_output)
              options.metrics_by_output[output] = metric_specs(names);
            options.loss_weights = loss_weights;
            options.loss_weight_by_output = loss_weight_by_output;
            options.from_logits = from_logits;
            model.compile(std::move(options));
          },
          py::arg("loss"), py::arg("losses"), py::arg("loss_by_output"), py::arg("optimizer_class"),
          py::arg("optimizer_config"), py::arg("metrics"), py::arg("metrics_by_output"),
          py::arg("loss_weights"), py::arg("loss_weight_by_output"), py::arg("from_logits"))
      .def("optimizer_config",
           [](const Model& model) {
             return json{{"class_name", model.optimizer().name()}, {"config", model.optimizer().config()}}
                 .dump();
           })
      .def("fit",
           [](Model& model, const std::vector<py::object>& x, const std::vector<py::object>& y, int epochs,
              std::int64_t batch_size, int verbose, bool shuffle, double validation_split,
              const std::optional<std::pair<std::vector<py::object>, std::vector<py::object>>>&
                  validation_data,
              int initial_epoch, const std::map<int, double>& class_weight,
              const std::optional<py::object>& sample_weight,
              const std::vector<std::shared_ptr<Callback>>& callbacks) {
             const std::vector<Tensor> x_tensors = to_tensors(x, "fit x");
             const std::vector<Tensor> y_tensors = to_tensors(y, "fit y");
             PythonStdout stdout_buffer;
             std::ostream out(&stdout_buffer);
             FitOptions options{.epochs = epochs,
                                .batch_size = batch_size,
                                .verbose = verbose,
                                .shuffle = shuffle,
                                .validation_split = validation_split,
                                .initial_epoch = initial_epoch,
                                .class_weight = class_weight,
                                .callbacks = callbacks,
                                .out = &out};
             if (sample_weight) options.sample_weight = to_tensors({*sample_weight}, "fit sample_weight")[0];
             if (validation_data)
               options.validation_arrays =
                   std::pair{to_tensors(validation_data->first, "validation_data x"),
                             to_tensors(validation_data->second, "validation_data y")};
             History history;
             {
               py::gil_scoped_release release;
               history = model.fit(x_tensors, y_tensors, std::move(options));
               out.flush();
             }
             return history_dict(history);
           })
      .def("evaluate",
           [](Model& model, const std::vector<py::object>& x, const std::vector<py::object>& y,
              std::int64_t batch_size, int verbose, const std::optional<py::object>& sample_weight) {
             const std::vector<Tensor> x_tensors = to_tensors(x, "evaluate x");
             const std::vector<Tensor> y_tensors = to_tensors(y, "evaluate y");
             std::optional<Tensor> weights;
             if (sample_weight) weights = to_tensors({*sample_weight}, "evaluate sample_weight")[0];
             PythonStdout stdout_buffer;
             std::ostream out(&stdout_buffer);
             Logs logs;
             {
               py::gil_scoped_release release;
               logs = model.evaluate(
                   x_tensors, y_tensors,
                   {.batch_size = batch_size, .sample_weight = weights, .verbose = verbose, .out = &out});
               out.flush();
             }
             return logs_dict(logs);
           })
      .def("train_on_batch",
           [](Model& model, const std::vector<py::object>& x, const std::vector<py::object>& y) {
             const std::vector<Tensor> x_tensors = to_tensors(x, "train_on_batch x");
             const std::vector<Tensor> y_tensors = to_tensors(y, "train_on_batch y");
             Logs logs;
             {
               py::gil_scoped_release release;
               logs = model.train_on_batch(x_tensors, y_tensors);
             }
             return logs_dict(logs);
           })
      .def("save", [](const Model& model, const std::string& path) { save_model(model, path); })
      .def("save_weights", [](const Model& model, const std::string& path) { save_weights(model, path); })
      .def("load_weights", [](Model& model, const std::string& path) { load_weights(model, path); });

  py::class_<Sequential, Model, std::shared_ptr<Sequential>>(m, "Sequential")
      .def(py::init([](const std::string& name, std::uint64_t seed) {
             return std::make_shared<Sequential>(SequentialOptions{.name = name, .seed = seed});
           }),
           py::arg("name"), py::arg("seed"))
      .def("add", [](Sequential& model, std::shared_ptr<Layer> layer) { model.add(std::move(layer)); })
      .def("add_input", [](Sequential& model, const SymbolicTensor& input) { model.add(input); })
      .def("build", [](Sequential& model, const std::vector<std::optional<std::int64_t>>& shape) {
        model.build(*optional_shape(shape));
      });

  // The C++ calls alone, timed in C++ on tensors made once: the baseline of bench/python_overhead.py.
  m.def("time_cpp_predict", [](Model& model, const py::object& x, std::int64_t batch_size, int repeats) {
    const std::vector<Tensor> inputs{to_tensor(x, "x")};
    py::gil_scoped_release release;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i) model.predict(inputs, batch_size);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  });
  m.def("time_cpp_fit",
        [](Model& model, const py::object& x, const py::object& y, std::int64_t batch_size, int epochs) {
          const std::vector<Tensor> inputs{to_tensor(x, "x")}, targets{to_tensor(y, "y")};
          py::gil_scoped_release release;
          const auto start = std::chrono::steady_clock::now();
          model.fit(inputs, targets, {.epochs = epochs, .batch_size = batch_size, .verbose = 0});
          return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        });

  m.def("load_model", [](const std::string& path) { return hold_model(load_model(path)); });
  m.def("model_from_json", [](const std::string& text) {
    return hold_model(model_from_keras_config(parse_json(text, "model JSON"), "model JSON"));
  });

  py::class_<Tokenizer>(m, "Tokenizer")
      .def(py::init([](std::optional<int> num_words, const std::string& filters, bool lower,
                       const std::string& split, bool char_level, std::optional<std::string> oov_token) {
             return Tokenizer({.num_words = num_words,
                               .filters = filters,
                               .lower = lower,
                               .split = split,
                               .char_level = char_level,
                               .oov_token = std::move(oov_token)});
           }),
           py::arg("num_words"), py::arg("filters"), py::arg("lower"), py::arg("split"),
           py::arg("char_level"), py::arg("oov_token"))
      .def("fit_on_texts", &Tokenizer::fit_on_texts)
      .def("fit_on_sequences", &Tokenizer::fit_on_sequences)
      .def("tokenize", [](const Tokenizer& t, const std::string& text) { return t.tokenize(text); })
      .def("texts_to_sequences", &Tokenizer::texts_to_sequences)
      .def("sequences_to_texts", &Tokenizer::sequences_to_texts)
      .def("texts_to_matrix",
           [](const Tokenizer& t, const std::vector<std::string>& texts, const std::string& mode) {
             return to_numpy(t.texts_to_matrix(texts, matrix_mode_from_string(mode)));
           })
      .def("sequences_to_matrix",
           [](const Tokenizer& t, const std::vector<std::vector<int>>& sequences, const std::string& mode) {
             return to_numpy(t.sequences_to_matrix(sequences, matrix_mode_from_string(mode)));
           })
      .def("word_index", [](const Tokenizer& t) { return t.word_index().items(); })
      .def("index_word", [](const Tokenizer& t) { return t.index_word().items(); })
      .def("word_counts", [](const Tokenizer& t) { return t.word_counts().items(); })
      .def("word_docs", [](const Tokenizer& t) { return t.word_docs().items(); })
      .def("index_docs", [](const Tokenizer& t) { return t.index_docs().items(); })
      .def_property_readonly("document_count", &Tokenizer::document_count)
      .def("to_json", &Tokenizer::to_json)
      .def_static("from_json", &Tokenizer::from_json);

  m.def(
      "pad_sequences",
      [](const std::vector<std::vector<int>>& sequences, std::optional<std::int64_t> maxlen,
         const std::string& padding, const std::string& truncating, float value) {
        return to_numpy(pad_sequences(
            sequences, {.maxlen = maxlen, .padding = padding, .truncating = truncating, .value = value}));
      },
      py::arg("sequences"), py::arg("maxlen"), py::arg("padding"), py::arg("truncating"), py::arg("value"));
  m.def(
      "to_categorical",
      [](const py::object& labels, std::optional<std::int64_t> num_classes) {
        return to_numpy(to_categorical(to_tensor(labels, "to_categorical y"), num_classes));
      },
      py::arg("y"), py::arg("num_classes"));
}

}  // namespace rnnkit::python
