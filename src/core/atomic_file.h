// Writing a file so that readers see either the old contents or the complete new ones, never a partial file.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

namespace rnnkit {

// Calls `write` with a fresh temporary path in the target's folder, then fsyncs that file and renames it over
// `target`. If anything throws, the temporary is removed, `target` is left as it was and the exception
// propagates. `write` may create the temporary anew (e.g. by renaming its own file onto it). An existing
// target's permissions carry over to the new file.
void write_file_atomically(const std::filesystem::path& target,
                           const std::function<void(const std::filesystem::path& temporary)>& write);

void write_bytes_atomically(const std::filesystem::path& target, std::string_view bytes);

}  // namespace rnnkit
