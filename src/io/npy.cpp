#include "rnnkit/npy.h"

#include <zip.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <type_traits>

#include "core/atomic_file.h"
#include "rnnkit/error.h"

namespace rnnkit {
namespace {

// The data bytes are copied to and from float/int as they are; numpy's '<' means little-endian.
static_assert(std::endian::native == std::endian::little,
              "rnnkit's .npy reader and writer need a little-endian host");

constexpr std::string_view kMagic = "\x93NUMPY";
// float32 holds every integer of magnitude up to 2^24 exactly, and not all beyond.
constexpr std::int64_t kLargestExactInteger = std::int64_t{1} << 24;

std::string quoted(const std::filesystem::path& path) {
  std::ostringstream text;
  text << path;
  return text.str();
}

std::string read_file(const std::filesystem::path& path) {
  struct Closer {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  std::unique_ptr<std::FILE, Closer> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int error = errno;
    fail("cannot read ", path, ": ", std::strerror(error));
  }
  std::string bytes;
  char buffer[1 << 16];
  while (const std::size_t count = std::fread(buffer, 1, sizeof buffer, file.get())) {
    bytes.append(buffer, count);
  }
  if (std::ferror(file.get())) {
    const int error = errno;
    fail("cannot read ", path, ": ", std::strerror(error));
  }
  return bytes;
}

// ---- The header: a Python dict literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (3,), }

struct Literal {
  enum class Kind { kString, kBool, kInteger, kTuple, kList };
  Kind kind = Kind::kString;
  std::string_view source;  // as written, for messages
  std::string text;
  bool flag = false;
  std::int64_t integer = 0;
  std::vector<Literal> items;
};

// Parses the subset of Python literals that numpy writes (and Python 2's numpy wrote, with 3L for 3).
class HeaderParser {
 public:
  HeaderParser(std::string_view header, const std::string& what) : header_(header), what_(what) {}

  std::vector<std::pair<std::string, Literal>> parse_dict() {
    std::vector<std::pair<std::string, Literal>> entries;
    expect('{');
    while (!consume('}')) {
      Literal key = parse_value();
      if (key.kind != Literal::Kind::kString) syntax_error("a string key");
      expect(':');
      entries.emplace_back(std::move(key.text), parse_value());
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (pos_ != header_.size()) syntax_error("nothing after the closing '}'");
    return entries;
  }

 private:
  // Deep enough for any real header; the limit keeps a malicious "((((..." from exhausting the stack.
  static constexpr int kMaxDepth = 32;

  Literal parse_value() {
    skip_space();
    if (pos_ == header_.size()) syntax_error("a value");
    if (depth_ == kMaxDepth) syntax_error("less deeply nested values");
    const std::size_t start = pos_;
    ++depth_;
    Literal value;
    const char c = header_[pos_];
    if (c == '\'' || c == '"') {
      value.text = parse_string();
    } else if (c == '(' || c == '[') {
      value = parse_sequence();
    } else if (c == '-' || is_digit(c)) {
      value.kind = Literal::Kind::kInteger;
      value.integer = parse_integer();
    } else if (consume_word("True") || consume_word("False")) {
      value.kind = Literal::Kind::kBool;
      value.flag = header_[start] == 'T';
    } else {
      syntax_error("a string, number, True, False, tuple or list");
    }
    --depth_;
    value.source = header_.substr(start, pos_ - start);
    return value;
  }

  // Escapes are taken literally: no field that rnnkit reads needs them.
  std::string parse_string() {
    const char quote = header_[pos_++];
    std::string text;
    while (pos_ < header_.size() && header_[pos_] != quote) {
      if (header_[pos_] == '\\') ++pos_;
      if (pos_ < header_.size()) text += header_[pos_++];
    }
    if (pos_ == header_.size()) syntax_error("the closing quote of a string");
    ++pos_;
    return text;
  }

  Literal parse_sequence() {
    const char open = header_[pos_++];
    const char close = open == '(' ? ')' : ']';
    Literal sequence;
    sequence.kind = open == '(' ? Literal::Kind::kTuple : Literal::Kind::kList;
    bool trailing_comma = false;
    while (!consume(close)) {
      sequence.items.push_back(parse_value());
      trailing_comma = consume(',');
      if (!trailing_comma) {
        expect(close);
        break;
      }
    }
    // As in Python, "(3)" is the number 3; only "(3,)" is a 1-tuple.
    if (open == '(' && sequence.items.size() == 1 && !trailing_comma) return std::move(sequence.items[0]);
    return sequence;
  }

  std::int64_t parse_integer() {
    const bool negative = consume('-');
    if (pos_ == header_.size() || !is_digit(header_[pos_])) syntax_error("a digit");
    std::int64_t magnitude = 0;
    while (pos_ < header_.size() && is_digit(header_[pos_])) {
      const int digit = header_[pos_++] - '0';
      if (magnitude > (std::numeric_limits<std::int64_t>::max() - digit) / 10) {
        syntax_error("a smaller number");
      }
      magnitude = magnitude * 10 + digit;
    }
    if (pos_ < header_.size() && header_[pos_] == 'L') ++pos_;
    return negative ? -magnitude : magnitude;
  }

  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

  void skip_space() {
    while (pos_ < header_.size() && is_space(header_[pos_])) ++pos_;
  }

  bool consume(char c) {
    skip_space();
    if (pos_ == header_.size() || header_[pos_] != c) return false;
    ++pos_;
    return true;
  }

  void expect(char c) {
    if (!consume(c)) syntax_error(std::string("'") + c + "'");
  }

  bool consume_word(std::string_view word) {
    if (!header_.substr(pos_).starts_with(word)) return false;
    const std::size_t end = pos_ + word.size();
    if (end < header_.size() &&
        (std::isalnum(static_cast<unsigned char>(header_[end])) || header_[end] == '_')) {
      return false;
    }
    pos_ = end;
    return true;
  }

  [[noreturn]] void syntax_error(std::string_view expected) const {
    fail(what_, ": the .npy header is not a valid Python dict literal: expected ", expected, " at character ",
         pos_, " of ", printable(header_));
  }

  // The header as a message can show it: control and non-ASCII bytes as '?', at most 200 characters.
  static std::string printable(std::string_view header) {
    while (!header.empty() && is_space(header.back())) header.remove_suffix(1);
    std::string text;
    for (const char c : header.substr(0, 200)) text += c >= ' ' && c <= '~' ? c : '?';
    return header.size() > 200 ? text + "..." : text;
  }

  std::string_view header_;
  const std::string& what_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

enum class DtypeKind { kFloat, kSigned, kUnsigned, kBool };

struct Dtype {
  DtypeKind kind;
  std::size_t size;
};

struct Header {
  Dtype dtype;
  std::string descr;  // as written, for messages
  bool fortran_order;
  Shape shape;
};

Dtype parse_descr(const Literal& descr, const std::string& what) {
  check(descr.kind != Literal::Kind::kList, what, ": header field 'descr' is ", descr.source,
        ", a structured dtype (records with named fields); rnnkit reads plain numeric arrays only");
  check(descr.kind == Literal::Kind::kString, what, ": header field 'descr' is ", descr.source,
        ", expected a dtype string such as '<f4'");
  std::string_view code = descr.text;
  char byte_order = '=';
  if (!code.empty() && std::string_view("<>|=").find(code[0]) != std::string_view::npos) {
    byte_order = code[0];
    code.remove_prefix(1);
  }
  struct Known {
    std::string_view code;
    Dtype dtype;
  };
  static constexpr Known kKnown[] = {
      {"f4", {DtypeKind::kFloat, 4}},    {"f8", {DtypeKind::kFloat, 8}},    {"i1", {DtypeKind::kSigned, 1}},
      {"i2", {DtypeKind::kSigned, 2}},   {"i4", {DtypeKind::kSigned, 4}},   {"i8", {DtypeKind::kSigned, 8}},
      {"u1", {DtypeKind::kUnsigned, 1}}, {"u2", {DtypeKind::kUnsigned, 2}}, {"u4", {DtypeKind::kUnsigned, 4}},
      {"u8", {DtypeKind::kUnsigned, 8}}, {"b1", {DtypeKind::kBool, 1}},
  };
  for (const Known& known : kKnown) {
    if (code != known.code) continue;
    check(byte_order != '>' || known.dtype.size == 1, what, ": header field 'descr' is ", descr.source,
          ", a big-endian dtype; rnnkit reads little-endian data only (in numpy: np.save(path, "
          "array.astype(array.dtype.newbyteorder('<'))))");
    return known.dtype;
  }
  check(!code.starts_with("O"), what, ": header field 'descr' is ", descr.source,
        ", an object array (pickled Python objects); rnnkit reads numeric arrays only");
  fail(what, ": header field 'descr' is ", descr.source,
       ", a dtype rnnkit cannot read; it reads little-endian float32, float64, int8/16/32/64, uint8/16/32/64 "
       "and bool");
}

Shape parse_shape(const Literal& shape, const std::string& what) {
  bool valid = shape.kind == Literal::Kind::kTuple;
  Shape dims;
  for (const Literal& item : shape.items) {
    valid = valid && item.kind == Literal::Kind::kInteger && item.integer >= 0;
    dims.push_back(item.integer);
  }
  check(valid, what, ": header field 'shape' is ", shape.source,
        ", expected a tuple of non-negative integers such as (2, 3), (3,) or ()");
  return dims;
}

Header parse_header(std::string_view text, const std::string& what) {
  const auto entries = HeaderParser(text, what).parse_dict();
  const Literal* descr = nullptr;
  const Literal* fortran_order = nullptr;
  const Literal* shape = nullptr;
  for (const auto& [key, value] : entries) {
    const Literal** field = key == "descr"           ? &descr
                            : key == "fortran_order" ? &fortran_order
                            : key == "shape"         ? &shape
                                                     : nullptr;
    check(field != nullptr, what, ": the .npy header has an unknown field '", key,
          "'; numpy writes exactly 'descr', 'fortran_order' and 'shape'");
    check(*field == nullptr, what, ": the .npy header has the field '", key, "' twice");
    *field = &value;
  }
  check(descr != nullptr, what, ": the .npy header lacks the field 'descr'");
  check(fortran_order != nullptr, what, ": the .npy header lacks the field 'fortran_order'");
  check(shape != nullptr, what, ": the .npy header lacks the field 'shape'");
  check(fortran_order->kind == Literal::Kind::kBool, what, ": header field 'fortran_order' is ",
        fortran_order->source, ", expected True or False");
  return {parse_descr(*descr, what), std::string(descr->source), fortran_order->flag,
          parse_shape(*shape, what)};
}

// ---- The data

template <class T>
T load(const char* bytes) {
  T value;
  std::memcpy(&value, bytes, sizeof value);
  return value;
}

std::int64_t load_signed(const char* bytes, std::size_t size) {
  switch (size) {
    case 1:
      return load<std::int8_t>(bytes);
    case 2:
      return load<std::int16_t>(bytes);
    case 4:
      return load<std::int32_t>(bytes);
    default:
      return load<std::int64_t>(bytes);
  }
}

std::uint64_t load_unsigned(const char* bytes, std::size_t size) {
  switch (size) {
    case 1:
      return load<std::uint8_t>(bytes);
    case 2:
      return load<std::uint16_t>(bytes);
    case 4:
      return load<std::uint32_t>(bytes);
    default:
      return load<std::uint64_t>(bytes);
  }
}

template <class Integer>
float exact_integer(Integer value, std::int64_t index, const std::string& what) {
  bool exact = value <= static_cast<Integer>(kLargestExactInteger);
  if constexpr (std::is_signed_v<Integer>) exact = exact && value >= -kLargestExactInteger;
  check(exact, what, ": element ", index, " is ", value,
        ", outside ±16777216 (±2^24), the range in which float32, rnnkit's only element type, holds every "
        "integer exactly; integers such as token ids must stay exact");
  return static_cast<float>(value);
}

float to_float(const char* bytes, Dtype dtype, std::int64_t index, const std::string& what) {
  switch (dtype.kind) {
    case DtypeKind::kBool:
      return *bytes != 0 ? 1.0f : 0.0f;
    case DtypeKind::kSigned:
      return exact_integer(load_signed(bytes, dtype.size), index, what);
    case DtypeKind::kUnsigned:
      return exact_integer(load_unsigned(bytes, dtype.size), index, what);
    case DtypeKind::kFloat:
      break;
  }
  if (dtype.size == 4) return load<float>(bytes);
  const double value = load<double>(bytes);
  check(!std::isfinite(value) || std::fabs(value) <= std::numeric_limits<float>::max(), what, ": element ",
        index, " is ", value, ", beyond float32's range (±3.4e38); rnnkit stores float32 only");
  return static_cast<float>(value);
}

// Fortran order stores the first axis fastest; Tensor is C order, the last axis fastest.
std::vector<float> fortran_to_c_order(const std::vector<float>& fortran, const Shape& shape) {
  const std::size_t rank = shape.size();
  std::vector<std::int64_t> stride(rank);
  std::int64_t step = 1;
  for (std::size_t axis = 0; axis < rank; ++axis) {
    stride[axis] = step;
    step *= shape[axis];
  }
  std::vector<float> c_order(fortran.size());
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t offset = 0;  // of `index` in the Fortran data
  for (float& value : c_order) {
    value = fortran[static_cast<std::size_t>(offset)];
    for (std::size_t axis = rank; axis-- > 0;) {
      if (++index[axis] < shape[axis]) {
        offset += stride[axis];
        break;
      }
      offset -= stride[axis] * (shape[axis] - 1);
      index[axis] = 0;
    }
  }
  return c_order;
}

std::string serialize(const Tensor& tensor, const std::string& what) {
  check(tensor.size() == element_count(tensor.shape()), "cannot save ", what,
        ": it is an empty Tensor() with no shape; a scalar needs Tensor(Shape{}, value)");
  constexpr std::size_t kPreamble = kMagic.size() + 2 + 2;  // magic, version 1.0, 2-byte header length
  std::string header =
      "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_string(tensor.shape()) + ", }";
  // np.save leaves room for the first axis to grow to 21 digits in place; doing the same makes our files
  // byte-identical to numpy's.
  if (tensor.rank() > 0) header.append(21 - std::to_string(tensor.dim(0)).size(), ' ');
  // Spaces and a final newline so the data starts at a multiple of 64 bytes, as numpy aligns it.
  header.append(64 - (kPreamble + header.size() + 1) % 64, ' ');
  header += '\n';
  check(header.size() <= 0xffff, "cannot save ", what, ": its shape ", shape_string(tensor.shape()),
        " does not fit a format 1.0 header");

  std::string bytes(kMagic);
  bytes += {'\x01', '\x00', static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(tensor.data()), tensor.values().size_bytes());
  return bytes;
}

// ---- Zip archives

struct ArchiveDiscarder {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
using Archive = std::unique_ptr<zip_t, ArchiveDiscarder>;

// Through a zip_source rather than zip_open, whose bare error code loses errno ("Permission denied").
Archive open_archive(const std::filesystem::path& path, int flags, const std::string& failure) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_file_create(path.c_str(), 0, -1, &error);
  zip_t* archive = source == nullptr ? nullptr : zip_open_from_source(source, flags, &error);
  if (archive == nullptr) {
    zip_source_free(source);
    const std::string reason = zip_error_strerror(&error);
    zip_error_fini(&error);
    fail(failure, ": ", reason);
  }
  zip_error_fini(&error);
  return Archive(archive);
}

std::string read_member(zip_t* archive, zip_uint64_t index, const std::string& member) {
  struct Closer {
    void operator()(zip_file_t* file) const { zip_fclose(file); }
  };
  std::unique_ptr<zip_file_t, Closer> file(zip_fopen_index(archive, index, 0));
  check(file != nullptr, member, " cannot be read: ", zip_strerror(archive));
  // Reads until the end rather than trusting the size a corrupt directory may claim.
  std::string bytes;
  char buffer[1 << 16];
  while (true) {
    const zip_int64_t count = zip_fread(file.get(), buffer, sizeof buffer);
    check(count >= 0, member, " is corrupt: ", zip_file_strerror(file.get()));
    if (count == 0) return bytes;
    bytes.append(buffer, static_cast<std::size_t>(count));
  }
}

// np.savez stamps every member 1980-01-01 00:00 (local time), the earliest time zip can store; doing the same
// makes our archives reproducible.
std::time_t zip_epoch() {
  std::tm time{};
  time.tm_year = 80;
  time.tm_mday = 1;
  time.tm_isdst = -1;
  return std::mktime(&time);
}

void add_member(zip_t* archive, const std::string& name, const std::string& bytes, NpzCompression compression,
                const std::string& archive_name) {
  zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
  const zip_int64_t index =
      source == nullptr ? -1 : zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8);
  if (index < 0) zip_source_free(source);
  const zip_int32_t method = compression == NpzCompression::kDeflated ? ZIP_CM_DEFLATE : ZIP_CM_STORE;
  // A statement of its own: check's arguments, zip_strerror among them, are evaluated in no fixed order.
  const bool added = index >= 0 &&
                     zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), method, 0) == 0 &&
                     zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index), zip_epoch(), 0) == 0;
  check(added, "cannot write member \"", name, "\" of ", archive_name, ": ", zip_strerror(archive));
}

}  // namespace

Tensor parse_npy(std::string_view bytes, const std::string& what) {
  const std::size_t prefix = std::min(bytes.size(), kMagic.size());
  check(bytes.substr(0, prefix) == kMagic.substr(0, prefix), what,
        ": not a .npy file: it does not start with numpy's magic string \\x93NUMPY");
  check(bytes.size() >= kMagic.size() + 2, what, ": the file is truncated: ", bytes.size(),
        " bytes are too few for a .npy header");
  const auto major = static_cast<unsigned char>(bytes[kMagic.size()]);
  const auto minor = static_cast<unsigned char>(bytes[kMagic.size() + 1]);
  check(major >= 1 && major <= 3 && minor == 0, what, ": .npy format version ", int{major}, ".", int{minor},
        " is not supported; rnnkit reads 1.0, 2.0 and 3.0");

  // Version 1.0 stores the header length in 2 bytes, later versions in 4, little-endian.
  const std::size_t length_size = major == 1 ? 2 : 4;
  const std::size_t preamble = kMagic.size() + 2 + length_size;
  check(bytes.size() >= preamble, what, ": the file is truncated: ", bytes.size(),
        " bytes are too few for a .npy header");
  std::size_t header_length = 0;
  for (std::size_t i = 0; i < length_size; ++i) {
    header_length |= std::size_t{static_cast<unsigned char>(bytes[kMagic.size() + 2 + i])} << (8 * i);
  }
  check(header_length <= bytes.size() - preamble, what, ": the header length (", header_length,
        " bytes) runs past the end of the file (", bytes.size(), " bytes): the file is truncated");
  const Header header = parse_header(bytes.substr(preamble, header_length), what);
  const std::string_view data = bytes.substr(preamble + header_length);

  // Checked before allocating anything, so a corrupt shape cannot ask for more memory than the file holds.
  std::uint64_t count = 1;
  for (const std::int64_t dim : header.shape) {
    const auto extent = static_cast<std::uint64_t>(dim);
    check(extent == 0 || count <= std::numeric_limits<std::uint64_t>::max() / header.dtype.size / extent,
          what, ": header field 'shape' ", shape_string(header.shape),
          " has more elements than any file can hold");
    count *= extent;
  }
  const std::uint64_t needed = count * header.dtype.size;
  check(data.size() >= needed, what, ": the file is truncated: shape ", shape_string(header.shape), " of ",
        header.descr, " needs ", needed, " bytes of data, the file has ", data.size());
  check(data.size() == needed, what, ": ", data.size() - needed, " bytes follow the ", needed,
        " bytes of data that shape ", shape_string(header.shape), " of ", header.descr,
        " needs; the file is corrupt or holds more than one array");

  std::vector<float> values(count);
  for (std::size_t i = 0; i < values.size(); ++i) {
    values[i] =
        to_float(data.data() + i * header.dtype.size, header.dtype, static_cast<std::int64_t>(i), what);
  }
  if (header.fortran_order && header.shape.size() > 1) values = fortran_to_c_order(values, header.shape);
  return Tensor(header.shape, std::move(values));
}

std::string serialize_npy(const Tensor& tensor) {
  return serialize(tensor, "a tensor as .npy");
}

Tensor load_npy(const std::filesystem::path& path) {
  return parse_npy(read_file(path), quoted(path));
}

void save_npy(const std::filesystem::path& path, const Tensor& tensor) {
  write_bytes_atomically(path, serialize(tensor, quoted(path)));
}

NamedTensors load_npz(const std::filesystem::path& path) {
  const std::string archive_name = quoted(path);
  const Archive archive =
      open_archive(path, ZIP_RDONLY, "cannot read " + archive_name + " as an .npz (zip) archive");
  const zip_int64_t count = zip_get_num_entries(archive.get(), 0);
  NamedTensors arrays;
  std::set<std::string> names;
  for (zip_uint64_t i = 0; i < static_cast<zip_uint64_t>(count); ++i) {
    const char* raw_name = zip_get_name(archive.get(), i, 0);
    check(raw_name != nullptr, "cannot read member ", i, " of ", archive_name, ": ",
          zip_strerror(archive.get()));
    std::string name = raw_name;
    const std::string member = "member \"" + name + "\" of " + archive_name;
    check(name.ends_with(".npy"), member, " is not a .npy file; an .npz archive holds NAME.npy members only");
    Tensor tensor = parse_npy(read_member(archive.get(), i, member), member);
    name.resize(name.size() - 4);
    check(names.insert(name).second, archive_name, " holds two arrays named \"", name, "\"");
    arrays.emplace_back(std::move(name), std::move(tensor));
  }
  return arrays;
}

void save_npz(const std::filesystem::path& path, const NamedTensors& arrays, NpzCompression compression) {
  const std::string archive_name = quoted(path);
  std::vector<std::string> members;  // zip_close reads them, so they live until then
  members.reserve(arrays.size());
  std::set<std::string_view> names;
  for (const auto& [name, tensor] : arrays) {
    check(!name.empty(), "cannot save ", archive_name, ": an array has an empty name");
    check(names.insert(name).second, "cannot save ", archive_name, ": two arrays are named \"", name, "\"");
    members.push_back(serialize(tensor, "array \"" + name + "\" in " + archive_name));
  }
  if (arrays.empty()) {
    // libzip deletes an archive left with no members; np.savez writes the bare end-of-directory record.
    write_bytes_atomically(path, std::string_view("PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 22));
    return;
  }
  write_file_atomically(path, [&](const std::filesystem::path& temporary) {
    Archive archive = open_archive(temporary, ZIP_CREATE | ZIP_TRUNCATE, "cannot write " + archive_name);
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      add_member(archive.get(), arrays[i].first + ".npy", members[i], compression, archive_name);
    }
    if (zip_close(archive.get()) != 0) fail("cannot write ", archive_name, ": ", zip_strerror(archive.get()));
    (void)archive.release();  // zip_close has freed it
  });
}

}  // namespace rnnkit
