// rnnkit::Error: the one exception rnnkit throws, with a message that says what was expected and where.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace rnnkit {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws Error with the parts concatenated when `ok` is false. Never compiled out; the message is only
// built on failure, so a check costs one branch.
template <class... Parts>
void check(bool ok, const Parts&... parts) {
  if (ok) [[likely]] return;
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str());
}

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(message.str());
}

}  // namespace rnnkit
