#include "layers/lookup_lstm_scan.h"

#include <algorithm>
#include <vector>

#include "core/blas.h"
#include "core/fast_math.h"
#include "core/parallel.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "rnnkit/error.h"
#include "rnnkit/tensor.h"

namespace rnnkit {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// One batch row of Keras's LSTM cell. In: z = x·W + h·U + b as (i, f, c~, o) pre-activations; out: the
// activated gates in place, c' = f ⊙ c + i ⊙ c~ and h' = o ⊙ tanh(c'), which also goes to `output` when
// that is not null.
RNNKIT_VECTOR_CLONES void cell_forward(float* __restrict gates, const float* __restrict c,
                                       float* __restrict next_c, float* __restrict next_h,
                                       float* __restrict output, std::int64_t units) {
  float* __restrict i = gates;
  float* __restrict f = gates + units;
  float* __restrict g = gates + 2 * units;
  float* __restrict o = gates + 3 * units;
  for (std::int64_t u = 0; u < units; ++u) {
    i[u] = fast::sigmoid(i[u]);
    f[u] = fast::sigmoid(f[u]);
    g[u] = fast::tanh(g[u]);
    o[u] = fast::sigmoid(o[u]);
    next_c[u] = f[u] * c[u] + i[u] * g[u];
    next_h[u] = o[u] * fast::tanh(next_c[u]);
  }
  if (output) std::copy_n(next_h, units, output);
}

// The same row backwards, as LSTM::step_backward: with dh = dL/dh' (from the next step and, when not null,
// the sequence) and tc = tanh(c'): do = dh ⊙ tc; dc = dc' + dh ⊙ o ⊙ (1 - tc²); di = dc ⊙ c~; df = dc ⊙ c;
// dc~ = dc ⊙ i, each through its activation's derivative; dc_prev = dc ⊙ f, written over dc'.
RNNKIT_VECTOR_CLONES void cell_backward(const float* __restrict gates, const float* __restrict c,
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

}  // namespace

struct LookupLstmScan::Buffers {
  LookupScanShape shape;
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  PackedProduct recurrent;           // (B,U) · (U,4U), added to the gates
  PackedProduct recurrent_backward;  // (B,4U) · (4U,U): dL/dh_prev from the gate gradients
  std::vector<std::int32_t> ids;     // (B,T) of the last forward
  Floats table;                      // (V,F) of the last forward
  Floats projected_table;            // (V,4U): table · kernel + bias
  Floats gates;                      // (T·B, 4U): activated i, f, c~, o of step s in rows s·B + b
  Floats cells, hidden;              // ((T+1)·B, U): c and h before step 0, then after each step
  Floats gate_grads;                 // (T·B, 4U)
  Floats gate_grads_by_id;           // (V, 4U): D
  Floats h_grad, c_grad;             // (B,U)

  explicit Buffers(const LookupScanShape& scan_shape)
      : shape(scan_shape),
        recurrent(engine, shape.batch, shape.units, 4 * shape.units, true, false),
        recurrent_backward(engine, shape.batch, 4 * shape.units, shape.units, false, true) {}
  // As OnednnScan: a small step is quicker on the calling thread alone.
  bool small() const { return shape.batch * shape.units * 4 * shape.units < kParallelStepWork; }
};

LookupLstmScan::LookupLstmScan(const LookupScanShape& shape) {
  const std::int64_t B = shape.batch, T = shape.timesteps, V = shape.rows, F = shape.features,
                     U = shape.units;
  try {
    buffers_ = std::make_unique<Buffers>(shape);
  } catch (const dnnl::error& error) {
    fail("oneDNN could not make the LSTM's recurrent product for batch ", B, " and units ", U, ": ",
         error.what(), " (use_fast_scans(false) on the layer runs rnnkit's general scan)");
  }
  Buffers& buffers = *buffers_;
  buffers.ids.resize(static_cast<std::size_t>(B * T));
  buffers.table.resize(static_cast<std::size_t>(V * F));
  buffers.projected_table.resize(static_cast<std::size_t>(V * 4 * U));
  buffers.gates.resize(static_cast<std::size_t>(T * B * 4 * U));
  buffers.cells.resize(static_cast<std::size_t>((T + 1) * B * U));
  buffers.hidden.resize(static_cast<std::size_t>((T + 1) * B * U));
  buffers.gate_grads.resize(static_cast<std::size_t>(T * B * 4 * U));
  buffers.gate_grads_by_id.resize(static_cast<std::size_t>(V * 4 * U));
  buffers.h_grad.resize(static_cast<std::size_t>(B * U));
  buffers.c_grad.resize(static_cast<std::size_t>(B * U));
}

LookupLstmScan::~LookupLstmScan() = default;

const LookupScanShape& LookupLstmScan::shape() const {
  return buffers_->shape;
}

void LookupLstmScan::forward(const std::int32_t* ids, const float* table, const float* kernel,
                             const float* recurrent_kernel, const float* bias, const float* initial_h,
                             const float* initial_c, float* sequence, float* final_h, float* final_c) {
  Buffers& p = *buffers_;
  const std::int64_t B = p.shape.batch, T = p.shape.timesteps, V = p.shape.rows, F = p.shape.features,
                     U = p.shape.units, G = 4 * U;
  const SingleThreadScope threads(p.small());
  std::copy_n(ids, B * T, p.ids.data());
  std::copy_n(table, V * F, p.table.data());
  float* projected = p.projected_table.data();
  for (std::int64_t row = 0; row < V; ++row) {
    if (bias)
      std::copy_n(bias, G, projected + row * G);
    else
      std::fill_n(projected + row * G, G, 0.0f);
  }
  gemm(false, false, V, G, F, 1.0f, table, F, kernel, G, 1.0f, projected, G);
  p.recurrent.pack(recurrent_kernel, p.stream);
  std::copy_n(initial_h, B * U, p.hidden.data());
  std::copy_n(initial_c, B * U, p.cells.data());
  for (std::int64_t t = 0; t < T; ++t) {
    float* gates = p.gates.data() + t * B * G;
    for (std::int64_t b = 0; b < B; ++b) std::copy_n(projected + ids[b * T + t] * G, G, gates + b * G);
    const float* h = p.hidden.data() + t * B * U;
    p.recurrent.run(h, gates, p.stream);
    const float* c = p.cells.data() + t * B * U;
    float* next_c = p.cells.data() + (t + 1) * B * U;
    float* next_h = p.hidden.data() + (t + 1) * B * U;
    for (std::int64_t b = 0; b < B; ++b)
      cell_forward(gates + b * G, c + b * U, next_c + b * U, next_h + b * U,
                   sequence ? sequence + (b * T + t) * U : nullptr, U);
  }
  std::copy_n(p.hidden.data() + T * B * U, B * U, final_h);
  std::copy_n(p.cells.data() + T * B * U, B * U, final_c);
}

void LookupLstmScan::backward(const float* sequence_grad, const float* final_h_grad,
                              const float* final_c_grad, const float* kernel, const float* recurrent_kernel,
                              float* table_grad, float* initial_h_grad, float* initial_c_grad,
                              float* kernel_grad, float* recurrent_kernel_grad, float* bias_grad) {
  Buffers& p = *buffers_;
  const std::int64_t B = p.shape.batch, T = p.shape.timesteps, V = p.shape.rows, F = p.shape.features,
                     U = p.shape.units, G = 4 * U;
  const SingleThreadScope threads(p.small());
  p.recurrent_backward.pack(recurrent_kernel, p.stream);
  std::copy_n(final_h_grad, B * U, p.h_grad.data());
  std::copy_n(final_c_grad, B * U, p.c_grad.data());
  for (std::int64_t t = T - 1; t >= 0; --t) {
    const float* gates = p.gates.data() + t * B * G;
    const float* c = p.cells.data() + t * B * U;
    const float* next_c = p.cells.data() + (t + 1) * B * U;
    float* gate_grads = p.gate_grads.data() + t * B * G;
    for (std::int64_t b = 0; b < B; ++b)
      cell_backward(gates + b * G, c + b * U, next_c + b * U, p.h_grad.data() + b * U,
                    sequence_grad ? sequence_grad + (b * T + t) * U : nullptr, p.c_grad.data() + b * U,
                    gate_grads + b * G, U);
    p.recurrent_backward.run(gate_grads, p.h_grad.data(), p.stream);  // h reaches the gates only through U
  }
  std::copy_n(p.h_grad.data(), B * U, initial_h_grad);
  std::copy_n(p.c_grad.data(), B * U, initial_c_grad);

  // dL/dU = Σ_t h_{t-1}ᵀ · dz_t, as one product over every step.
  gemm(true, false, U, G, T * B, 1.0f, p.hidden.data(), U, p.gate_grads.data(), G, 1.0f,
       recurrent_kernel_grad, G);
  float* by_id = p.gate_grads_by_id.data();
  std::fill_n(by_id, V * G, 0.0f);
  for (std::int64_t t = 0; t < T; ++t)
    for (std::int64_t b = 0; b < B; ++b) {
      const float* row = p.gate_grads.data() + (t * B + b) * G;
      float* sum = by_id + p.ids[b * T + t] * G;
      for (std::int64_t j = 0; j < G; ++j) sum[j] += row[j];
    }
  if (bias_grad)
    for (std::int64_t row = 0; row < V; ++row)
      for (std::int64_t j = 0; j < G; ++j) bias_grad[j] += by_id[row * G + j];
  gemm(true, false, F, G, V, 1.0f, p.table.data(), F, by_id, G, 1.0f, kernel_grad, G);
  gemm(false, true, V, F, G, 1.0f, by_id, G, kernel, G, 0.0f, table_grad, F);
}

}  // namespace rnnkit
