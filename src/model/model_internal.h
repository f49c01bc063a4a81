// How a Model's graph runs: the plan made with the graph (and completed at compile) and one forward pass.
#pragma once

#include <cstddef>
#include <optional>
#include <unordered_map>
#include <vector>

#include "rnnkit/model.h"

namespace rnnkit {

// The graph's wiring as positions in Model::nodes(), and the two fusions: an Embedding whose table a
// recurrent layer reads directly while training, and a softmax/sigmoid head whose logits a cross-entropy
// reads. Layers, weights, files and summaries keep the user's graph; only the way it runs changes.
struct TrainingPlan {
  std::unordered_map<const GraphNode*, std::size_t> position;  // node -> its place in nodes()
  std::vector<std::size_t> input_slot;                         // per input node: its place in inputs()
  std::vector<int> reader_count;  // per node: reads of its outputs by other nodes and by outputs()
  // Per node: the Embedding node whose table this recurrent node reads while training (its only reader).
  std::vector<std::optional<std::size_t>> table_source;
  // Per node: whether its layer is called again later in the graph (a shared layer): its training cache is
  // then that of the later call, and backward re-runs this call first, with the same random draws.
  std::vector<bool> recompute;
  // A head whose logits output `output` of the model are: the loss reads the logits.
  struct Head {
    LogitsHead* head = nullptr;
    std::size_t output = 0;
    bool to_logits = false;     // training stops at the logits (no activity penalty reads the outputs)
    bool need_outputs = false;  // a metric (or an activity penalty) needs the probabilities too
  };
  std::vector<std::optional<Head>> head;  // per node, set at compile

  std::size_t at(const SymbolicTensor& tensor) const { return position.at(&tensor.node()); }
};

// The values of one forward pass: each node's outputs and the mask of its first output.
struct Model::Pass {
  bool training = false;
  bool fused = false;
  std::vector<std::vector<Tensor>> values;  // per node; empty where dropped or where a head stopped at logits
  std::vector<std::optional<Tensor>> masks;    // per node: the mask of its first output
  std::vector<Tensor> logits;                  // per node: a fused head's logits outside training
  std::vector<std::optional<Rng>> rng_before;  // per node to recompute: the generator before its call

  const Tensor& value(const TrainingPlan& plan, const SymbolicTensor& tensor) const;
  const Tensor* mask(const TrainingPlan& plan, const SymbolicTensor& tensor) const;
  // The arguments of a node's call besides its first input: its mask, initial states and the rest of a list.
  CallArgs call_args(const TrainingPlan& plan, const GraphNode& node, bool training_call, Rng* rng) const;
};

}  // namespace rnnkit
