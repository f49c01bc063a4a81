#include "rnnkit/text/utf8.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <sstream>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// The next code point and its length in bytes, or a length <= 0 when the bytes there are not UTF-8.
struct Decoded {
  char32_t code_point = 0;
  std::ptrdiff_t length = 0;
};

Decoded decode_at(std::string_view bytes, std::size_t offset) {
  utf8proc_int32_t code_point = -1;
  const auto length = utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(bytes.data() + offset),
                                       static_cast<utf8proc_ssize_t>(bytes.size() - offset), &code_point);
  if (length <= 0) return {0, -1};
  return {static_cast<char32_t>(code_point), static_cast<std::ptrdiff_t>(length)};
}

// Length of the maximal ill-formed subpart starting at `offset`: the longest prefix of some valid
// sequence, at least one byte. Replacing each such part with one U+FFFD is Unicode's recommended practice.
std::size_t ill_formed_length(std::string_view bytes, std::size_t offset) {
  const auto lead = static_cast<unsigned char>(bytes[offset]);
  std::size_t needed = 0;
  unsigned char second_low = 0x80, second_high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    needed = 1;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    needed = 2;
    if (lead == 0xE0) second_low = 0xA0;   // shorter forms are overlong
    if (lead == 0xED) second_high = 0x9F;  // D800-DFFF are surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    needed = 3;
    if (lead == 0xF0) second_low = 0x90;
    if (lead == 0xF4) second_high = 0x8F;  // above U+10FFFF
  } else {
    return 1;
  }
  std::size_t length = 1;
  for (; length <= needed && offset + length < bytes.size(); ++length) {
    const auto byte = static_cast<unsigned char>(bytes[offset + length]);
    const unsigned char low = length == 1 ? second_low : 0x80, high = length == 1 ? second_high : 0xBF;
    if (byte < low || byte > high) break;
  }
  return length;
}

std::string hex_bytes(std::string_view bytes, std::size_t offset) {
  std::ostringstream text;
  const std::size_t end = std::min(bytes.size(), offset + 4);
  for (std::size_t i = offset; i < end; ++i) {
    if (i > offset) text << ' ';
    text << std::hex << std::setw(2) << std::setfill('0')
         << static_cast<int>(static_cast<unsigned char>(bytes[i]));
  }
  if (end < bytes.size()) text << " ...";
  return text.str();
}

[[noreturn]] void fail_invalid(std::string_view bytes, std::size_t offset, std::string_view what,
                               std::size_t offset_base = 0) {
  fail("invalid UTF-8 in ", what, " at byte offset ", offset + offset_base, " (bytes ",
       hex_bytes(bytes, offset), ")");
}

template <class Visit>
void for_each_code_point(std::string_view text, std::string_view what, Visit&& visit) {
  for (std::size_t offset = 0; offset < text.size();) {
    const Decoded decoded = decode_at(text, offset);
    if (decoded.length <= 0) fail_invalid(text, offset, what);
    const auto length = static_cast<std::size_t>(decoded.length);
    visit(decoded.code_point, text.substr(offset, length));
    offset += length;
  }
}

bool is_cased(char32_t code_point) {
  const auto c = static_cast<utf8proc_int32_t>(code_point);
  const auto category = utf8proc_category(c);
  return category == UTF8PROC_CATEGORY_LU || category == UTF8PROC_CATEGORY_LL ||
         category == UTF8PROC_CATEGORY_LT || utf8proc_islower(c) || utf8proc_isupper(c);
}

// Unicode's Case_Ignorable: marks, format characters, modifiers, and the word-internal punctuation of
// Word_Break MidLetter/MidNumLet/Single_Quote (so "ΟΔΟΣ." still ends its word with the sigma).
bool is_case_ignorable(char32_t code_point) {
  static constexpr std::array<char32_t, 17> kWordInternal = {0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,
                                                             0x5F4,  0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
                                                             0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A};
  if (std::find(kWordInternal.begin(), kWordInternal.end(), code_point) != kWordInternal.end()) return true;
  const auto category = utf8proc_category(static_cast<utf8proc_int32_t>(code_point));
  return category == UTF8PROC_CATEGORY_MN || category == UTF8PROC_CATEGORY_ME ||
         category == UTF8PROC_CATEGORY_CF || category == UTF8PROC_CATEGORY_LM ||
         category == UTF8PROC_CATEGORY_SK;
}

// Python's Final_Sigma rule: a cased letter before (skipping case-ignorables) and none after.
bool is_final_sigma(const std::vector<char32_t>& code_points, std::size_t at) {
  std::size_t before = at;
  while (before > 0 && is_case_ignorable(code_points[before - 1])) --before;
  if (before == 0 || !is_cased(code_points[before - 1])) return false;
  std::size_t after = at + 1;
  while (after < code_points.size() && is_case_ignorable(code_points[after])) ++after;
  return after == code_points.size() || !is_cased(code_points[after]);
}

void append_utf8(std::string& out, char32_t code_point) {
  std::array<utf8proc_uint8_t, 4> buffer{};
  const auto length = utf8proc_encode_char(static_cast<utf8proc_int32_t>(code_point), buffer.data());
  out.append(reinterpret_cast<const char*>(buffer.data()), static_cast<std::size_t>(length));
}

std::string normalize_newlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out.push_back(text[i]);
      continue;
    }
    out.push_back('\n');
    if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
  }
  return out;
}

}  // namespace

std::optional<std::size_t> find_invalid_utf8(std::string_view bytes) {
  for (std::size_t offset = 0; offset < bytes.size();) {
    const Decoded decoded = decode_at(bytes, offset);
    if (decoded.length <= 0) return offset;
    offset += static_cast<std::size_t>(decoded.length);
  }
  return std::nullopt;
}

void check_utf8(std::string_view bytes, std::string_view what) {
  if (const auto offset = find_invalid_utf8(bytes)) fail_invalid(bytes, *offset, what);
}

std::string replace_invalid_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t offset = 0; offset < bytes.size();) {
    const Decoded decoded = decode_at(bytes, offset);
    if (decoded.length > 0) {
      out.append(bytes.substr(offset, static_cast<std::size_t>(decoded.length)));
      offset += static_cast<std::size_t>(decoded.length);
    } else {
      out.append(kReplacementCharacter);
      offset += ill_formed_length(bytes, offset);
    }
  }
  return out;
}

std::vector<char32_t> decode_utf8(std::string_view text, std::string_view what) {
  std::vector<char32_t> code_points;
  code_points.reserve(text.size());
  for_each_code_point(text, what,
                      [&](char32_t code_point, std::string_view) { code_points.push_back(code_point); });
  return code_points;
}

std::string encode_utf8(char32_t code_point) {
  check(utf8proc_codepoint_valid(static_cast<utf8proc_int32_t>(code_point)), "cannot encode U+", std::hex,
        std::uppercase, static_cast<std::uint32_t>(code_point), " as UTF-8: not a Unicode scalar value");
  std::string out;
  append_utf8(out, code_point);
  return out;
}

std::vector<std::string> split_code_points(std::string_view text, std::string_view what) {
  std::vector<std::string> pieces;
  for_each_code_point(text, what, [&](char32_t, std::string_view piece) { pieces.emplace_back(piece); });
  return pieces;
}

std::size_t count_code_points(std::string_view text, std::string_view what) {
  std::size_t count = 0;
  for_each_code_point(text, what, [&](char32_t, std::string_view) { ++count; });
  return count;
}

std::string to_lower(std::string_view text, std::string_view what) {
  const std::vector<char32_t> code_points = decode_utf8(text, what);
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < code_points.size(); ++i) {
    const char32_t code_point = code_points[i];
    if (code_point < 0x80) {
      out.push_back(code_point >= U'A' && code_point <= U'Z' ? static_cast<char>(code_point + 32)
                                                             : static_cast<char>(code_point));
    } else if (code_point == 0x130) {  // İ: SpecialCasing's one unconditional multi-character lowercase
      out.append("i\xCC\x87");
    } else if (code_point == 0x3A3) {
      append_utf8(out, is_final_sigma(code_points, i) ? 0x3C2 : 0x3C3);
    } else {
      append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(code_point))));
    }
  }
  return out;
}

std::string read_text_file(const std::filesystem::path& path, const ReadTextOptions& options) {
  std::ifstream file(path, std::ios::binary);
  check(file.good(), "cannot open text file ", path.string());
  std::string bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  check(!file.bad(), "cannot read text file ", path.string());

  std::string_view content = bytes;
  std::size_t skipped = 0;
  if (content.starts_with(kByteOrderMark)) {
    content.remove_prefix(kByteOrderMark.size());
    skipped = kByteOrderMark.size();
  }
  if (options.replace_invalid) return normalize_newlines(replace_invalid_utf8(content));
  if (const auto offset = find_invalid_utf8(content))
    fail_invalid(content, *offset, "text file " + path.string(), skipped);
  return normalize_newlines(content);
}

}  // namespace rnnkit
