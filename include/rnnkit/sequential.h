// Sequential: a stack of layers, each feeding the next, as keras.Sequential.
#pragma once

#include <chrono>
#include <concepts>
#include <iosfwd>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "rnnkit/callbacks.h"
#include "rnnkit/dataset.h"
#include "rnnkit/layer.h"
#include "rnnkit/losses.h"
#include "rnnkit/optimizers.h"
#include "rnnkit/summary.h"

namespace rnnkit {

class Dense;
class LogitsHead;
class ProgressBar;

struct SequentialOptions {
  std::string name{};      // "sequential", "sequential_1", ... when empty
  std::uint64_t seed = 0;  // for the initial weights of the layers it builds
};

struct CompileOptions {
  std::string loss = "mean_squared_error";
  std::unique_ptr<Optimizer> optimizer{};  // rmsprop, as Keras, when not given
  std::vector<std::string> metrics{};  // "accuracy": binary, sparse or categorical by the shapes, as Keras
  bool from_logits = false;
};

struct FitOptions {
  int epochs = 1;
  std::int64_t batch_size = 32;  // for x and y given as tensors; a Dataset makes its own batches
  int verbose = 1;               // 0 silent, 1 progress bar, 2 one line per epoch
  bool shuffle = true;           // passed to Dataset::start_epoch before each epoch
  // Validation after each epoch, from at most one of these three:
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
};

struct EvaluateOptions {
  std::int64_t batch_size = 32;
  int verbose = 1;
  std::ostream* out = nullptr;
};

class Sequential {
 public:
  explicit Sequential(const SequentialOptions& options = {});
  Sequential(Sequential&&) = default;
  Sequential& operator=(Sequential&&) = default;

  // Appends a copy of `layer`: model.add(rnnkit::LSTM(32)).
  template <std::derived_from<Layer> L>
  void add(const L& layer) {
    add(layer.clone());
  }
  void add(std::unique_ptr<Layer> layer);

  const std::string& name() const { return name_; }
  // The layers, without the InputLayer (as Keras's model.layers).
  std::size_t size() const { return layers_.size(); }
  Layer& layer(std::size_t index);
  const Layer& layer(std::size_t index) const;
  // The layer of this name; the error lists the names there are.
  Layer& layer(std::string_view name);

  bool built() const { return input_shape_.has_value(); }
  // Builds every layer for inputs of this shape, batch first (kNone where free).
  void build(const Shape& batch_input_shape);
  const Shape& input_shape() const;
  Shape output_shape() const;

  // The output for a whole input, run in batches of batch_size (the last may be smaller), as model.predict.
  Tensor predict(const Tensor& x, std::int64_t batch_size = 32);
  // One forward pass over x as a single batch, as model(x).
  Tensor operator()(const Tensor& x, bool training = false);
  // model(x) with the mask Keras attaches to it (_keras_mask): (B,T) for a (B,T,C) output when a layer made
  // one (Embedding(mask_zero=true)) and every later layer passed it on; nullopt otherwise. fit, evaluate and
  // train_on_batch leave masked rows out of the loss and the accuracy, as Keras does.
  std::pair<Tensor, std::optional<Tensor>> call_with_mask(const Tensor& x, bool training = false);

  // Training, as Keras's compile / fit / evaluate / train_on_batch.
  void compile(CompileOptions options);
  // Training, as model.fit. While it runs, Ctrl-C (SIGINT) ends training after the current batch, as a
  // callback setting stop_training would, and the model stays usable; a second Ctrl-C acts as usual.
  History fit(const Tensor& x, const Tensor& y, FitOptions options = {});
  // The same loop over batches a Dataset makes on demand (Keras's fit on a generator or tf.data.Dataset):
  // data.batch_count() steps per epoch, data.start_epoch(rng, options.shuffle) before each.
  History fit(Dataset& data, FitOptions options = {});
  // Loss (and accuracy when compiled with it) over the whole data, as model.evaluate.
  Logs evaluate(const Tensor& x, const Tensor& y, const EvaluateOptions& options = {});
  Logs evaluate(Dataset& data, const EvaluateOptions& options = {});
  // One update on one batch; the batch's logs.
  Logs train_on_batch(const Tensor& x, const Tensor& y, const Tensor* sample_weight = nullptr);
  Optimizer& optimizer();
  const Optimizer& optimizer() const;
  // What compile() set, as save_model records it in a training config: compiled() is false before compile().
  bool compiled() const { return loss_.has_value(); }
  const Loss& loss() const;
  std::vector<std::string> metrics() const;  // {"accuracy"} or {}
  // Set by a callback to end fit after the current batch (Keras's model.stop_training).
  bool stop_training = false;

  // Keras's sum(model.losses): the layers' weight penalties and the activity penalties of the last call.
  // fit, train_on_batch and evaluate add it to the loss they report and train on.
  double regularization_loss() const;

  // Backward pass of the last call with training=true: dL/d(output) in, dL/d(input) out (empty when the
  // first layer takes token ids); every layer's param grads are added into.
  Tensor backward(const Tensor& output_grad);
  void zero_grads();

  std::int64_t count_params() const;
  std::vector<Tensor> get_weights() const;
  void set_weights(const std::vector<Tensor>& weights);
  void reset_states();

  SummaryTable summary_table() const;
  std::string summary_text(SummaryStyle style = SummaryStyle::keras2_12) const;
  // Prints model.summary() to `out` (std::cout by default).
  void summary(SummaryStyle style = SummaryStyle::keras2_12) const;
  void summary(std::ostream& out, SummaryStyle style = SummaryStyle::keras2_12) const;

  // Keras's model.to_json() dialect of tf.keras 2.11: {"class_name": "Sequential", "config": {...}}.
  nlohmann::json config() const;

 private:
  std::string where() const;
  // operator()'s pass through the first `layer_count` layers (all by default); `output_mask`, when given,
  // receives the mask of what it returns.
  Tensor run(const Tensor& x, bool training, std::optional<Tensor>* output_mask = nullptr,
             std::size_t layer_count = std::numeric_limits<std::size_t>::max());
  // Backward through layers_[0, count) from dL/d(the output of layers_[count - 1]); returns dL/d(input).
  Tensor backpropagate(Tensor grad, std::size_t count);
  // train_on_batch; `accuracy_weight` receives the number of rows the accuracy counted (see train_epoch).
  Logs train_step(const Tensor& x, const Tensor& y, const Tensor* sample_weight, double& accuracy_weight);
  // The final Dense or Activation layer with softmax or sigmoid whose logits Keras's cross-entropy reads, or
  // null.
  LogitsHead* logits_head();
  // A model whose batch size is fixed (a stateful RNN's batch_input_shape) takes only batches of that size;
  // a batch size declared without a stateful layer is shown in the summary and binds nothing, as in Keras.
  bool fixed_batch_size() const;
  // check_fixed_batch refuses `samples` rows of x in batches of `batch_size` before any runs, naming the
  // batch that would not fit (`what`: "training ", "validation " or ""); check_batch_fits refuses one batch.
  void check_fixed_batch(const Tensor& x, std::int64_t samples, std::int64_t batch_size,
                         std::string_view what) const;
  void check_batch_fits(const Tensor& batch_x, const std::string& batch_where) const;
  std::vector<Param*> trainable_params();
  // One epoch of fit over `data`; sets `stop` when training must end after it. Leaves `progress` to fit
  // to finalize.
  Logs train_epoch(Dataset& data, const FitOptions& options, int epoch,
                   std::chrono::steady_clock::time_point fit_start, StopReason& stop, ProgressBar& progress);

  std::string name_;
  Rng rng_;
  std::optional<Shape> declared_input_shape_;  // from an InputLayer, or the first layer's
  std::optional<std::string> input_layer_name_;
  std::optional<Shape> input_shape_;  // once built
  std::vector<std::unique_ptr<Layer>> layers_;
  std::optional<Loss> loss_;
  std::shared_ptr<Optimizer> optimizer_;
  bool accuracy_metric_ = false;
};

}  // namespace rnnkit
