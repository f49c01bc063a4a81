// Model: a graph of layer calls from inputs to outputs, as keras.Model (the Functional API). Sequential is a
// Model whose calls form a chain; both train, save and summarise through this class.
#pragma once

#include <chrono>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rnnkit/callbacks.h"
#include "rnnkit/dataset.h"
#include "rnnkit/graph.h"
#include "rnnkit/layer.h"
#include "rnnkit/losses.h"
#include "rnnkit/metrics.h"
#include "rnnkit/optimizers.h"
#include "rnnkit/summary.h"

namespace rnnkit {

class ProgressBar;
struct TrainingPlan;

struct ModelOptions {
  std::string name{};      // "model", "model_1", ... (Sequential: "sequential", ...) when empty
  std::uint64_t seed = 0;  // for the initial weights of the layers a Sequential builds
};

// Keras's compile(). A model with several outputs takes one loss for all of them (`loss`), or one per
// output by position (`losses`) or by output name (`loss_by_output`); the same for loss weights and metrics.
// `metrics` see only the mask of an output; `weighted_metrics` are weighed by the sample weights too (and
// are logged as "weighted_<name>" where a plain metric has the name), as in tf.keras 2.x.
struct CompileOptions {
  std::string loss = "mean_squared_error";
  std::unique_ptr<Optimizer> optimizer{};  // rmsprop, as Keras, when not given
  std::vector<MetricSpec> metrics{};  // "accuracy": binary, sparse or categorical by the shapes, as Keras
  bool from_logits = false;
  std::vector<std::string> losses{};                                   // one per output, in outputs() order
  std::map<std::string, std::string> loss_by_output{};                 // output layer name -> loss
  std::vector<double> loss_weights{};                                  // one per output; 1 each when empty
  std::map<std::string, double> loss_weight_by_output{};               // output layer name -> weight
  std::map<std::string, std::vector<MetricSpec>> metrics_by_output{};  // output layer name -> metrics
  std::vector<MetricSpec> weighted_metrics{};
  std::map<std::string, std::vector<MetricSpec>> weighted_metrics_by_output{};
};

struct FitOptions {
  int epochs = 1;
  std::int64_t batch_size = 32;  // for x and y given as tensors; a Dataset makes its own batches
  int verbose = 1;               // 0 silent, 1 progress bar, 2 one line per epoch
  bool shuffle = true;           // passed to Dataset::start_epoch before each epoch
  // Validation after each epoch, from at most one of these:
  double validation_split = 0.0;  // the last fraction of x and y, taken before shuffling (tensors only)
  std::optional<std::pair<Tensor, Tensor>> validation_data{};  // batched by batch_size
  Dataset* validation_dataset = nullptr;                       // not owned; its own batches, never shuffled
  int initial_epoch = 0;
  std::map<int, double> class_weight{};  // class id (sparse targets, or the argmax of one-hot ones) -> weight
  std::vector<std::shared_ptr<Callback>> callbacks{};
  std::ostream* out = nullptr;  // std::cout when null
  // Training stops at the end of the batch during which this much time has passed since fit began; the
  // partial epoch is validated and logged and the callbacks end as on any stop (History::stop_reason says
  // why).
  std::optional<std::chrono::duration<double>> max_duration{};
  // validation_data for a model with several inputs or outputs: arrays in inputs() and outputs() order.
  std::optional<std::pair<std::vector<Tensor>, std::vector<Tensor>>>
      validation_arrays{};  // Keras's sample_weight for x and y given as tensors: one weight per sample (N),
                            // or per row of the
  // outputs ((N, T) for (N, T, C), Keras's temporal weights); split with validation_split as x and y are.
  // A Dataset gives its own (Dataset::weighted_batch). Not together with class_weight (as in Keras).
  std::optional<Tensor> sample_weight{};
};

// What fit needs, besides the weights and the optimizer, to go on exactly where it stopped. save_model keeps
// it with a compiled model and load_model gives it back to the model, so that a model saved after epoch k and
// fit again with initial_epoch = epoch gives what training straight through gives.
struct TrainingState {
  Rng generator;  // the model's generator: each epoch's shuffle and the dropout masks draw from it
  int epoch = 0;  // the epoch after the last one fit ran (a stopped one too): the initial_epoch to go on from
};

struct EvaluateOptions {
  std::int64_t batch_size = 32;
  std::optional<Tensor> sample_weight{};  // as FitOptions::sample_weight, for x and y given as tensors
  int verbose = 1;
  std::ostream* out = nullptr;
};

class Model {
 public:
  // keras.Model(inputs, outputs): the graph from `inputs` to `outputs`; every tensor the outputs depend on
  // must come from one of the inputs (the error names the first that does not).
  Model(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs,
        const ModelOptions& options = {});
  Model(SymbolicTensor input, SymbolicTensor output, const ModelOptions& options = {})
      : Model(std::vector{std::move(input)}, std::vector{std::move(output)}, options) {}
  virtual ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  const std::string& name() const { return name_; }
  // Whether this is a Sequential (Keras's class; the summary and config follow it).
  bool is_sequential() const { return sequential_; }

  // Keras's model.layers: a Functional model's InputLayers included, a Sequential's not.
  std::size_t size() const { return layers_.size(); }
  Layer& layer(std::size_t index);
  const Layer& layer(std::size_t index) const;
  // model.get_layer(name); the error lists the names there are.
  Layer& layer(std::string_view name);
  const Layer& layer(std::string_view name) const;
  Layer& get_layer(std::string_view name) { return layer(name); }
  // The layers themselves, shared: a layer taken from here and called again shares its weights.
  std::shared_ptr<Layer> shared_layer(std::string_view name) const;
  const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }
  // model.inputs / model.outputs (a Sequential's once built).
  const std::vector<SymbolicTensor>& inputs() const;
  const std::vector<SymbolicTensor>& outputs() const;
  // Keras's input_names / output_names: the layers that make the inputs and outputs.
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;
  // The nodes of the graph in the order they run, inputs first.
  const std::vector<std::shared_ptr<const GraphNode>>& nodes() const { return nodes_; }

  bool built() const { return !nodes_.empty(); }
  // The batch shape of the only input / output (an error naming the count for several).
  const Shape& input_shape() const;
  Shape output_shape() const;

  // Forward passes, as model(x) and model.predict(x): arrays in inputs() order in, outputs() order out.
  std::vector<Tensor> operator()(const std::vector<Tensor>& x, bool training = false);
  std::vector<Tensor> predict(const std::vector<Tensor>& x, std::int64_t batch_size = 32);
  // The same for a model with one input and one output.
  Tensor operator()(const Tensor& x, bool training = false);
  // Calls the model on symbolic tensors, as a layer of another model (Keras's nested models): one tensor for
  // a model with one input, else a list in inputs() order. Every call is one of as_layer(), so that the calls
  // share the layers of this model, whose weights the outer model trains.
  LayerOutputs operator()(const SymbolicTensor& x) const;
  LayerOutputs operator()(const std::vector<SymbolicTensor>& inputs) const;
  LayerOutputs operator()(const LayerOutputs& inputs) const;
  // This model as a layer (a ModelLayer), made on first use and the same one afterwards.
  std::shared_ptr<Layer> as_layer() const;
  Tensor predict(const Tensor& x, std::int64_t batch_size = 32);
  // model(x) with the mask Keras attaches to the output (_keras_mask): (B,T) for a (B,T,C) output when a
  // layer made one (Embedding(mask_zero=true)) and every later layer passed it on; nullopt otherwise. fit,
  // evaluate and train_on_batch leave masked rows out of the loss and the accuracy, as Keras does.
  std::pair<Tensor, std::optional<Tensor>> call_with_mask(const Tensor& x, bool training = false);

  // Training, as Keras's compile / fit / evaluate / train_on_batch.
  void compile(CompileOptions options);
  // Arrays in inputs() and outputs() order. While fit runs, Ctrl-C (SIGINT) ends training after the current
  // batch, as a callback setting stop_training would, and the model stays usable.
  History fit(const std::vector<Tensor>& x, const std::vector<Tensor>& y, FitOptions options = {});
  History fit(const Tensor& x, const Tensor& y, FitOptions options = {});
  // The same loop over batches a Dataset makes on demand (Keras's fit on a generator or tf.data.Dataset):
  // data.batch_count() steps per epoch, data.start_epoch(rng, options.shuffle) before each.
  History fit(Dataset& data, FitOptions options = {});
  // Loss (and metrics) over the whole data, as model.evaluate.
  Logs evaluate(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                const EvaluateOptions& options = {});
  Logs evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options = {});
  Logs evaluate(Dataset& data, const EvaluateOptions& options = {});
  // One update on one batch; the batch's logs.
  Logs train_on_batch(const std::vector<Tensor>& x, const std::vector<Tensor>& y,
                      const Tensor* sample_weight = nullptr);
  Logs train_on_batch(const Tensor& x, const Tensor& y, const Tensor* sample_weight = nullptr);
  Optimizer& optimizer();
  const Optimizer& optimizer() const;
  // What compile() set, as save_model records it in a training config: compiled() is false before compile().
  bool compiled() const { return !losses_.empty(); }
  // The loss of the only output (the error names the outputs where there are several); losses() all.
  const Loss& loss() const;
  const std::vector<Loss>& losses() const { return losses_; }
  const std::vector<double>& loss_weights() const { return loss_weights_; }
  // The names of the compiled metrics of the only output ({"accuracy"}, {"auc", "precision"}, or {});
  // metrics_of(i) those of output i, weighted_metrics_of(i) its weighted metrics (without an output's
  // prefix or "weighted_").
  std::vector<std::string> metrics() const;
  std::vector<std::string> metrics_of(std::size_t output) const;
  std::vector<std::string> weighted_metrics_of(std::size_t output) const;
  // The compiled metric objects of output i (their state is the last epoch's or evaluation's), and how
  // to compile them again: by the name given or as a copy.
  std::vector<const Metric*> metric_objects_of(std::size_t output, bool weighted = false) const;
  std::vector<MetricSpec> metric_specs_of(std::size_t output, bool weighted = false) const;
  // Set by a callback to end fit after the current batch (Keras's model.stop_training).
  bool stop_training = false;

  TrainingState training_state() const { return {rng_, next_epoch_}; }
  void set_training_state(const TrainingState& state);

  // Keras's sum(model.losses): the layers' weight penalties and the activity penalties of the last call.
  double regularization_loss() const;

  // Backward pass of the last call with training=true: dL/d(output) for each output in (an empty tensor for
  // one that does not reach the loss), dL/d(input) for each input out (empty for token ids); every layer's
  // param grads are added into, summed over the calls of a shared layer.
  std::vector<Tensor> backward(const std::vector<Tensor>& output_grads);
  Tensor backward(const Tensor& output_grad);
  void zero_grads();

  std::int64_t count_params() const;
  // Every weight, layer by layer in layers() order (a layer shared by several calls counted once).
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights);
  void reset_states();

  SummaryTable summary_table() const;
  // Whether Keras prints this model's summary in the Sequential layout (see SummaryTable::functional).
  bool sequential_like() const;
  std::string summary_text(SummaryStyle style = SummaryStyle::keras2_12) const;
  // Prints model.summary() to `out` (std::cout by default).
  void summary(SummaryStyle style = SummaryStyle::keras2_12) const;
  void summary(std::ostream& out, SummaryStyle style = SummaryStyle::keras2_12) const;

  // Keras's model.to_json() dialect of tf.keras 2.11: {"class_name": "Sequential" | "Functional", ...}.
  nlohmann::json config() const;

 protected:
  // A Sequential: layers are added, and the chain is made when the input shape is known.
  Model(const ModelOptions& options, std::string_view default_base_name);
  std::string where() const;
  // Replaces the graph (Sequential, when it builds).
  void set_graph(std::vector<SymbolicTensor> inputs, std::vector<SymbolicTensor> outputs);
  void clear_graph();
  Rng& rng() { return rng_; }
  // Checks x against the inputs, batch size aside (a Sequential first builds itself for x when it is not
  // built).
  void prepare_inputs(const std::vector<Tensor>& x);
  // A Sequential's graph: its layers chained from an input of this batch shape.
  void build_chain(const Shape& batch_input_shape);

  std::vector<std::shared_ptr<Layer>> layers_;
  // A Sequential's input as declared (an InputLayer, or its first layer's input shape), and the name of an
  // explicit InputLayer.
  std::optional<Shape> declared_input_shape_;
  std::optional<std::string> input_layer_name_;

 private:
  friend class ModelLayer;
  // The forward pass over the graph; see model.cpp. `fused` runs the loss fusions of the plan. Dropout draws
  // from `rng` (the model's generator when null); `input_masks` gives the inputs' masks (none when empty).
  struct Pass;
  std::unique_ptr<Pass> run(const std::vector<Tensor>& x, bool training, bool fused, Rng* rng = nullptr,
                            const std::vector<const Tensor*>& input_masks = {});
  // A model sharing this one's graph and layers (not compiled): what a ModelLayer holds.
  Model shared_copy() const;
  // Backward over the pass from the gradients of the outputs (or of the fused heads' logits).
  std::vector<Tensor> backpropagate(Pass& pass, std::vector<Tensor> output_grads);
  void make_plan();
  void plan_heads();
  void check_arrays(const std::vector<Tensor>& arrays, const std::vector<SymbolicTensor>& expected,
                    std::string_view what) const;
  Logs train_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor* sample_weight);
  Logs test_step(const std::vector<Tensor>& x, const std::vector<Tensor>& y, const Tensor* sample_weight);
  // Adds output k's batch to its metrics and writes their results into `logs`.
  void update_metrics(std::size_t k, const Tensor& y_pred, const Tensor& y_true, const Tensor* mask,
                      const Tensor* sample_weight, Logs& logs);
  void reset_metrics();
  std::optional<std::int64_t> fixed_batch() const;
  void check_fixed_batch(std::int64_t samples, std::int64_t batch_size, std::string_view what) const;
  void check_batch_fits(const std::vector<Tensor>& batch_x, const std::string& batch_where) const;
  std::vector<Param*> trainable_params();
  Logs train_epoch(Dataset& data, const FitOptions& options, int epoch,
                   std::chrono::steady_clock::time_point fit_start, StopReason& stop, ProgressBar& progress);
  // The names of the logs in Keras's order ("loss", "dense_loss", ..., "accuracy").
  std::vector<std::string> log_names() const;

  std::string name_;
  bool sequential_ = false;
  Rng rng_;
  int next_epoch_ = 0;  // see TrainingState::epoch
  std::vector<SymbolicTensor> inputs_, outputs_;
  std::vector<std::shared_ptr<const GraphNode>> nodes_;
  std::vector<Loss> losses_;
  std::vector<double> loss_weights_;
  // A compiled metric: the object with its state, how it was given, the name it logs under.
  struct CompiledMetric {
    std::unique_ptr<Metric> metric;
    MetricSpec spec;
    bool weighted;
    std::string log_name;
  };
  std::vector<std::vector<CompiledMetric>> metrics_;  // per output, the plain then the weighted ones
  std::shared_ptr<Optimizer> optimizer_;
  std::unique_ptr<TrainingPlan> plan_;       // how the graph runs: made with the graph, its heads at compile
  std::unique_ptr<Pass> trained_;            // the last training pass, for backward
  mutable std::shared_ptr<Layer> as_layer_;  // see as_layer()
};

}  // namespace rnnkit
