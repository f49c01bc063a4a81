// The smallest program on an installed rnnkit: a model, its summary and one prediction.
#include <iostream>

#include "rnnkit/rnnkit.h"

int main() {
  rnnkit::Sequential model;
  model.add(rnnkit::Embedding(10, 4, {.input_length = 3}));
  model.add(rnnkit::LSTM(2));
  model.add(rnnkit::Dense(1, {.activation = "sigmoid"}));
  model.summary();
  const rnnkit::Tensor y = model.predict(rnnkit::Tensor({1, 3}, {1, 2, 3}));
  std::cout << "prediction shape " << rnnkit::shape_string(y.shape()) << "\n";
  return y.shape() == rnnkit::Shape{1, 1} ? 0 : 1;
}
