// The Korean Keras tutorials' first models, in C++: summary, prediction and a direct layer call.
#include <iostream>

#include "rnnkit/rnnkit.h"

int main() {
  // Embedding(100, 3) + Bidirectional(LSTM(32)) + Dense(1, sigmoid): a sentiment classifier.
  rnnkit::Sequential model;
  model.add(rnnkit::Embedding(100, 3, {.input_length = 32}));
  model.add(rnnkit::Bidirectional(rnnkit::LSTM(32)));
  model.add(rnnkit::Dense(1, {.activation = "sigmoid"}));
  model.summary();

  rnnkit::Tensor token_ids({2, 32});  // (B,T): two padded sentences
  for (std::int64_t t = 0; t < 32; ++t) {
    token_ids.at({0, t}) = static_cast<float>(t % 100);
    token_ids.at({1, t}) = static_cast<float>((7 * t) % 100);
  }
  const rnnkit::Tensor probabilities = model.predict(token_ids);  // (B,1)
  std::cout << "P(positive) = " << probabilities[0] << ", " << probabilities[1] << "\n";

  // A layer called directly, as in Keras: output and both states of an LSTM.
  rnnkit::Tensor x({1, 4, 2}, std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f});
  auto [output, state_h, state_c] = rnnkit::LSTM(3, {.return_state = true})(x);
  std::cout << "output " << rnnkit::shape_string(output.shape()) << ", h " << rnnkit::shape_string(state_h.shape())
            << ", c " << rnnkit::shape_string(state_c.shape()) << "\n";
  return 0;
}
