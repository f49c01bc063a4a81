// The fixtures in tests/io/fixtures are written by numpy (tests/io/make_npy_fixtures.py), and expected.json
// holds numpy's values for them, so these tests compare rnnkit against numpy rather than against itself.
#include "rnnkit/npy.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rnnkit/error.h"

namespace rnnkit {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kData = RNNKIT_TEST_DATA;
const fs::path kFixtures = kData / "io" / "fixtures";

std::string read_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file) << "cannot open " << path;
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

const json& expected() {
  static const json parsed = json::parse(read_bytes(kFixtures / "expected.json"));
  return parsed;
}

class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::string pattern = (fs::temp_directory_path() / "rnnkit_npy_test_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  ~TemporaryFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  fs::path operator/(const std::string& name) const { return path_ / name; }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Compares bits, so -0.0 against 0.0 and NaN payloads count as differences.
void expect_identical(const Tensor& actual, const Shape& shape, const std::vector<float>& values) {
  EXPECT_EQ(shape_string(actual.shape()), shape_string(shape));
  ASSERT_EQ(actual.values().size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(actual.values()[i]), std::bit_cast<std::uint32_t>(values[i]))
        << "element " << i << ": " << actual.values()[i] << " instead of " << values[i];
  }
}

void expect_as_numpy(const Tensor& actual, const json& numpy) {
  std::vector<float> values;
  for (const double value : numpy.at("values")) values.push_back(static_cast<float>(value));  // exact
  expect_identical(actual, numpy.at("shape").get<Shape>(), values);
}

void expect_identical(const Tensor& actual, const Tensor& expected) {
  expect_identical(actual, expected.shape(), {expected.values().begin(), expected.values().end()});
}

template <class Action>
void expect_error(Action&& action, std::initializer_list<std::string_view> parts) {
  std::string message = "(no error)";
  try {
    action();
  } catch (const Error& error) {
    message = error.what();
  }
  for (const std::string_view part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "\"" << part << "\" is missing from: " << message;
  }
}

// A .npy file with a hand-written header, to try the header parser on what numpy would not write.
std::string npy_bytes(std::string_view header, std::string_view data, char major = 1) {
  std::string bytes = "\x93NUMPY";
  bytes += major;
  bytes += '\0';
  const std::size_t length_bytes = major == 1 ? 2 : 4;
  for (std::size_t i = 0; i < length_bytes; ++i) {
    bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  }
  bytes += header;
  bytes += data;
  return bytes;
}

std::string float_bytes(std::initializer_list<float> values) {
  std::string bytes;
  for (const float value : values) bytes.append(reinterpret_cast<const char*>(&value), sizeof value);
  return bytes;
}

TEST(Npy, ReadsEveryDtypeAndLayoutAsNumpyDoes) {
  ASSERT_GE(expected().at("npy").size(), 19u);
  for (const auto& [name, numpy] : expected().at("npy").items()) {
    SCOPED_TRACE(name);
    expect_as_numpy(load_npy(kFixtures / name), numpy);
  }
}

TEST(Npy, ConvertsFortranOrderToCOrder) {
  // numpy: np.arange(24).reshape(2, 3, 4) * 3 - 30, stored in Fortran order.
  const Tensor x = load_npy(kFixtures / "fortran_order.npy");
  EXPECT_EQ(shape_string(x.shape()), "(2, 3, 4)");
  EXPECT_EQ(x.at({0, 0, 1}), -27.0f);
  EXPECT_EQ(x.at({0, 1, 0}), -18.0f);
  EXPECT_EQ(x.at({1, 2, 3}), 39.0f);
}

TEST(Npy, ZeroDimensionalArrayHasEmptyShape) {
  const Tensor x = load_npy(kFixtures / "scalar.npy");
  EXPECT_EQ(x.rank(), 0);
  ASSERT_EQ(x.size(), 1);
  EXPECT_EQ(x[0], 2.75f);
}

TEST(Npy, SerializesByteForByteAsNpSave) {
  for (const std::string name : expected().at("numpy_save_identical")) {
    SCOPED_TRACE(name);
    EXPECT_EQ(serialize_npy(load_npy(kFixtures / name)), read_bytes(kFixtures / name));
  }
}

TEST(Npy, SaveThenLoadIsBitIdentical) {
  const float nan = std::bit_cast<float>(std::uint32_t{0x7fc12345});
  const Tensor x({2, 4}, {0.1f, -0.0f, nan, std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(),
                          std::numeric_limits<float>::lowest(), 16777217.0f});
  TemporaryFolder folder;
  save_npy(folder / "x.npy", Tensor({1}, 5.0f));
  save_npy(folder / "x.npy", x);  // replaces the first file
  expect_identical(load_npy(folder / "x.npy"), x);
  expect_identical(parse_npy(serialize_npy(x), "memory"), x);

  save_npy(folder / "scalar.npy", Tensor(Shape{}, 3.5f));
  expect_identical(load_npy(folder / "scalar.npy"), Tensor(Shape{}, 3.5f));
  save_npy(folder / "empty.npy", Tensor({0, 3}));
  expect_identical(load_npy(folder / "empty.npy"), Tensor({0, 3}));
  EXPECT_EQ(std::distance(fs::directory_iterator(folder.path()), fs::directory_iterator()), 3);
}

TEST(Npy, ParsesAnyHeaderDictionaryNumpyWould) {
  const std::string data = float_bytes({1.0f, 2.0f});
  for (const std::string_view header : {
           "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }          \n",
           "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
           "{ \"descr\" : \"<f4\" ,\n\t'fortran_order':True,'shape':( 2 , ) , }\n",
           "{'descr': '|f4', 'fortran_order': False, 'shape': (2L,), }\n",  // Python 2's numpy
           "{'descr': '=f4', 'fortran_order': False, 'shape': (1, 2), }\n",
       }) {
    SCOPED_TRACE(header);
    const Tensor x = parse_npy(npy_bytes(header, data), "test");
    EXPECT_EQ(x.size(), 2);
    EXPECT_EQ(x[1], 2.0f);
  }
  const Tensor wide =
      parse_npy(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", data, 3), "x");
  EXPECT_EQ(wide[0], 1.0f);
}

TEST(Npy, RejectsMalformedHeadersNamingTheField) {
  const std::string data = float_bytes({1.0f, 2.0f});
  const auto parse = [&](std::string_view header) {
    return [=] { parse_npy(npy_bytes(header, data), "\"h.npy\""); };
  };
  expect_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }"),
               {"\"h.npy\"", "'shape' is (2)"});
  expect_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"), {"'shape' is (-2,)"});
  expect_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }"), {"'shape' is [2]"});
  expect_error(parse("{'descr': '<f4', 'fortran_order': False}"), {"lacks the field 'shape'"});
  expect_error(parse("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}"), {"'fortran_order' is 0"});
  expect_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"),
               {"unknown field 'x'"});
  expect_error(parse("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}"),
               {"'descr' twice"});
  expect_error(parse("{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}"), {"'descr' is '<f2'"});
  expect_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)"),
               {"\"h.npy\"", "expected '}'"});
  expect_error(parse("{'descr': '<f4 "), {"closing quote"});
  expect_error(parse("(1, 2)"), {"not a valid Python dict literal"});
  expect_error(parse(""), {"not a valid Python dict literal"});
  expect_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::string(1000, '(')),
               {"nested"});
  expect_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}"),
               {"smaller number"});
  expect_error(parse("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}"),
               {"more elements than any file can hold"});
}

TEST(Npy, RejectsBadVersionsAndSizes) {
  const std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  expect_error(
      [&] {
        parse_npy(npy_bytes(header, float_bytes({1, 2}), 9), "\"v.npy\"");
      },
      {"\"v.npy\"", "version 9.0"});
  expect_error(
      [&] {
        parse_npy(npy_bytes(header, float_bytes({1, 2, 3})), "\"t.npy\"");
      },
      {"\"t.npy\"", "4 bytes follow"});
  expect_error([&] { parse_npy("", "\"e.npy\""); }, {"\"e.npy\"", "truncated"});
}

TEST(Npy, RejectsMalformedFilesNamingTheFileAndField) {
  const std::vector<std::pair<std::string, std::vector<std::string_view>>> cases = {
      {"truncated.npy", {"truncated", "needs 24 bytes", "has 19"}},
      {"truncated_header.npy", {"header length", "past the end"}},
      {"bad_magic.npy", {"magic"}},
      {"big_endian.npy", {"'descr' is '>f4'", "big-endian"}},
      {"object.npy", {"'descr' is '|O'", "object"}},
      {"complex.npy", {"'descr' is '<c8'"}},
      {"unicode.npy", {"'descr' is '<U3'"}},
      {"structured.npy", {"'descr'", "structured"}},
      {"int_beyond_2_24.npy", {"element 1 is 16777217", "2^24", "token ids"}},
      {"uint64_huge.npy", {"element 0 is 18446744073709551615"}},
      {"float64_overflow.npy", {"element 1 is 1e+300", "float32"}},
      {"does_not_exist.npy", {"No such file or directory"}},
  };
  for (const auto& [name, parts] : cases) {
    SCOPED_TRACE(name);
    expect_error([&] { load_npy(kFixtures / name); }, {name});
    for (const std::string_view part : parts) expect_error([&] { load_npy(kFixtures / name); }, {part});
  }
  expect_error([&] { load_npy(kFixtures); }, {"Is a directory"});
}

TEST(Npy, EveryTruncationIsAnErrorNotACrash) {
  for (const std::string name : {"float32.npy", "version3.npy", "fortran_order.npy"}) {
    const std::string bytes = read_bytes(kFixtures / name);
    for (std::size_t size = 0; size < bytes.size(); ++size) {
      // A copy of exactly `size` bytes, so that AddressSanitizer catches any read past the end.
      const std::vector<char> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
      EXPECT_THROW(parse_npy(std::string_view(prefix.data(), prefix.size()), name), Error)
          << name << " " << size;
    }
  }
}

TEST(Npy, RejectsSavingAnEmptyTensor) {
  TemporaryFolder folder;
  expect_error([&] { save_npy(folder / "x.npy", Tensor()); }, {"x.npy", "empty Tensor()"});
  EXPECT_FALSE(fs::exists(folder / "x.npy"));
}

TEST(Npz, ReadsNpSavezAndSavezCompressedInArchiveOrder) {
  for (const auto& [archive, members] : expected().at("npz").items()) {
    SCOPED_TRACE(archive);
    const NamedTensors arrays = load_npz(kFixtures / archive);
    ASSERT_EQ(arrays.size(), members.size());
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      EXPECT_EQ(arrays[i].first, members[i].at("name").get<std::string>());
      expect_as_numpy(arrays[i].second, members[i]);
    }
  }
  EXPECT_EQ(load_npz(kFixtures / "weights.npz").front().first, "lstm/lstm_cell/kernel:0");
}

NamedTensors sample_arrays() {
  return {{"lstm/lstm_cell/kernel:0", Tensor({2, 3, 4}, 0.0f)},
          {"dense/bias:0", Tensor({0, 3})},
          {"step", Tensor(Shape{}, 12.0f)}};
}

NamedTensors sample_arrays_with_values() {
  NamedTensors arrays = sample_arrays();
  // As tests/io/check_numpy_reads.py expects: np.arange(24).reshape(2, 3, 4) * 0.25 - 3.
  float* kernel = arrays[0].second.data();
  for (int i = 0; i < 24; ++i) kernel[i] = static_cast<float>(i) * 0.25f - 3.0f;
  return arrays;
}

TEST(Npz, SaveThenLoadIsBitIdentical) {
  NamedTensors arrays = sample_arrays_with_values();
  arrays.emplace_back("odd", Tensor({3}, {-0.0f, std::numeric_limits<float>::quiet_NaN(), 1e-40f}));
  TemporaryFolder folder;
  for (const NpzCompression compression : {NpzCompression::kStored, NpzCompression::kDeflated}) {
    const fs::path path = folder / "weights.npz";
    save_npz(path, arrays, compression);  // the second pass replaces the first file
    const NamedTensors loaded = load_npz(path);
    ASSERT_EQ(loaded.size(), arrays.size());
    for (std::size_t i = 0; i < arrays.size(); ++i) {
      EXPECT_EQ(loaded[i].first, arrays[i].first);
      expect_identical(loaded[i].second, arrays[i].second);
    }
  }
  save_npz(folder / "empty.npz", {});
  EXPECT_TRUE(load_npz(folder / "empty.npz").empty());
  EXPECT_EQ(std::distance(fs::directory_iterator(folder.path()), fs::directory_iterator()), 2);
}

TEST(Npz, RejectsBadArchivesNamingTheArchiveAndMember) {
  const std::vector<std::pair<std::string, std::vector<std::string_view>>> cases = {
      {"not_a_zip.npz", {"zip"}},
      {"text_member.npz", {"member \"notes.txt\"", "not a .npy file"}},
      {"garbage_member.npz", {"member \"dense/kernel:0.npy\"", "magic"}},
      {"bad_crc.npz", {"member \"kernel.npy\"", "CRC"}},
      {"does_not_exist.npz", {"No such file"}},
  };
  for (const auto& [name, parts] : cases) {
    SCOPED_TRACE(name);
    expect_error([&] { load_npz(kFixtures / name); }, {name});
    for (const std::string_view part : parts) expect_error([&] { load_npz(kFixtures / name); }, {part});
  }
}

TEST(Npz, EveryTruncationIsAnErrorNotACrash) {
  TemporaryFolder folder;
  for (const std::string name : {"weights.npz", "compressed.npz"}) {
    const std::string bytes = read_bytes(kFixtures / name);
    for (std::size_t size = 0; size < bytes.size(); size += 37) {
      std::ofstream(folder / "cut.npz", std::ios::binary)
          .write(bytes.data(), static_cast<std::streamsize>(size));
      EXPECT_THROW(load_npz(folder / "cut.npz"), Error) << name << " cut to " << size << " bytes";
    }
  }
}

TEST(Npz, RejectsDuplicateOrEmptyNamesAndKeepsTheOldFile) {
  TemporaryFolder folder;
  const fs::path path = folder / "a.npz";
  save_npz(path, sample_arrays());
  const std::string before = read_bytes(path);
  expect_error(
      [&] {
        save_npz(path, {{"x", Tensor({1})}, {"x", Tensor({2})}});
      },
      {"a.npz", "two arrays are named \"x\""});
  expect_error([&] { save_npz(path, {{"", Tensor({1})}}); }, {"a.npz", "empty name"});
  expect_error([&] { save_npz(path, {{"x", Tensor()}}); }, {"a.npz", "\"x\"", "empty Tensor()"});
  EXPECT_EQ(read_bytes(path), before);
  EXPECT_EQ(std::distance(fs::directory_iterator(folder.path()), fs::directory_iterator()), 1);
}

TEST(Npz, SavedFilesLoadInNumpy) {
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "needs /usr/bin/python3 with numpy, to check that numpy reads rnnkit's files";
  }
  TemporaryFolder folder;
  const NamedTensors arrays = sample_arrays_with_values();
  save_npy(folder / "kernel.npy", arrays[0].second);
  save_npz(folder / "stored.npz", arrays);
  save_npz(folder / "deflated.npz", arrays, NpzCompression::kDeflated);
  save_npz(folder / "empty.npz", {});
  const std::string command = "/usr/bin/python3 '" + (kData / "io" / "check_numpy_reads.py").string() +
                              "' '" + folder.path().string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
}

}  // namespace
}  // namespace rnnkit
