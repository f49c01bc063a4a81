// config_number: a float32 argument as the number a Keras config holds for it.
#pragma once

#include <charconv>
#include <cstdlib>
#include <string>

namespace rnnkit {

// The shortest decimal that reads back as `value` (0.2f -> 0.2, not 0.20000000298023224): the Python float
// Keras's get_config() gives back for the argument it was passed.
inline double config_number(float value) {
  char text[32];
  char* end = std::to_chars(text, text + sizeof text, value).ptr;
  return std::strtod(std::string(text, end).c_str(), nullptr);
}

}  // namespace rnnkit
