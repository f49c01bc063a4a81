#include "layers/lookup_scan.h"

#include <algorithm>
#include <vector>

#include "core/blas.h"
#include "core/fast_math.h"
#include "core/parallel.h"
#include "core/rows.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "rnnkit/error.h"
#include "rnnkit/tensor.h"

namespace rnnkit {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// One batch row of Keras's LSTM cell. In: `input` = x·W + b (the projected table's row of the step's id)
// and `gates` = h·U, as (i, f, c~, o); out: the gates activated from their sum in place, c' = f ⊙ c + i ⊙ c~
// and h' = o ⊙ tanh(c'), which also goes to `output` when that is not null.
RNNKIT_VECTOR_CLONES void lstm_cell_forward(const float* __restrict input, float* __restrict gates,
                                            const float* __restrict c, float* __restrict next_c,
                                            float* __restrict next_h, float* __restrict output,
                                            std::int64_t units) {
  float* __restrict i = gates;
  float* __restrict f = gates + units;
  float* __restrict g = gates + 2 * units;
  float* __restrict o = gates + 3 * units;
  for (std::int64_t u = 0; u < units; ++u) {
    i[u] = fast::sigmoid(input[u] + i[u]);
    f[u] = fast::sigmoid(input[units + u] + f[u]);
    g[u] = fast::tanh(input[2 * units + u] + g[u]);
    o[u] = fast::sigmoid(input[3 * units + u] + o[u]);
    next_c[u] = f[u] * c[u] + i[u] * g[u];
    next_h[u] = o[u] * fast::tanh(next_c[u]);
  }
  if (output) std::copy_n(next_h, units, output);
}

// The same row backwards, as LSTM::step_backward: with dh = dL/dh' (from the next step and, when not null,
// the sequence) and tc = tanh(c'): do = dh ⊙ tc; dc = dc' + dh ⊙ o ⊙ (1 - tc²); di = dc ⊙ c~; df = dc ⊙ c;
// dc~ = dc ⊙ i, each through its activation's derivative; dc_prev = dc ⊙ f, written over dc'.
RNNKIT_VECTOR_CLONES void lstm_cell_backward(const float* __restrict gates, const float* __restrict c,
                                             const float* __restrict next_c, const float* __restrict h_grad,
                                             const float* __restrict sequence_grad, float* __restrict c_grad,
                                             float* __restrict gate_grads, std::int64_t units) {
  const float* __restrict i = gates;
  const float* __restrict f = gates + units;
  const float* __restrict g = gates + 2 * units;
  const float* __restrict o = gates + 3 * units;
  float* __restrict di = gate_grads;
  float* __restrict df = gate_grads + units;
  float* __restrict dg = gate_grads + 2 * units;
  float* __restrict d_o = gate_grads + 3 * units;
  for (std::int64_t u = 0; u < units; ++u) {
    const float dh = sequence_grad ? h_grad[u] + sequence_grad[u] : h_grad[u];
    const float tc = fast::tanh(next_c[u]);
    d_o[u] = dh * tc * (o[u] * (1.0f - o[u]));
    const float dc = c_grad[u] + dh * o[u] * (1.0f - tc * tc);
    di[u] = dc * g[u] * (i[u] * (1.0f - i[u]));
    df[u] = dc * c[u] * (f[u] * (1.0f - f[u]));
    dg[u] = dc * i[u] * (1.0f - g[u] * g[u]);
    c_grad[u] = dc * f[u];
  }
}

// One batch row of Keras's GRU cell with reset_after. In: `input` = x·W + b_input (the projected table's
// row of the step's id) as (z, r, h~) pre-activations and `recurrent` h·U + b_recurrent; out: z, r and h~
// activated in `gates`, the candidate's recurrent input h·U_h + b_rh kept in `kept`, and
// h' = z ⊙ h + (1 - z) ⊙ h~, which also goes to `output` when that is not null.
RNNKIT_VECTOR_CLONES void gru_cell_forward(const float* __restrict input, float* __restrict gates,
                                           const float* __restrict recurrent, const float* __restrict h,
                                           float* __restrict kept, float* __restrict next_h,
                                           float* __restrict output, std::int64_t units) {
  float* __restrict z = gates;
  float* __restrict r = gates + units;
  float* __restrict candidate = gates + 2 * units;
  const float* __restrict recurrent_z = recurrent;
  const float* __restrict recurrent_r = recurrent + units;
  const float* __restrict recurrent_h = recurrent + 2 * units;
  for (std::int64_t u = 0; u < units; ++u) {
    z[u] = fast::sigmoid(recurrent_z[u] + input[u]);
    r[u] = fast::sigmoid(recurrent_r[u] + input[units + u]);
    candidate[u] = fast::tanh(input[2 * units + u] + r[u] * recurrent_h[u]);
    kept[u] = recurrent_h[u];
    next_h[u] = z[u] * h[u] + (1.0f - z[u]) * candidate[u];
  }
  if (output) std::copy_n(next_h, units, output);
}

// The same row backwards, as GRU::step_backward: with dh = dL/dh' (from the next step and, when not null,
// the sequence): dz = dh ⊙ (h - h~); dh~ = dh ⊙ (1 - z); dr = dh~ ⊙ (h·U_h + b_rh), each through its
// activation's derivative. The input side gets (dz, dr, dh~), the recurrent product (dz, dr, dh~ ⊙ r), and
// h_grad becomes the direct part dh ⊙ z, to which the recurrent product's gradient through U is added.
RNNKIT_VECTOR_CLONES void gru_cell_backward(const float* __restrict gates, const float* __restrict kept,
                                            const float* __restrict h, float* __restrict h_grad,
                                            const float* __restrict sequence_grad,
                                            float* __restrict input_grads, float* __restrict recurrent_grads,
                                            std::int64_t units) {
  const float* __restrict z = gates;
  const float* __restrict r = gates + units;
  const float* __restrict candidate = gates + 2 * units;
  for (std::int64_t u = 0; u < units; ++u) {
    const float dh = sequence_grad ? h_grad[u] + sequence_grad[u] : h_grad[u];
    const float dz = dh * (h[u] - candidate[u]) * (z[u] * (1.0f - z[u]));
    const float d_candidate = dh * (1.0f - z[u]) * (1.0f - candidate[u] * candidate[u]);
    const float dr = d_candidate * kept[u] * (r[u] * (1.0f - r[u]));
    input_grads[u] = dz;
    input_grads[units + u] = dr;
    input_grads[2 * units + u] = d_candidate;
    recurrent_grads[u] = dz;
    recurrent_grads[units + u] = dr;
    recurrent_grads[2 * units + u] = d_candidate * r[u];
    h_grad[u] = dh * z[u];
  }
}

// A step's cells, one batch row each, are independent. They split across the threads the scan runs on:
// one where the step is small (see Buffers::small), so the step's size alone decides.
template <typename Cell>
void for_rows(std::int64_t rows, const Cell& cell) {
  parallel_for(rows, kParallelWork, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t row = begin; row < end; ++row) cell(row);
  });
}

// C (m,n) = A (m,k) · W (k,n), plus C itself with `accumulate`, by oneDNN's matmul on W packed once per
// pack() into the layout the primitive chose; A and C are given per run.
class PackedProduct {
 public:
  PackedProduct(const dnnl::engine& engine, memory::dim m, memory::dim k, memory::dim n, bool accumulate,
                bool transposed_weights)
      : plain_weights_({k, n}, memory::data_type::f32, transposed_weights ? Tag::ba : Tag::ab) {
    const auto f32 = memory::data_type::f32;
    const memory::desc a_desc({m, k}, f32, Tag::ab), c_desc({m, n}, f32, Tag::ab);
    dnnl::primitive_attr attributes;
    if (accumulate) {
      dnnl::post_ops sum;
      sum.append_sum(1.0f);
      attributes.set_post_ops(sum);
    }
    const dnnl::matmul::primitive_desc descriptor(
        dnnl::matmul::desc(a_desc, memory::desc({k, n}, f32, Tag::any), c_desc), attributes, engine);
    product_ = dnnl::matmul(descriptor);
    a_ = memory(a_desc, engine, DNNL_MEMORY_NONE);
    c_ = memory(c_desc, engine, DNNL_MEMORY_NONE);
    weights_ = memory(descriptor.weights_desc(), engine);
  }

  // W from a row-major (k,n) array, or with transposed_weights a row-major (n,k) one.
  void pack(const float* weights, dnnl::stream& stream) {
    memory source(plain_weights_, weights_.get_engine(), const_cast<float*>(weights));  // read only
    dnnl::reorder(source, weights_).execute(stream, source, weights_);
  }

  void run(const float* a, float* c, dnnl::stream& stream) {
    a_.set_data_handle(const_cast<float*>(a));  // read only: the product's source
    c_.set_data_handle(c);
    product_.execute(stream, {{DNNL_ARG_SRC, a_}, {DNNL_ARG_WEIGHTS, weights_}, {DNNL_ARG_DST, c_}});
  }

 private:
  memory::desc plain_weights_;
  dnnl::matmul product_;
  memory a_, c_, weights_;
};

using Floats = std::vector<float, FloatAllocator>;

int gate_count(ScanCell cell) {
  return cell == ScanCell::lstm ? 4 : 3;
}

}  // namespace

struct LookupScan::Buffers {
  LookupScanShape shape;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  PackedProduct recurrent;           // (B,U) · (U,G·U): LSTM's gates; added to GRU's recurrent bias rows
  PackedProduct recurrent_backward;  // (B,G·U) · (G·U,U): dL/dh_prev from the recurrent product's gradient
  std::vector<std::int32_t> ids;     // (B,T) of the last forward
  Floats table;                      // (V,F) of the last forward
  Floats projected_table;            // (V,G·U): table · kernel + input bias
  Floats gates;                      // (T·B, G·U): the activated gates of step t in rows t·B + b
  Floats hidden;                     // ((T+1)·B, U): h before step 0, then after each step
  Floats cells;                      // LSTM: ((T+1)·B, U), c as h
  Floats recurrent_step;             // GRU: (B, 3U): h·U + b_recurrent of the current step
  Floats kept;                       // GRU: (T·B, U): h·U_h + b_rh of every step
  Floats gate_grads;                 // (T·B, G·U): dL/d(the input side's gates)
  Floats recurrent_grads;            // GRU: (T·B, 3U): dL/d(h·U + b_recurrent); LSTM: gate_grads
  Floats gate_grads_by_id;           // (V, G·U): D
  Floats h_grad, c_grad;             // (B,U)

  explicit Buffers(const LookupScanShape& scan_shape)
      : shape(scan_shape),
        recurrent(engine, shape.batch, shape.units, gate_count(shape.cell) * shape.units,
                  shape.cell == ScanCell::gru_reset_after, false),
        // LSTM's h reaches the gates only through U; GRU's also directly, which its cell writes first.
        recurrent_backward(engine, shape.batch, gate_count(shape.cell) * shape.units, shape.units,
                           shape.cell == ScanCell::gru_reset_after, true) {}
  // As OnednnScan: a small step is quicker on the calling thread alone.
  bool small() const {
    return shape.batch * shape.units * gate_count(shape.cell) * shape.units < kParallelStepWork;
  }
  bool lstm() const { return shape.cell == ScanCell::lstm; }
};

LookupScan::LookupScan(const LookupScanShape& shape) {
  check(shape.cell == ScanCell::lstm || shape.cell == ScanCell::gru_reset_after,
        "LookupScan computes LSTM and GRU with reset_after only");
  const std::int64_t B = shape.batch, T = shape.timesteps, V = shape.rows, F = shape.features,
                     U = shape.units, G = gate_count(shape.cell) * U;
  try {
    buffers_ = std::make_unique<Buffers>(shape);
  } catch (const dnnl::error& error) {
    fail("oneDNN could not make the recurrent product for batch ", B, " and units ", U, ": ", error.what(),
         " (use_fast_scans(false) on the layer runs rnnkit's general scan)");
  }
  Buffers& p = *buffers_;
  auto size = [](std::int64_t count) { return static_cast<std::size_t>(count); };
  p.ids.resize(size(B * T));
  p.table.resize(size(V * F));
  p.projected_table.resize(size(V * G));
  p.gates.resize(size(T * B * G));
  p.hidden.resize(size((T + 1) * B * U));
  p.gate_grads.resize(size(T * B * G));
  p.gate_grads_by_id.resize(size(V * G));
  p.h_grad.resize(size(B * U));
  if (p.lstm()) {
    p.cells.resize(size((T + 1) * B * U));
    p.c_grad.resize(size(B * U));
  } else {
    p.recurrent_step.resize(size(B * G));
    p.kept.resize(size(T * B * U));
    p.recurrent_grads.resize(size(T * B * G));
  }
}

LookupScan::~LookupScan() = default;

const LookupScanShape& LookupScan::shape() const {
  return buffers_->shape;
}

void LookupScan::forward(const std::int32_t* ids, const float* table, const float* kernel,
                         const float* recurrent_kernel, const float* bias,
                         const std::vector<const float*>& initial_states, float* sequence,
                         const std::vector<float*>& final_states) {
  Buffers& p = *buffers_;
  const std::int64_t B = p.shape.batch, T = p.shape.timesteps, V = p.shape.rows, F = p.shape.features,
                     U = p.shape.units, G = gate_count(p.shape.cell) * U;
  const SingleThreadScope threads(p.small());
  std::copy_n(ids, B * T, p.ids.data());
  std::copy_n(table, V * F, p.table.data());
  // GRU's bias (2,3U) is the input bias, then the recurrent one.
  const float* recurrent_bias = bias && !p.lstm() ? bias + G : nullptr;
  float* projected = p.projected_table.data();
  fill_rows(projected, V, G, bias);
  gemm(false, false, V, G, F, 1.0f, table, F, kernel, G, 1.0f, projected, G);
  p.recurrent.pack(recurrent_kernel, p.stream);
  std::copy_n(initial_states[0], B * U, p.hidden.data());
  if (p.lstm()) std::copy_n(initial_states[1], B * U, p.cells.data());
  for (std::int64_t t = 0; t < T; ++t) {
    float* gates = p.gates.data() + t * B * G;
    auto input = [&](std::int64_t b) { return projected + ids[b * T + t] * G; };
    const float* h = p.hidden.data() + t * B * U;
    float* next_h = p.hidden.data() + (t + 1) * B * U;
    auto output = [&](std::int64_t b) { return sequence ? sequence + (b * T + t) * U : nullptr; };
    if (p.lstm()) {
      p.recurrent.run(h, gates, p.stream);
      const float* c = p.cells.data() + t * B * U;
      float* next_c = p.cells.data() + (t + 1) * B * U;
      for_rows(B, [&](std::int64_t b) {
        lstm_cell_forward(input(b), gates + b * G, c + b * U, next_c + b * U, next_h + b * U, output(b), U);
      });
      continue;
    }
    float* recurrent = p.recurrent_step.data();
    fill_rows(recurrent, B, G, recurrent_bias);  // the product below adds to it
    p.recurrent.run(h, recurrent, p.stream);
    float* kept = p.kept.data() + t * B * U;
    for_rows(B, [&](std::int64_t b) {
      gru_cell_forward(input(b), gates + b * G, recurrent + b * G, h + b * U, kept + b * U, next_h + b * U,
                       output(b), U);
    });
  }
  std::copy_n(p.hidden.data() + T * B * U, B * U, final_states[0]);
  if (p.lstm()) std::copy_n(p.cells.data() + T * B * U, B * U, final_states[1]);
}

void LookupScan::backward(const float* sequence_grad, const std::vector<const float*>& final_state_grads,
                          const float* kernel, const float* recurrent_kernel, float* table_grad,
                          const std::vector<float*>& initial_state_grads, float* kernel_grad,
                          float* recurrent_kernel_grad, float* bias_grad) {
  Buffers& p = *buffers_;
  const std::int64_t B = p.shape.batch, T = p.shape.timesteps, V = p.shape.rows, F = p.shape.features,
                     U = p.shape.units, G = gate_count(p.shape.cell) * U;
  const SingleThreadScope threads(p.small());
  p.recurrent_backward.pack(recurrent_kernel, p.stream);
  std::copy_n(final_state_grads[0], B * U, p.h_grad.data());
  if (p.lstm()) std::copy_n(final_state_grads[1], B * U, p.c_grad.data());
  // LSTM adds h·U to the gates as they are: the recurrent product's gradient is the gates'.
  const float* recurrent_grads = p.lstm() ? p.gate_grads.data() : p.recurrent_grads.data();
  for (std::int64_t t = T - 1; t >= 0; --t) {
    const float* gates = p.gates.data() + t * B * G;
    float* gate_grads = p.gate_grads.data() + t * B * G;
    float* h_grad = p.h_grad.data();
    auto from_sequence = [&](std::int64_t b) {
      return sequence_grad ? sequence_grad + (b * T + t) * U : nullptr;
    };
    if (p.lstm()) {
      const float* c = p.cells.data() + t * B * U;
      const float* next_c = p.cells.data() + (t + 1) * B * U;
      for_rows(B, [&](std::int64_t b) {
        lstm_cell_backward(gates + b * G, c + b * U, next_c + b * U, h_grad + b * U, from_sequence(b),
                           p.c_grad.data() + b * U, gate_grads + b * G, U);
      });
    } else {
      const float* kept = p.kept.data() + t * B * U;
      const float* h = p.hidden.data() + t * B * U;
      float* step_recurrent_grads = p.recurrent_grads.data() + t * B * G;
      for_rows(B, [&](std::int64_t b) {
        gru_cell_backward(gates + b * G, kept + b * U, h + b * U, h_grad + b * U, from_sequence(b),
                          gate_grads + b * G, step_recurrent_grads + b * G, U);
      });
    }
    p.recurrent_backward.run(recurrent_grads + t * B * G, h_grad, p.stream);
  }
  std::copy_n(p.h_grad.data(), B * U, initial_state_grads[0]);
  if (p.lstm()) std::copy_n(p.c_grad.data(), B * U, initial_state_grads[1]);

  // dL/dU = Σ_t h_{t-1}ᵀ · d(recurrent product)_t, as one product over every step.
  gemm(true, false, U, G, T * B, 1.0f, p.hidden.data(), U, recurrent_grads, G, 1.0f, recurrent_kernel_grad,
       G);
  if (bias_grad && !p.lstm()) add_column_sums(recurrent_grads, T * B, G, bias_grad + G);
  float* by_id = p.gate_grads_by_id.data();
  std::fill_n(by_id, V * G, 0.0f);
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t b = 0; b < B; ++b) {
      const float* row = p.gate_grads.data() + (t * B + b) * G;
      float* sum = by_id + p.ids[b * T + t] * G;
      for (std::int64_t j = 0; j < G; ++j) sum[j] += row[j];
    }
  if (bias_grad) add_column_sums(by_id, V, G, bias_grad);
  gemm(true, false, F, G, V, 1.0f, p.table.data(), F, by_id, G, 1.0f, kernel_grad, G);
  gemm(false, true, V, F, G, 1.0f, by_id, G, kernel, G, 0.0f, table_grad, F);
}

}  // namespace rnnkit
