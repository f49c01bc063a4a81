// Recurrent: the time scan shared by SimpleRNN, LSTM and GRU; each of those supplies one cell step.
#pragma once

#include "rnnkit/activation.h"
#include "rnnkit/layer.h"

namespace rnnkit {

class OnednnScan;
class LookupScan;
enum class ScanCell : std::uint8_t;

// Which scan a training call ran on. All compute the same maths, to float32 rounding.
enum class TrainingScan : std::uint8_t {
  general,  // rnnkit's own, for every cell and option
  onednn,   // oneDNN's RNN primitives: no mask, no recurrent dropout
  lookup,   // LookupScan: LSTM or GRU (reset_after) after an Embedding with fewer rows than steps, no mask or
            // dropout
};

// The options of keras.layers.SimpleRNN / LSTM / GRU; unit_forget_bias is LSTM's, reset_after GRU's.
struct RecurrentOptions {
  std::string activation = "tanh";
  std::string recurrent_activation = "sigmoid";
  bool use_bias = true;
  bool return_sequences = false;
  bool return_state = false;
  bool go_backwards = false;
  bool stateful = false;  // keeps the last state between calls; needs a known batch size
  bool unroll = false;    // accepted for Keras compatibility; changes no maths
  bool unit_forget_bias = true;
  bool reset_after = true;
  float dropout = 0.0f;  // on the inputs, training only
  float recurrent_dropout = 0.0f;
  nlohmann::json kernel_initializer = "glorot_uniform";
  nlohmann::json recurrent_initializer = "orthogonal";
  nlohmann::json bias_initializer = "zeros";
  std::optional<Regularizer> kernel_regularizer{};  // rnnkit::L2(0.01), ...
  std::optional<Regularizer> recurrent_regularizer{};
  std::optional<Regularizer> bias_regularizer{};
  std::optional<Regularizer> activity_regularizer{};  // on the output (and states, with return_state)
  std::optional<Constraint> kernel_constraint{};      // rnnkit::MaxNorm(3), ...
  std::optional<Constraint> recurrent_constraint{};
  std::optional<Constraint> bias_constraint{};
  std::optional<Shape> input_shape{};
  std::optional<Shape> batch_input_shape{};
  std::optional<std::int64_t> input_dim{};     // F, Keras's input_dim
  std::optional<std::int64_t> input_length{};  // T, Keras's input_length
  std::optional<std::int64_t> batch_size{};
  std::string name{};
};

// What a direct call of a SimpleRNN or GRU returns: the output and, with return_state, the last state.
struct OutputAndState {
  Tensor output;  // (B,U), or (B,T,U) with return_sequences
  Tensor state;   // (B,U)
  operator const Tensor&() const { return output; }
};

class Recurrent : public Layer {
 public:
  std::int64_t units() const { return units_; }
  const RecurrentOptions& options() const { return options_; }
  // Keras's cell name, used in weight paths: "simple_rnn_cell", "lstm_cell", "gru_cell".
  virtual std::string cell_name() const = 0;
  virtual int state_count() const { return 1; }
  std::size_t initial_state_count() const override { return static_cast<std::size_t>(state_count()); }
  std::vector<std::string> weight_names() const override;
  // Inside Bidirectional with return_sequences, Keras outputs zeros at masked steps instead of
  // repeating the previous output.
  void set_zero_output_for_mask(bool zero_output) { zero_output_for_mask_ = zero_output; }
  // A copy under another name, reading the sequence in the given direction (Bidirectional's copies).
  std::unique_ptr<Recurrent> copy_as(std::string name, bool go_backwards) const;
  void reset_states() override;
  bool stateful() const override { return options_.stateful; }
  // Training calls run on the fastest scan that computes them (see TrainingScan); this turns the fast
  // ones off, leaving the general scan (for comparing them).
  void use_fast_scans(bool enabled) { use_fast_scans_ = enabled; }
  // The scan of the last training call, which its backward then uses too.
  TrainingScan trained_scan() const { return trained_.scan; }
  nlohmann::json config() const override;
  // The mask goes on with return_sequences and stops otherwise.
  std::optional<Tensor> compute_mask(const Tensor& x, const Tensor* mask) const override;

 protected:
  // Scratch reused by every step of one call, so the time loop allocates nothing.
  struct StepWorkspace {
    Tensor gates;  // (B, G·U)
    Tensor extra;  // (B, U)
  };

  // One timestep of the batch, as the cell sees it. Rows of `projected` are x_t @ kernel + input bias,
  // (G·U) values each, `projected_stride` apart; `recurrent_input` is h_{t-1}, or h_{t-1} ⊙ the
  // recurrent dropout mask while training.
  struct StepInput {
    const float* projected;
    std::int64_t projected_stride;
    const float* recurrent_input;       // (B,U)
    const std::vector<Tensor>& states;  // (B,U) each: h (and c)
  };

  // What one timestep's backward pass reads and writes.
  struct StepGrads {
    const float* step_values;                          // (B, step_values_width()) kept by step()
    const std::vector<const float*>& previous_states;  // (B,U) each
    const float* recurrent_input;                      // (B,U)
    std::vector<Tensor>& state_grads;  // in: dL/d(next states); out: dL/d(previous states), except
                                       // what flows through recurrent_input
    float* projected_grad;             // (B, G·U): dL/d(projected)
    float* recurrent_grad;             // (B, G·U): dL/d(the recurrent product, per gate); null where
                                       // that is projected_grad (separate_recurrent_grads() false)
    float* recurrent_input_grad;       // (B,U): dL/d(recurrent_input)
  };

  Recurrent(std::string_view class_name, std::string_view snake_name, std::int64_t units,
            const RecurrentOptions& options);

  virtual int gate_count() const = 0;  // G
  // Whether dL/d(the recurrent product) differs from dL/d(projected): true for GRU, whose candidate sees
  // the recurrent product through the reset gate; false for SimpleRNN and LSTM, which add the two.
  virtual bool separate_recurrent_grads() const { return false; }
  virtual Shape bias_shape() const;
  // The part of the bias added to x @ kernel before the scan (all of it, but for GRU reset_after).
  virtual const float* input_bias() const;
  // Values per batch row that step() keeps for step_backward() while training.
  virtual std::int64_t step_values_width() const = 0;
  // One timestep: fills next_states (next_states[0] is the output) and, when not null, step_values.
  virtual void step(const StepInput& input, std::vector<Tensor>& next_states, StepWorkspace& workspace,
                    float* step_values) const = 0;
  virtual void step_backward(const StepGrads& grads, StepWorkspace& workspace) const = 0;
  // After the time loop: dL/d(recurrent_kernel) and the recurrent part of dL/d(bias), from every
  // step's recurrent inputs (T·B, U), kept values and recurrent-product gradients (T·B, G·U). The
  // default is recurrent_inputsᵀ @ recurrent_grads, the form of SimpleRNN and LSTM.
  virtual void accumulate_recurrent_grads(const Tensor& recurrent_inputs, const Tensor& step_values,
                                          const Tensor& recurrent_grads);

  const Tensor& kernel() const { return own_weight(0); }            // (F, G·U)
  const Tensor& recurrent_kernel() const { return own_weight(1); }  // (U, G·U)
  const Tensor* bias() const { return options_.use_bias ? &own_weight(2) : nullptr; }
  Tensor& recurrent_kernel_grad() { return own_grad(1); }
  Tensor* bias_grad() { return options_.use_bias ? &own_grad(2) : nullptr; }
  ActivationFunction activation() const { return activation_; }
  ActivationFunction recurrent_activation() const { return recurrent_activation_; }

  std::vector<Shape> compute_output_shapes(const Shape& input_shape) const override;
  void build_weights(const Shape& input_shape, Rng& rng) override;
  std::vector<Tensor> forward(const Tensor& x, const CallArgs& args) override;
  InputGrads backward_pass(const std::vector<Tensor>& output_grads) override;
  // Starts the bias as Keras does (LSTM: the forget slice at one with unit_forget_bias).
  virtual void initialize_bias(Tensor& bias, Rng& rng) const;

 private:
  std::vector<Tensor> initial_states(const Tensor& x, const CallArgs& args) const;
  // Refuses a training call through an activation the time loop cannot differentiate.
  void check_trainable_activations() const;
  // The oneDNN cell that computes this layer's step, if any does.
  std::optional<ScanCell> onednn_cell() const;
  struct Trained;
  std::vector<Tensor> onednn_forward(const Tensor& inputs, const std::vector<Tensor>& states, ScanCell cell,
                                     Trained trained);
  InputGrads onednn_backward(const std::vector<Tensor>& output_grads);
  // What a fast scan's forward returns, from its sequence in Keras's time order (empty without
  // return_sequences) and last states; keeps `trained` and, when stateful, the states.
  std::vector<Tensor> fast_scan_results(Trained trained, Tensor sequence, std::vector<Tensor> final_states);
  // Whether LookupScan computes this training call.
  bool lookup_scan_applies(const Tensor& x, const CallArgs& args, const Trained& trained) const;
  std::vector<Tensor> lookup_forward(const Tensor& x, const TableLookup& lookup,
                                     const std::vector<Tensor>& states, Trained trained);
  InputGrads lookup_backward(const std::vector<Tensor>& output_grads);
  // dL/d(each final state) from output_grads: the returned states' and, without return_sequences, the
  // output's, which is the last h.
  std::vector<Tensor> final_state_grads(const std::vector<Tensor>& output_grads) const;

  // The fast scans made for the last training call's shape; a copy of the layer makes its own.
  struct ScanCache {
    ScanCache();
    ScanCache(const ScanCache&);
    ScanCache& operator=(const ScanCache&);
    ~ScanCache();
    std::unique_ptr<OnednnScan> onednn;
    std::unique_ptr<LookupScan> lookup;
  };

  std::int64_t units_;  // U
  RecurrentOptions options_;
  ActivationFunction activation_;
  ActivationFunction recurrent_activation_;
  bool zero_output_for_mask_ = false;
  std::vector<Tensor> carried_states_;  // stateful only: (B,U) each
  bool use_fast_scans_ = true;
  ScanCache scans_;

  // What the last training call keeps for backward, laid out by processing step s (row s·B + b).
  struct Trained {
    std::int64_t batch = 0, timesteps = 0;
    Tensor inputs;                        // (T·B, F): x after input dropout
    Tensor input_dropout;                 // (B,F) scales, or empty
    Tensor recurrent_dropout;             // (B,U) scales, or empty
    Tensor recurrent_inputs;              // (T·B, U)
    std::vector<Tensor> previous_states;  // (T·B, U) each
    Tensor step_values;                   // (T·B, step_values_width())
    Tensor mask;                          // (B,T), or empty
    bool had_initial_state = false;
    TrainingScan scan = TrainingScan::general;  // a fast scan keeps the rest itself
  };
  Trained trained_;
};

// "relu" over a (B,U) block etc.: the activation over `count` consecutive values, each run of `units` of
// them one gate's (softmax and the other row-wise activations work over one gate of one sample).
inline void activate(ActivationFunction activation, float* values, std::int64_t count, std::int64_t units) {
  apply_activation(activation, {values, static_cast<std::size_t>(count)}, units);
}

}  // namespace rnnkit
