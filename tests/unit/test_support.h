// Helpers shared by the tests: reading fixture tensors and comparing within a float32 tolerance.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <stdlib.h>

#include "rnnkit/error.h"
#include "rnnkit/model.h"
#include "rnnkit/rng.h"
#include "rnnkit/tensor.h"

namespace rnnkit::testing {

// A tensor of values drawn uniformly from [-scale, scale).
inline Tensor random_tensor(const Shape& shape, Rng& rng, double scale) {
  Tensor tensor(shape);
  for (float& value : tensor.values()) value = static_cast<float>(rng.uniform(-scale, scale));
  return tensor;
}

// Two scans of the same maths agree to float32 rounding of sums taken in another order: within 2e-5 of
// the expected tensor's largest value (or of 1e-3, if that is larger).
inline void expect_close(const std::string& what, const Tensor& expected, const Tensor& actual) {
  ASSERT_EQ(expected.shape(), actual.shape()) << what;
  float largest = 1e-3f;
  for (float value : expected.values()) largest = std::max(largest, std::abs(value));
  for (std::int64_t i = 0; i < expected.size(); ++i)
    ASSERT_NEAR(expected[i], actual[i], 2e-5f * largest) << what << " element " << i;
}

// A fresh folder under the system's temporary folder, removed with everything in it at the end.
class TempFolder {
 public:
  TempFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rnnkit_test_XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Expects `callable` to throw rnnkit::Error whose what() contains every one of `parts`; reports at the
// caller.
template <class Callable>
void expect_error(Callable&& callable, std::initializer_list<std::string_view> parts,
                  std::source_location where = std::source_location::current()) {
  try {
    static_cast<void>(callable());
  } catch (const Error& error) {
    const std::string message = error.what();
    for (std::string_view part : parts)
      if (message.find(part) == std::string::npos)
        ADD_FAILURE_AT(where.file_name(), int(where.line()))
            << "the message does not mention \"" << part << "\":\n  " << message;
    return;
  } catch (const std::exception& other) {
    ADD_FAILURE_AT(where.file_name(), int(where.line()))
        << "threw something else than rnnkit::Error: " << other.what();
    return;
  }
  ADD_FAILURE_AT(where.file_name(), int(where.line())) << "did not throw";
}

inline std::filesystem::path test_data(const std::string& relative) {
  return std::filesystem::path(RNNKIT_TEST_DATA) / relative;
}

// Every weight's bytes, in model.weights order: equal means bit-identical.
inline std::string weight_bytes(const Model& model) {
  std::string bytes;
  for (const Tensor& weight : model.get_weights()) {
    bytes += shape_string(weight.shape());
    bytes.append(reinterpret_cast<const char*>(weight.data()), weight.values().size_bytes());
  }
  return bytes;
}

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot open test fixture " + path.string());
  return nlohmann::json::parse(file);
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot open test fixture " + path.string());
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// Runs a Python script with Debian's Python (h5py, numpy) in `folder`: its exit status and what it printed.
inline std::pair<int, std::string> python(const std::string& script, const std::string& arguments,
                                          const std::filesystem::path& folder) {
  const std::filesystem::path source = folder / "script.py", output = folder / "output.txt";
  std::ofstream(source) << script;
  const int status = std::system(
      ("/usr/bin/python3 " + source.string() + " " + arguments + " > " + output.string() + " 2>&1").c_str());
  return {status, read_text(output)};
}

inline bool have_h5py() {
  return std::system("/usr/bin/python3 -c 'import h5py' > /dev/null 2>&1") == 0;
}

// (f(v + step) - f(v - step)) / (2 step): the central difference of `evaluate` in one value, which is put
// back afterwards.
inline double central_difference(float& value, float step, const std::function<double()>& evaluate) {
  const float original = value;
  value = original + step;
  const double plus = evaluate();
  value = original - step;
  const double minus = evaluate();
  value = original;
  return (plus - minus) / (2.0 * step);
}

// {"shape": [...], "data": [...]} as written by the oracle generators.
inline Tensor tensor_from_json(const nlohmann::json& value) {
  return Tensor(value.at("shape").get<Shape>(), value.at("data").get<std::vector<float>>());
}

// Same shape, and every value within atol + rtol·|expected| (NaN only where NaN is expected).
inline ::testing::AssertionResult all_close(const Tensor& actual, const Tensor& expected, double atol = 1e-5,
                                            double rtol = 1e-5) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure()
           << "shape " << shape_string(actual.shape()) << " != expected " << shape_string(expected.shape());
  double worst = 0.0;
  for (std::int64_t i = 0; i < actual.size(); ++i) {
    const double a = actual[i], e = expected[i];
    if (std::isnan(e) && std::isnan(a)) continue;
    const double difference = std::abs(a - e);
    if (!(difference <= atol + rtol * std::abs(e)))
      return ::testing::AssertionFailure()
             << "value " << i << ": " << a << " != expected " << e << " (|diff| " << difference << ")";
    worst = std::max(worst, difference);
  }
  return ::testing::AssertionSuccess() << "max |diff| " << worst;
}

}  // namespace rnnkit::testing
