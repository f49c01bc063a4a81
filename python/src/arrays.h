// numpy arrays to rnnkit Tensors and back, and Python's sys.stdout as a C++ stream.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstring>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "rnnkit/error.h"
#include "rnnkit/tensor.h"

namespace rnnkit::python {

namespace py = pybind11;

// A numpy array (or anything np.asarray takes) as a float32 Tensor, as Keras converts its inputs: integers,
// booleans and float64 are cast; a float32 C-contiguous array is read in place and copied once into the
// tensor.
inline Tensor to_tensor(const py::handle& value, std::string_view what) {
  using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
  Floats array = Floats::ensure(value);
  if (!array) {
    PyErr_Clear();
    const std::string type = py::str(py::type::of(value).attr("__name__"));
    throw py::type_error(std::string(what) +
                         ": expected a numpy array of numbers (or a list of them), received " + type);
  }
  Shape shape(array.shape(), array.shape() + array.ndim());
  Tensor tensor = Tensor::uninitialized(shape);
  if (tensor.size() > 0)
    std::memcpy(tensor.data(), array.data(), sizeof(float) * static_cast<std::size_t>(tensor.size()));
  return tensor;
}

inline std::vector<Tensor> to_tensors(const std::vector<py::object>& values, std::string_view what) {
  std::vector<Tensor> tensors;
  tensors.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    tensors.push_back(to_tensor(values[i], std::string(what) + "[" + std::to_string(i) + "]"));
  return tensors;
}

// A float32 numpy array that takes the tensor's memory over (no copy): it owns it, nothing else refers to it.
inline py::array to_numpy(Tensor&& tensor) {
  auto* owned = new Tensor(std::move(tensor));
  py::capsule free_when_done(owned, [](void* pointer) { delete static_cast<Tensor*>(pointer); });
  std::vector<py::ssize_t> shape(owned->shape().begin(), owned->shape().end());
  return py::array_t<float>(shape, owned->data(), free_when_done);
}

inline py::list to_numpy_list(std::vector<Tensor>&& tensors) {
  py::list arrays;
  for (Tensor& tensor : tensors) arrays.append(to_numpy(std::move(tensor)));
  return arrays;
}

// A stream whose text goes to Python's sys.stdout (so that it shows in Jupyter), written at each newline and
// each flush: Keras's progress bar rewrites its line with '\r' and flushes. Writes take the GIL, so the
// stream may be used while C++ runs with the GIL released.
class PythonStdout : public std::streambuf {
 public:
  ~PythonStdout() override {
    try {
      write_out();
    } catch (...) {  // nothing to report to at this point
    }
  }
  void write_out() {
    if (buffer_.empty()) return;
    py::gil_scoped_acquire gil;
    const py::object out = py::module_::import("sys").attr("stdout");
    out.attr("write")(py::str(buffer_));
    out.attr("flush")();
    buffer_.clear();
  }

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) {
      buffer_.push_back(traits_type::to_char_type(c));
      if (c == '\n') write_out();
    }
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* text, std::streamsize count) override {
    buffer_.append(text, static_cast<std::size_t>(count));
    if (std::string_view(text, static_cast<std::size_t>(count)).find('\n') != std::string_view::npos)
      write_out();
    return count;
  }
  int sync() override {
    write_out();
    return 0;
  }

 private:
  std::string buffer_;
};

}  // namespace rnnkit::python
