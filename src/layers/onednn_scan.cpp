#include "layers/onednn_scan.h"

#include <algorithm>
#include <type_traits>
#include <unordered_map>

#include "core/parallel.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

int gate_count(ScanCell cell) {
  switch (cell) {
    case ScanCell::simple_tanh:
    case ScanCell::simple_relu:
      return 1;
    case ScanCell::lstm:
      return 4;
    case ScanCell::gru:
    case ScanCell::gru_reset_after:
      return 3;
  }
  return 0;
}

// Linear-before-reset GRU keeps the recurrent bias of the candidate apart: four bias rows for three gates.
int bias_rows(ScanCell cell) {
  return cell == ScanCell::gru_reset_after ? 4 : gate_count(cell);
}

float* values(const memory& array) {
  return static_cast<float*>(array.get_data_handle());
}

std::size_t count(const memory& array) {
  return array.get_desc().get_size() / sizeof(float);
}

// The weights in the layout a primitive chose, from Keras's (ldigo is Keras's (F, G·U) with L = D = 1).
void reorder_into(const float* keras_weights, const memory::desc& plain, memory& target,
                  const dnnl::engine& engine, dnnl::stream& stream) {
  memory source(plain, engine, const_cast<float*>(keras_weights));  // read only: the reorder's source
  dnnl::reorder(source, target).execute(stream, source, target);
}

}  // namespace

struct OnednnScan::Primitives {
  ScanShape shape;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  memory::desc plain_layer_weights, plain_iter_weights;
  dnnl::primitive forward, backward;
  // Forward's arrays; kept for backward.
  memory source, source_state, source_cell, layer_weights, iter_weights, bias, destination, destination_state,
      destination_cell, workspace;
  // Backward's own.
  memory backward_layer_weights, backward_iter_weights, diff_source, diff_source_state, diff_source_cell,
      diff_layer_weights, diff_iter_weights, diff_bias, diff_destination_state, diff_destination_cell;
  memory::desc diff_destination;  // read in place from the caller's gradient: oneDNN only reads it

  bool lstm() const { return shape.cell == ScanCell::lstm; }
  // The forward's arrays, which backward reads too, with the weights in the given layout.
  std::unordered_map<int, memory> forward_arguments(const memory& layer, const memory& iter) const {
    std::unordered_map<int, memory> arguments{{DNNL_ARG_SRC_LAYER, source},
                                              {DNNL_ARG_SRC_ITER, source_state},
                                              {DNNL_ARG_WEIGHTS_LAYER, layer},
                                              {DNNL_ARG_WEIGHTS_ITER, iter},
                                              {DNNL_ARG_BIAS, bias},
                                              {DNNL_ARG_DST_LAYER, destination},
                                              {DNNL_ARG_DST_ITER, destination_state},
                                              {DNNL_ARG_WORKSPACE, workspace}};
    if (lstm()) {
      arguments[DNNL_ARG_SRC_ITER_C] = source_cell;
      arguments[DNNL_ARG_DST_ITER_C] = destination_cell;
    }
    return arguments;
  }
  bool small() const {
    return shape.batch * shape.units * shape.units * gate_count(shape.cell) < kParallelStepWork;
  }
};

OnednnScan::OnednnScan(const ScanShape& shape) : primitives_(std::make_unique<Primitives>()) {
  Primitives& p = *primitives_;
  p.shape = shape;
  const memory::dim T = shape.timesteps, B = shape.batch, F = shape.features, U = shape.units;
  const memory::dim G = gate_count(shape.cell);
  const auto f32 = memory::data_type::f32;
  // ntc: oneDNN's logical (T, N, C) stored batch first, which is Keras's (B, T, C) as it is.
  const memory::desc source_desc({T, B, F}, f32, Tag::ntc), destination_desc({T, B, U}, f32, Tag::ntc);
  const memory::desc state_desc({1, 1, B, U}, f32, Tag::ldnc);
  const memory::desc bias_desc({1, 1, bias_rows(shape.cell), U}, f32, Tag::ldgo);
  p.plain_layer_weights = memory::desc({1, 1, F, G, U}, f32, Tag::ldigo);
  p.plain_iter_weights = memory::desc({1, 1, U, G, U}, f32, Tag::ldigo);
  const memory::desc any_layer({1, 1, F, G, U}, f32, Tag::any), any_iter({1, 1, U, G, U}, f32, Tag::any);
  const memory::desc cell_desc = shape.cell == ScanCell::lstm ? state_desc : memory::desc();
  const auto direction = shape.reverse ? dnnl::rnn_direction::unidirectional_right2left
                                       : dnnl::rnn_direction::unidirectional_left2right;
  const auto training = dnnl::prop_kind::forward_training;
  const auto& weights = p.plain_layer_weights;
  const auto& iter = p.plain_iter_weights;

  // The forward and backward primitive descriptors of each kind of cell, with the layouts they chose.
  memory::desc forward_layer, forward_iter, backward_layer, backward_iter, workspace;
  auto adopt = [&](dnnl::primitive forward, dnnl::primitive backward, const auto& forward_pd,
                   const auto& backward_pd) {
    p.forward = std::move(forward);
    p.backward = std::move(backward);
    forward_layer = forward_pd.weights_layer_desc();
    forward_iter = forward_pd.weights_iter_desc();
    backward_layer = backward_pd.weights_layer_desc();
    backward_iter = backward_pd.weights_iter_desc();
    workspace = forward_pd.workspace_desc();
  };
  // oneDNN's GRU and linear-before-reset GRU take the same descriptors; only their types differ.
  auto make_gru = [&]<typename Forward, typename Backward>(std::type_identity<Forward>,
                                                           std::type_identity<Backward>) {
    typename Forward::primitive_desc forward_pd({training, direction, source_desc, state_desc, any_layer,
                                                 any_iter, bias_desc, destination_desc, state_desc},
                                                p.engine);
    typename Backward::primitive_desc backward_pd(
        {dnnl::prop_kind::backward, direction, source_desc, state_desc, any_layer, any_iter, bias_desc,
         destination_desc, state_desc, source_desc, state_desc, weights, iter, bias_desc, destination_desc,
         state_desc},
        p.engine, forward_pd);
    adopt(Forward(forward_pd), Backward(backward_pd), forward_pd, backward_pd);
  };
  try {
    switch (shape.cell) {
      case ScanCell::simple_tanh:
      case ScanCell::simple_relu: {
        const auto activation = shape.cell == ScanCell::simple_tanh ? dnnl::algorithm::eltwise_tanh
                                                                    : dnnl::algorithm::eltwise_relu;
        dnnl::vanilla_rnn_forward::primitive_desc forward_pd(
            {training, activation, direction, source_desc, state_desc, any_layer, any_iter, bias_desc,
             destination_desc, state_desc},
            p.engine);
        dnnl::vanilla_rnn_backward::primitive_desc backward_pd(
            {dnnl::prop_kind::backward, activation, direction, source_desc, state_desc, any_layer, any_iter,
             bias_desc, destination_desc, state_desc, source_desc, state_desc, weights, iter, bias_desc,
             destination_desc, state_desc},
            p.engine, forward_pd);
        adopt(dnnl::vanilla_rnn_forward(forward_pd), dnnl::vanilla_rnn_backward(backward_pd), forward_pd,
              backward_pd);
        break;
      }
      case ScanCell::lstm: {
        dnnl::lstm_forward::primitive_desc forward_pd(
            {training, direction, source_desc, state_desc, cell_desc, any_layer, any_iter, bias_desc,
             destination_desc, state_desc, cell_desc},
            p.engine);
        dnnl::lstm_backward::primitive_desc backward_pd({dnnl::prop_kind::backward,
                                                         direction,
                                                         source_desc,
                                                         state_desc,
                                                         cell_desc,
                                                         any_layer,
                                                         any_iter,
                                                         bias_desc,
                                                         destination_desc,
                                                         state_desc,
                                                         cell_desc,
                                                         source_desc,
                                                         state_desc,
                                                         cell_desc,
                                                         weights,
                                                         iter,
                                                         bias_desc,
                                                         destination_desc,
                                                         state_desc,
                                                         cell_desc},
                                                        p.engine, forward_pd);
        adopt(dnnl::lstm_forward(forward_pd), dnnl::lstm_backward(backward_pd), forward_pd, backward_pd);
        break;
      }
      case ScanCell::gru:
        make_gru(std::type_identity<dnnl::gru_forward>{}, std::type_identity<dnnl::gru_backward>{});
        break;
      case ScanCell::gru_reset_after:
        make_gru(std::type_identity<dnnl::lbr_gru_forward>{}, std::type_identity<dnnl::lbr_gru_backward>{});
        break;
    }
  } catch (const dnnl::error& error) {
    fail("oneDNN could not make the recurrent scan for batch ", B, ", timesteps ", T, ", features ", F,
         ", units ", U, ": ", error.what(),
         " (use_fast_scans(false) on the layer runs rnnkit's general scan)");
  }
  auto make = [&](const memory::desc& desc) { return memory(desc, p.engine); };
  p.source = make(source_desc);
  p.source_state = make(state_desc);
  p.layer_weights = make(forward_layer);
  p.iter_weights = make(forward_iter);
  p.bias = make(bias_desc);
  p.destination = make(destination_desc);
  p.destination_state = make(state_desc);
  p.workspace = make(workspace);
  p.backward_layer_weights = make(backward_layer);
  p.backward_iter_weights = make(backward_iter);
  p.diff_source = make(source_desc);
  p.diff_source_state = make(state_desc);
  p.diff_layer_weights = make(weights);
  p.diff_iter_weights = make(iter);
  p.diff_bias = make(bias_desc);
  p.diff_destination = destination_desc;
  p.diff_destination_state = make(state_desc);
  if (p.lstm()) {
    p.source_cell = make(state_desc);
    p.destination_cell = make(state_desc);
    p.diff_source_cell = make(state_desc);
    p.diff_destination_cell = make(state_desc);
  }
}

OnednnScan::~OnednnScan() = default;

const ScanShape& OnednnScan::shape() const {
  return primitives_->shape;
}

void OnednnScan::forward(const float* x, const float* kernel, const float* recurrent_kernel,
                         const float* bias, const std::vector<const float*>& initial_states, float* sequence,
                         const std::vector<float*>& final_states) {
  Primitives& p = *primitives_;
  const SingleThreadScope threads(p.small());
  const std::int64_t U = p.shape.units, state_values = p.shape.batch * U;
  std::copy_n(x, count(p.source), values(p.source));
  std::copy_n(initial_states[0], state_values, values(p.source_state));
  if (p.lstm()) std::copy_n(initial_states[1], state_values, values(p.source_cell));
  reorder_into(kernel, p.plain_layer_weights, p.layer_weights, p.engine, p.stream);
  reorder_into(recurrent_kernel, p.plain_iter_weights, p.iter_weights, p.engine, p.stream);
  reorder_into(kernel, p.plain_layer_weights, p.backward_layer_weights, p.engine, p.stream);
  reorder_into(recurrent_kernel, p.plain_iter_weights, p.backward_iter_weights, p.engine, p.stream);
  float* bias_rows = values(p.bias);
  if (!bias) {
    std::fill_n(bias_rows, count(p.bias), 0.0f);
  } else if (p.shape.cell == ScanCell::gru_reset_after) {
    // Keras's (2, 3U): input biases of z, r, h, then recurrent ones. z and r see their sum; the
    // candidate's recurrent bias goes inside the reset product, as oneDNN's fourth row.
    const float* recurrent_bias = bias + 3 * U;
    for (std::int64_t j = 0; j < 2 * U; ++j) bias_rows[j] = bias[j] + recurrent_bias[j];
    std::copy_n(bias + 2 * U, U, bias_rows + 2 * U);
    std::copy_n(recurrent_bias + 2 * U, U, bias_rows + 3 * U);
  } else {
    std::copy_n(bias, count(p.bias), bias_rows);
  }
  const std::unordered_map<int, memory> arguments = p.forward_arguments(p.layer_weights, p.iter_weights);
  p.forward.execute(p.stream, arguments);
  p.stream.wait();
  std::copy_n(values(p.destination), count(p.destination), sequence);
  std::copy_n(values(p.destination_state), state_values, final_states[0]);
  if (p.lstm()) std::copy_n(values(p.destination_cell), state_values, final_states[1]);
}

void OnednnScan::backward(const float* sequence_grad, const std::vector<const float*>& final_state_grads,
                          float* x_grad, const std::vector<float*>& initial_state_grads, float* kernel_grad,
                          float* recurrent_kernel_grad, float* bias_grad) {
  Primitives& p = *primitives_;
  const SingleThreadScope threads(p.small());
  const std::int64_t U = p.shape.units, state_values = p.shape.batch * U;
  std::copy_n(final_state_grads[0], state_values, values(p.diff_destination_state));
  if (p.lstm()) std::copy_n(final_state_grads[1], state_values, values(p.diff_destination_cell));
  // Whether the primitive adds to its weight gradients or overwrites them, they start from zero here.
  for (const memory* array : {&p.diff_layer_weights, &p.diff_iter_weights, &p.diff_bias})
    std::fill_n(values(*array), count(*array), 0.0f);
  std::unordered_map<int, memory> arguments =
      p.forward_arguments(p.backward_layer_weights, p.backward_iter_weights);
  arguments.insert(
      {{DNNL_ARG_DIFF_SRC_LAYER, p.diff_source},
       {DNNL_ARG_DIFF_SRC_ITER, p.diff_source_state},
       {DNNL_ARG_DIFF_WEIGHTS_LAYER, p.diff_layer_weights},
       {DNNL_ARG_DIFF_WEIGHTS_ITER, p.diff_iter_weights},
       {DNNL_ARG_DIFF_BIAS, p.diff_bias},
       {DNNL_ARG_DIFF_DST_LAYER, memory(p.diff_destination, p.engine, const_cast<float*>(sequence_grad))},
       {DNNL_ARG_DIFF_DST_ITER, p.diff_destination_state}});
  if (p.lstm()) {
    arguments[DNNL_ARG_DIFF_SRC_ITER_C] = p.diff_source_cell;
    arguments[DNNL_ARG_DIFF_DST_ITER_C] = p.diff_destination_cell;
  }
  p.backward.execute(p.stream, arguments);
  p.stream.wait();
  std::copy_n(values(p.diff_source), count(p.diff_source), x_grad);
  std::copy_n(values(p.diff_source_state), state_values, initial_state_grads[0]);
  if (p.lstm()) std::copy_n(values(p.diff_source_cell), state_values, initial_state_grads[1]);
  auto add = [](const memory& from, float* to) {
    const float* gradient = values(from);
    const std::size_t size = count(from);
    for (std::size_t i = 0; i < size; ++i) to[i] += gradient[i];
  };
  add(p.diff_layer_weights, kernel_grad);
  add(p.diff_iter_weights, recurrent_kernel_grad);
  if (!bias_grad) return;
  const float* diff_bias = values(p.diff_bias);
  if (p.shape.cell != ScanCell::gru_reset_after) {
    add(p.diff_bias, bias_grad);
    return;
  }
  float* recurrent_bias_grad = bias_grad + 3 * U;  // Keras's row 1
  for (std::int64_t j = 0; j < 2 * U; ++j) {
    bias_grad[j] += diff_bias[j];
    recurrent_bias_grad[j] += diff_bias[j];
  }
  for (std::int64_t j = 0; j < U; ++j) {
    bias_grad[2 * U + j] += diff_bias[2 * U + j];
    recurrent_bias_grad[2 * U + j] += diff_bias[3 * U + j];
  }
}

}  // namespace rnnkit
