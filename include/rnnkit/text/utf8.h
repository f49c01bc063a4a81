// UTF-8 text: validation with the byte offset of the first fault, code points, Python-like lowercase, corpus
// files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rnnkit {

// The byte offset of the first invalid UTF-8 sequence (overlong forms, surrogates, code points above
// U+10FFFF, stray continuation bytes and sequences cut short all count), or nullopt when `bytes` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view bytes);

// Throws Error "invalid UTF-8 in <what> at byte offset N (bytes ..)" unless `bytes` is valid UTF-8.
void check_utf8(std::string_view bytes, std::string_view what);

// `bytes` with each invalid sequence replaced by U+FFFD, one per maximal ill-formed subpart (the Unicode
// recommendation, which is also what Python's bytes.decode("utf-8", "replace") does).
std::string replace_invalid_utf8(std::string_view bytes);

// The code points of valid UTF-8 text; throws Error naming `what` and the byte offset otherwise.
std::vector<char32_t> decode_utf8(std::string_view text, std::string_view what = "text");
// One code point as UTF-8; throws Error for surrogates and values above U+10FFFF.
std::string encode_utf8(char32_t code_point);
// The text cut into its code points, each as its own UTF-8 string: "말이 " -> {"말", "이", " "}.
std::vector<std::string> split_code_points(std::string_view text, std::string_view what = "text");
// Number of code points of valid UTF-8 text.
std::size_t count_code_points(std::string_view text, std::string_view what = "text");

// Lowercase as Python's str.lower(): Unicode's lowercase mapping (utf8proc), plus the two rules Python
// applies beyond the one-to-one mapping: U+0130 "İ" becomes "i̇" (two code points) and a capital sigma
// ending a word becomes "ς". Hangul and other uncased scripts are unchanged.
std::string to_lower(std::string_view text, std::string_view what = "text");

struct ReadTextOptions {
  // Replace invalid sequences with U+FFFD instead of throwing.
  bool replace_invalid = false;
};

// A UTF-8 text file as a corpus: the leading byte order mark is dropped, CRLF and lone CR become LF, and
// invalid UTF-8 throws Error naming the file and the byte offset in the file (or is replaced, see options).
std::string read_text_file(const std::filesystem::path& path, const ReadTextOptions& options = {});

}  // namespace rnnkit
