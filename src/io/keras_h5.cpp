#include "io/keras_h5.h"

#include <hdf5.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>

#include "io/compile_config.h"
#include "layers/initializers.h"
#include "rnnkit/error.h"
#include "rnnkit/layers/bidirectional.h"
#include "rnnkit/layers/conv1d.h"
#include "rnnkit/layers/gru.h"
#include "rnnkit/layers/lstm.h"
#include "rnnkit/layers/recurrent.h"
#include "rnnkit/layers/time_distributed.h"
#include "rnnkit/model_layer.h"

namespace rnnkit::h5 {
namespace {

using nlohmann::json;

// Limits that keep a corrupt file from making us allocate without bound.
constexpr std::uint64_t kMaxAttributeBytes = std::uint64_t{64} << 20;  // a string list attribute, in all
constexpr std::uint64_t kMaxStringItemBytes = std::uint64_t{16} << 20;
constexpr std::uint64_t kMaxAttributeItems = 10'000'000;
constexpr std::size_t kMaxGroupChildren = 1'000'000;

// The serial HDF5 library is not thread-safe: every use of it holds this lock. Recursive, because a reader
// and a writer may be open at once in one thread (convert).
std::recursive_mutex& library_lock() {
  static std::recursive_mutex lock;
  return lock;
}

// HDF5 prints its error stack to stderr by default; rnnkit reports errors itself.
void silence_library() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

herr_t collect_error(unsigned /*index*/, const H5E_error2_t* error, void* data) {
  auto* messages = static_cast<std::vector<std::string>*>(data);
  if (error != nullptr && error->desc != nullptr && error->desc[0] != '\0')
    messages->emplace_back(error->desc);
  return 0;
}

// The most specific message on HDF5's error stack, as " (HDF5: ...)", and clears the stack.
std::string library_reason() {
  std::vector<std::string> messages;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &messages);
  H5Eclear2(H5E_DEFAULT);
  if (messages.empty()) return "";
  return " (HDF5: " + messages.front() + ")";
}

// An HDF5 identifier that closes itself.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, H5I_INVALID_HID)), closer_(other.closer_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      closer_ = other.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports whether HDF5 succeeded (the destructor cannot).
  bool close() {
    if (id_ < 0) return true;
    const herr_t status = closer_(std::exchange(id_, H5I_INVALID_HID));
    return status >= 0;
  }

 private:
  void reset() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = H5I_INVALID_HID;
  }

  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

std::string quoted(const std::filesystem::path& path) {
  std::ostringstream text;
  text << path;
  return text.str();
}

// The components of an absolute path; each must be a plain name (no empty, "." or ".." parts, which HDF5
// would interpret rather than look up).
std::vector<std::string> split_path(const std::string& path, const std::string& where) {
  check(!path.empty() && path.front() == '/', where, ": internal error: path '", path, "' is not absolute");
  std::vector<std::string> parts;
  std::size_t start = 1;
  while (start <= path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(start, slash - start);
    if (!(part.empty() && slash == path.size())) {
      check(!part.empty() && part != "." && part != "..", where, ": path '", path,
            "' has an empty, '.' or '..' component");
      parts.push_back(std::move(part));
    }
    start = slash + 1;
  }
  return parts;
}

std::string type_class_name(H5T_class_t type_class) {
  switch (type_class) {
    case H5T_INTEGER:
      return "integer";
    case H5T_FLOAT:
      return "float";
    case H5T_STRING:
      return "string";
    case H5T_BITFIELD:
      return "bitfield";
    case H5T_OPAQUE:
      return "opaque";
    case H5T_COMPOUND:
      return "compound";
    case H5T_REFERENCE:
      return "reference";
    case H5T_ENUM:
      return "enum";
    case H5T_VLEN:
      return "variable-length sequence";
    case H5T_ARRAY:
      return "array";
    default:
      return "unknown";
  }
}

std::atomic<unsigned long> memory_file_counter{0};

// A name for a file HDF5 keeps in memory; it must differ from every other file open at the time.
std::string memory_file_name(const char* kind) {
  return std::string("rnnkit-") + kind + "-" + std::to_string(memory_file_counter.fetch_add(1)) + ".h5";
}

Handle file_access_properties() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  check(fapl.valid(), "cannot create HDF5 file access properties", library_reason());
  // Closing the file closes everything opened in it, so an error part way leaks nothing.
  H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG);
#if H5_VERSION_GE(1, 10, 7)
  // File locks fail on some file systems (NFS) and protect nothing here: we read or write whole files.
  H5Pset_file_locking(fapl.get(), false, true);
#endif
  return fapl;
}

void reclaim_strings(hid_t memory_type, hid_t space, std::vector<char*>& pointers) {
#if H5_VERSION_GE(1, 12, 0)
  H5Treclaim(memory_type, space, H5P_DEFAULT, pointers.data());
#else
  H5Dvlen_reclaim(memory_type, space, H5P_DEFAULT, pointers.data());
#endif
}

}  // namespace

bool has_signature(std::string_view bytes) {
  for (std::size_t offset = 0; offset + kSignature.size() <= bytes.size();
       offset = offset == 0 ? 512 : offset * 2)
    if (bytes.substr(offset, kSignature.size()) == kSignature) return true;
  return false;
}

// ---- Reader

struct Reader::Impl {
  std::unique_lock<std::recursive_mutex> lock{library_lock()};  // first: released last
  std::string what;
  Handle file;

  std::string where(const std::string& path) const { return what + ", object " + path; }

  // Checks that every component of `path` is a hard link and every one but the last a group.
  ObjectKind kind(const std::string& path) const {
    const std::vector<std::string> parts = split_path(path, where(path));
    std::string prefix;
    ObjectKind kind = ObjectKind::kGroup;  // the root
    for (std::size_t i = 0; i < parts.size(); ++i) {
      check(kind == ObjectKind::kGroup, where(prefix.empty() ? "/" : prefix),
            " is not a group, so it holds no '", parts[i], "' (looking for ", path, ")");
      prefix += "/" + parts[i];
      const htri_t exists = H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT);
      check(exists >= 0, where(prefix), ": cannot look it up", library_reason());
      if (exists == 0) return ObjectKind::kMissing;
      H5L_info_t info;
      check(H5Lget_info(file.get(), prefix.c_str(), &info, H5P_DEFAULT) >= 0, where(prefix),
            ": cannot read its link", library_reason());
      check(info.type == H5L_TYPE_HARD, where(prefix), ": is a ",
            info.type == H5L_TYPE_SOFT       ? "soft"
            : info.type == H5L_TYPE_EXTERNAL ? "external"
                                             : "user-defined",
            " link; rnnkit follows hard links only");
      Handle object(H5Oopen(file.get(), prefix.c_str(), H5P_DEFAULT), H5Oclose);
      check(object.valid(), where(prefix), ": cannot open it", library_reason());
      const H5I_type_t type = H5Iget_type(object.get());
      kind = type == H5I_GROUP     ? ObjectKind::kGroup
             : type == H5I_DATASET ? ObjectKind::kDataset
                                   : ObjectKind::kOther;
    }
    return kind;
  }

  Handle open_attribute(const std::string& object, const std::string& name) const {
    const ObjectKind object_kind = kind(object);
    check(object_kind != ObjectKind::kMissing, where(object), ": no such object (looking for its attribute '",
          name, "')");
    const htri_t exists = H5Aexists_by_name(file.get(), object.c_str(), name.c_str(), H5P_DEFAULT);
    check(exists >= 0, where(object), ": cannot look up attribute '", name, "'", library_reason());
    check(exists > 0, where(object), ": attribute '", name, "' is missing");
    Handle attribute(H5Aopen_by_name(file.get(), object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                     H5Aclose);
    check(attribute.valid(), where(object), ": cannot open attribute '", name, "'", library_reason());
    return attribute;
  }

  Handle open_dataset(const std::string& path) const {
    const ObjectKind found = kind(path);
    check(found != ObjectKind::kMissing, where(path), ": no such dataset");
    check(found == ObjectKind::kDataset, where(path), ": is a ",
          found == ObjectKind::kGroup ? "group" : "named datatype or other object", ", expected a dataset");
    Handle dataset(H5Dopen2(file.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
    check(dataset.valid(), where(path), ": cannot open the dataset", library_reason());
    return dataset;
  }

  Shape shape_of(hid_t dataset, const std::string& path) const {
    Handle space(H5Dget_space(dataset), H5Sclose);
    check(space.valid(), where(path), ": cannot read the dataset's shape", library_reason());
    const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
    check(space_class == H5S_SIMPLE || space_class == H5S_SCALAR, where(path),
          ": the dataset has no data (a null dataspace)");
    const int rank = H5Sget_simple_extent_ndims(space.get());
    check(rank >= 0 && rank <= H5S_MAX_RANK, where(path), ": cannot read the dataset's rank",
          library_reason());
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    if (rank > 0)
      check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) == rank, where(path),
            ": cannot read the dataset's shape", library_reason());
    Shape shape;
    for (const hsize_t extent : dims) {
      check(extent <= static_cast<hsize_t>(std::numeric_limits<std::int64_t>::max()), where(path),
            ": a dimension of the dataset is absurdly large (", extent, ")");
      shape.push_back(static_cast<std::int64_t>(extent));
    }
    return shape;
  }
};

Reader::Reader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Reader::Reader(Reader&&) noexcept = default;
Reader& Reader::operator=(Reader&&) noexcept = default;
Reader::~Reader() = default;

Reader Reader::open_file(const std::filesystem::path& path) {
  auto impl = std::make_unique<Impl>();
  impl->what = quoted(path);
  silence_library();
  const Handle fapl = file_access_properties();
  impl->file = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  check(impl->file.valid(), impl->what,
        ": cannot open it as an HDF5 file: it is truncated, corrupt or unreadable", library_reason());
  return Reader(std::move(impl));
}

Reader Reader::open_memory(std::string_view bytes, std::string what) {
  auto impl = std::make_unique<Impl>();
  impl->what = std::move(what);
  silence_library();
  check(bytes.size() >= kSignature.size() && has_signature(bytes), impl->what,
        ": not an HDF5 file: it does not start with the HDF5 signature \\x89HDF\\r\\n\\x1a\\n");
  const Handle fapl = file_access_properties();
  // The core driver reads from a copy of the bytes and never touches the disk.
  check(H5Pset_fapl_core(fapl.get(), 1 << 16, false) >= 0 &&
            H5Pset_file_image(fapl.get(), const_cast<char*>(bytes.data()), bytes.size()) >= 0,
        impl->what, ": cannot prepare an HDF5 file in memory", library_reason());
  impl->file = Handle(H5Fopen(memory_file_name("read").c_str(), H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  check(impl->file.valid(), impl->what, ": cannot open it as an HDF5 file: it is truncated or corrupt",
        library_reason());
  return Reader(std::move(impl));
}

const std::string& Reader::what() const {
  return impl_->what;
}

std::string Reader::where(const std::string& path) const {
  return impl_->where(path);
}

ObjectKind Reader::kind(const std::string& path) const {
  return impl_->kind(path);
}

std::vector<std::string> Reader::children(const std::string& group) const {
  check(kind(group) == ObjectKind::kGroup, where(group), ": expected a group");
  Handle handle(H5Gopen2(impl_->file.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
  check(handle.valid(), where(group), ": cannot open the group", library_reason());
  struct Collected {
    std::vector<std::string> names;
    bool too_many = false;
  } collected;
  const auto visit = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    auto* into = static_cast<Collected*>(data);
    if (into->names.size() >= kMaxGroupChildren) {
      into->too_many = true;
      return 1;
    }
    into->names.emplace_back(name);
    return 0;
  };
  hsize_t index = 0;
  check(H5Literate(handle.get(), H5_INDEX_NAME, H5_ITER_INC, &index, visit, &collected) >= 0, where(group),
        ": cannot list the group", library_reason());
  check(!collected.too_many, where(group), ": the group has more than ", kMaxGroupChildren, " members");
  return collected.names;
}

bool Reader::has_attribute(const std::string& object, const std::string& name) const {
  if (kind(object) == ObjectKind::kMissing) return false;
  const htri_t exists = H5Aexists_by_name(impl_->file.get(), object.c_str(), name.c_str(), H5P_DEFAULT);
  check(exists >= 0, where(object), ": cannot look up attribute '", name, "'", library_reason());
  return exists > 0;
}

std::vector<std::string> Reader::string_list_attribute(const std::string& object,
                                                       const std::string& name) const {
  const std::string at = where(object) + ", attribute '" + name + "'";
  const Handle attribute = impl_->open_attribute(object, name);
  const Handle type(H5Aget_type(attribute.get()), H5Tclose);
  const Handle space(H5Aget_space(attribute.get()), H5Sclose);
  check(type.valid() && space.valid(), at, ": cannot read its type", library_reason());
  const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
  if (space_class == H5S_NULL) return {};
  check(space_class == H5S_SIMPLE || space_class == H5S_SCALAR, at, ": cannot read its shape",
        library_reason());
  const int rank = H5Sget_simple_extent_ndims(space.get());
  check(rank == 0 || rank == 1, at, ": expected a list of strings, found a ", rank, "-D array");
  const hssize_t points = H5Sget_simple_extent_npoints(space.get());
  check(points >= 0, at, ": cannot read its size", library_reason());
  const auto count = static_cast<std::uint64_t>(points);
  const H5T_class_t type_class = H5Tget_class(type.get());
  if (type_class != H5T_STRING) {
    // Keras writes an empty list as np.asarray([]): float64 of shape (0,).
    check(count == 0, at, ": expected a list of strings, found ", type_class_name(type_class), " values");
    return {};
  }
  check(count <= kMaxAttributeItems, at, ": ", count, " strings are more than any Keras file holds");
  std::vector<std::string> values;
  values.reserve(static_cast<std::size_t>(count));
  const htri_t variable = H5Tis_variable_str(type.get());
  check(variable >= 0, at, ": cannot read its string type", library_reason());
  const H5T_cset_t cset = H5Tget_cset(type.get());
  if (variable > 0) {
    Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
    check(memory_type.valid() && H5Tset_size(memory_type.get(), H5T_VARIABLE) >= 0 &&
              H5Tset_cset(memory_type.get(), cset) >= 0,
          at, ": cannot prepare to read it", library_reason());
    std::vector<char*> pointers(static_cast<std::size_t>(count), nullptr);
    if (count > 0 && H5Aread(attribute.get(), memory_type.get(), pointers.data()) < 0) {
      // A read that fails part way may have allocated some strings already.
      const std::string reason = library_reason();
      reclaim_strings(memory_type.get(), space.get(), pointers);
      H5Eclear2(H5E_DEFAULT);
      fail(at, ": cannot read it", reason);
    }
    std::uint64_t total = 0;
    for (const char* pointer : pointers) {
      const std::size_t length = pointer == nullptr ? 0 : std::strlen(pointer);
      total += length;
      if (total > kMaxAttributeBytes) break;
      values.emplace_back(pointer == nullptr ? "" : pointer, length);
    }
    if (count > 0) reclaim_strings(memory_type.get(), space.get(), pointers);
    check(total <= kMaxAttributeBytes, at, ": its strings hold more than ", kMaxAttributeBytes, " bytes");
    return values;
  }
  const std::size_t item_size = H5Tget_size(type.get());
  check(item_size > 0 && item_size <= kMaxStringItemBytes, at, ": string size ", item_size,
        " is not plausible");
  check(count * item_size <= kMaxAttributeBytes, at, ": its strings hold more than ", kMaxAttributeBytes,
        " bytes");
  Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
  check(memory_type.valid() && H5Tset_size(memory_type.get(), item_size) >= 0 &&
            H5Tset_strpad(memory_type.get(), H5T_STR_NULLPAD) >= 0 &&
            H5Tset_cset(memory_type.get(), cset) >= 0,
        at, ": cannot prepare to read it", library_reason());
  std::string buffer(static_cast<std::size_t>(count) * item_size, '\0');
  if (count > 0) {
    check(H5Aread(attribute.get(), memory_type.get(), buffer.data()) >= 0, at, ": cannot read it",
          library_reason());
  }
  const H5T_str_t padding = H5Tget_strpad(type.get());
  for (std::size_t i = 0; i < count; ++i) {
    std::string_view item(buffer.data() + i * item_size, item_size);
    item = item.substr(0, std::min(item.find('\0'), item.size()));
    if (padding == H5T_STR_SPACEPAD) item = item.substr(0, item.find_last_not_of(' ') + 1);
    values.emplace_back(item);
  }
  return values;
}

std::string Reader::string_attribute(const std::string& object, const std::string& name) const {
  std::vector<std::string> values = string_list_attribute(object, name);
  check(values.size() == 1, where(object), ", attribute '", name, "': expected one string, found ",
        values.size());
  return std::move(values.front());
}

Shape Reader::dataset_shape(const std::string& path) const {
  const Handle dataset = impl_->open_dataset(path);
  return impl_->shape_of(dataset.get(), path);
}

Tensor Reader::dataset(const std::string& path, std::int64_t max_elements) const {
  const Handle dataset = impl_->open_dataset(path);
  const Handle type(H5Dget_type(dataset.get()), H5Tclose);
  check(type.valid(), where(path), ": cannot read the dataset's dtype", library_reason());
  const H5T_class_t type_class = H5Tget_class(type.get());
  const std::size_t size = H5Tget_size(type.get());
  check(type_class == H5T_FLOAT && (size == 2 || size == 4 || size == 8), where(path), ": dtype is ",
        type_class_name(type_class), " of ", size,
        " bytes; Keras weights are float (float32, or float16/64)");
  const Shape shape = impl_->shape_of(dataset.get(), path);
  std::uint64_t count = 1;
  for (const std::int64_t extent : shape) {
    const auto dim = static_cast<std::uint64_t>(extent);
    check(dim == 0 || count <= static_cast<std::uint64_t>(max_elements) / dim, where(path), ": shape ",
          shape_string(shape), " holds more values than the layer's weights can (at most ", max_elements,
          ")");
    count *= dim;
  }
  check(count <= static_cast<std::uint64_t>(max_elements), where(path), ": shape ", shape_string(shape),
        " holds more values than the layer's weights can (at most ", max_elements, ")");
  Tensor tensor(shape);
  if (count > 0) {
    check(H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, tensor.data()) >= 0,
          where(path), ": cannot read the dataset: the file is truncated or corrupt", library_reason());
  }
  return tensor;
}

std::int64_t Reader::integer_scalar(const std::string& path) const {
  const Handle dataset = impl_->open_dataset(path);
  const Handle type(H5Dget_type(dataset.get()), H5Tclose);
  check(type.valid(), where(path), ": cannot read the dataset's dtype", library_reason());
  const H5T_class_t type_class = H5Tget_class(type.get());
  check(type_class == H5T_INTEGER || type_class == H5T_FLOAT, where(path), ": dtype is ",
        type_class_name(type_class), ", expected an integer");
  const Shape shape = impl_->shape_of(dataset.get(), path);
  check(shape.empty() || (shape.size() == 1 && shape[0] == 1), where(path), ": shape ", shape_string(shape),
        ", expected a scalar");
  if (type_class == H5T_FLOAT) {
    double whole = 0.0;
    check(H5Dread(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &whole) >= 0, where(path),
          ": cannot read the dataset: the file is truncated or corrupt", library_reason());
    check(std::isfinite(whole) && whole == std::floor(whole) && std::abs(whole) < 0x1p62, where(path),
          ": holds ", whole, ", expected a whole number");
    return static_cast<std::int64_t>(whole);
  }
  std::int64_t value = 0;
  check(H5Dread(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) >= 0, where(path),
        ": cannot read the dataset: the file is truncated or corrupt", library_reason());
  return value;
}

std::string Reader::bytes_dataset(const std::string& path, std::uint64_t max_bytes) const {
  const Handle dataset = impl_->open_dataset(path);
  const Handle type(H5Dget_type(dataset.get()), H5Tclose);
  check(type.valid(), where(path), ": cannot read the dataset's dtype", library_reason());
  const H5T_class_t type_class = H5Tget_class(type.get());
  check(type_class == H5T_INTEGER && H5Tget_size(type.get()) == 1, where(path), ": dtype is ",
        type_class_name(type_class), " of ", H5Tget_size(type.get()), " bytes, expected bytes (uint8)");
  const Shape shape = impl_->shape_of(dataset.get(), path);
  check(shape.size() == 1, where(path), ": shape ", shape_string(shape), ", expected a 1-D array of bytes");
  check(static_cast<std::uint64_t>(shape[0]) <= max_bytes, where(path), ": ", shape[0],
        " bytes are more than rnnkit reads (", max_bytes, ")");
  std::string bytes(static_cast<std::size_t>(shape[0]), '\0');
  if (!bytes.empty()) {
    check(H5Dread(dataset.get(), H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) >= 0,
          where(path), ": cannot read the dataset: the file is truncated or corrupt", library_reason());
  }
  return bytes;
}

// ---- Writer

struct Writer::Impl {
  std::unique_lock<std::recursive_mutex> lock{library_lock()};  // first: released last
  std::string what;
  bool in_memory = false;
  Handle links;  // link creation properties: create missing groups on the way
  Handle file;

  std::string where(const std::string& path) const { return "cannot write " + what + ", object " + path; }
};

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  impl_->links = Handle(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  check(impl_->links.valid() && H5Pset_create_intermediate_group(impl_->links.get(), 1) >= 0, "cannot write ",
        impl_->what, ": cannot create HDF5 link properties", library_reason());
}
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;
Writer::~Writer() = default;

Writer Writer::create_file(const std::filesystem::path& path, std::string what) {
  auto impl = std::make_unique<Impl>();
  impl->what = std::move(what);
  silence_library();
  const Handle fapl = file_access_properties();
  impl->file = Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  check(impl->file.valid(), "cannot write ", impl->what, ": cannot create the HDF5 file ", quoted(path),
        library_reason());
  return Writer(std::move(impl));
}

Writer Writer::create_memory(std::string what) {
  auto impl = std::make_unique<Impl>();
  impl->what = std::move(what);
  impl->in_memory = true;
  silence_library();
  const Handle fapl = file_access_properties();
  check(H5Pset_fapl_core(fapl.get(), 1 << 20, false) >= 0, "cannot write ", impl->what,
        ": cannot prepare an HDF5 file in memory", library_reason());
  impl->file =
      Handle(H5Fcreate(memory_file_name("write").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), H5Fclose);
  check(impl->file.valid(), "cannot write ", impl->what, ": cannot create an HDF5 file in memory",
        library_reason());
  return Writer(std::move(impl));
}

void Writer::group(const std::string& path) {
  Handle group(H5Gcreate2(impl_->file.get(), path.c_str(), impl_->links.get(), H5P_DEFAULT, H5P_DEFAULT),
               H5Gclose);
  check(group.valid(), impl_->where(path), ": cannot create the group", library_reason());
}

namespace {

void write_attribute(hid_t file, const std::string& object, const std::string& name, hid_t type, hid_t space,
                     const void* data, const std::string& where) {
  Handle attribute(H5Acreate_by_name(file, object.c_str(), name.c_str(), type, space, H5P_DEFAULT,
                                     H5P_DEFAULT, H5P_DEFAULT),
                   H5Aclose);
  check(attribute.valid(), where, ": cannot create attribute '", name, "'", library_reason());
  if (data != nullptr) {
    check(H5Awrite(attribute.get(), type, data) >= 0, where, ": cannot write attribute '", name, "'",
          library_reason());
  }
  check(attribute.close(), where, ": cannot write attribute '", name, "'", library_reason());
}

Handle variable_string_type(StringKind kind, const std::string& where) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  check(type.valid() && H5Tset_size(type.get(), H5T_VARIABLE) >= 0 &&
            H5Tset_cset(type.get(), kind == StringKind::kUtf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII) >= 0 &&
            H5Tset_strpad(type.get(), H5T_STR_NULLTERM) >= 0,
        where, ": cannot create a string type", library_reason());
  return type;
}

}  // namespace

void Writer::string_attribute(const std::string& object, const std::string& name, const std::string& value,
                              StringKind kind) {
  const std::string at = impl_->where(object);
  const Handle type = variable_string_type(kind, at);
  const Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  const char* pointer = value.c_str();
  write_attribute(impl_->file.get(), object, name, type.get(), space.get(), &pointer, at);
}

void Writer::string_list_attribute(const std::string& object, const std::string& name,
                                   const std::vector<std::string>& values) {
  const std::string at = impl_->where(object);
  const Handle type = variable_string_type(StringKind::kAscii, at);
  const hsize_t count = values.size();
  const Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  std::vector<const char*> pointers;
  for (const std::string& value : values) pointers.push_back(value.c_str());
  write_attribute(impl_->file.get(), object, name, type.get(), space.get(), pointers.data(), at);
}

void Writer::fixed_string_list_attribute(const std::string& object, const std::string& name,
                                         const std::vector<std::string>& values, std::size_t item_size) {
  const std::string at = impl_->where(object);
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  check(type.valid() && H5Tset_size(type.get(), std::max<std::size_t>(item_size, 1)) >= 0 &&
            H5Tset_strpad(type.get(), H5T_STR_NULLPAD) >= 0 && H5Tset_cset(type.get(), H5T_CSET_ASCII) >= 0,
        at, ": cannot create a string type", library_reason());
  std::string buffer(values.size() * std::max<std::size_t>(item_size, 1), '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    check(values[i].size() <= item_size, at, ": string '", values[i], "' is longer than ", item_size,
          " bytes");
    std::copy(values[i].begin(), values[i].end(),
              buffer.begin() + static_cast<std::ptrdiff_t>(i * item_size));
  }
  const hsize_t count = values.size();
  const Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  write_attribute(impl_->file.get(), object, name, type.get(), space.get(), buffer.data(), at);
}

void Writer::empty_list_attribute(const std::string& object, const std::string& name) {
  const hsize_t count = 0;
  const Handle space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  write_attribute(impl_->file.get(), object, name, H5T_IEEE_F64LE, space.get(), nullptr,
                  impl_->where(object));
}

void Writer::dataset(const std::string& path, const Tensor& values) {
  const std::string at = impl_->where(path);
  std::vector<hsize_t> dims;
  for (const std::int64_t extent : values.shape()) {
    check(extent >= 0, at, ": shape ", shape_string(values.shape()), " has an unknown dimension");
    dims.push_back(static_cast<hsize_t>(extent));
  }
  const Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                                  : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                     H5Sclose);
  check(space.valid(), at, ": cannot create the dataspace", library_reason());
  Handle dataset(H5Dcreate2(impl_->file.get(), path.c_str(), H5T_IEEE_F32LE, space.get(), impl_->links.get(),
                            H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose);
  check(dataset.valid(), at, ": cannot create the dataset", library_reason());
  if (values.size() > 0) {
    check(H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0, at,
          ": cannot write the dataset", library_reason());
  }
  check(dataset.close(), at, ": cannot write the dataset", library_reason());
}

namespace {

void write_dataset(hid_t file, hid_t links, const std::string& path, const std::vector<hsize_t>& dims,
                   hid_t file_type, hid_t memory_type, const void* data, const std::string& at) {
  const Handle space(dims.empty() ? H5Screate(H5S_SCALAR)
                                  : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr),
                     H5Sclose);
  check(space.valid(), at, ": cannot create the dataspace", library_reason());
  Handle dataset(H5Dcreate2(file, path.c_str(), file_type, space.get(), links, H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose);
  check(dataset.valid(), at, ": cannot create the dataset", library_reason());
  if (data != nullptr) {
    check(H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0, at,
          ": cannot write the dataset", library_reason());
  }
  check(dataset.close(), at, ": cannot write the dataset", library_reason());
}

}  // namespace

void Writer::integer_scalar(const std::string& path, std::int64_t value) {
  write_dataset(impl_->file.get(), impl_->links.get(), path, {}, H5T_STD_I64LE, H5T_NATIVE_INT64, &value,
                impl_->where(path));
}

void Writer::bytes_dataset(const std::string& path, std::string_view bytes) {
  write_dataset(impl_->file.get(), impl_->links.get(), path, {static_cast<hsize_t>(bytes.size())},
                H5T_STD_U8LE, H5T_NATIVE_UCHAR, bytes.empty() ? nullptr : bytes.data(), impl_->where(path));
}

std::string Writer::close_to_bytes() {
  check(impl_->in_memory, "cannot write ", impl_->what, ": internal error: not a file in memory");
  check(H5Fflush(impl_->file.get(), H5F_SCOPE_GLOBAL) >= 0, "cannot write ", impl_->what, library_reason());
  const ssize_t size = H5Fget_file_image(impl_->file.get(), nullptr, 0);
  check(size > 0, "cannot write ", impl_->what, ": cannot get the file image", library_reason());
  std::string bytes(static_cast<std::size_t>(size), '\0');
  check(H5Fget_file_image(impl_->file.get(), bytes.data(), bytes.size()) == size, "cannot write ",
        impl_->what, ": cannot get the file image", library_reason());
  check(impl_->file.close(), "cannot write ", impl_->what, ": cannot close the HDF5 file", library_reason());
  return bytes;
}

void Writer::close() {
  check(impl_->file.close(), "cannot write ", impl_->what, ": cannot close the HDF5 file", library_reason());
}

std::string python_json(const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      std::string text = "{";
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        text += first ? "" : ", ";
        first = false;
        text += json(key).dump(-1, ' ', true) + ": " + python_json(item);
      }
      return text + "}";
    }
    case json::value_t::array: {
      std::string text = "[";
      for (std::size_t i = 0; i < value.size(); ++i) text += (i ? ", " : "") + python_json(value[i]);
      return text + "]";
    }
    default:
      return value.dump(-1, ' ', true);
  }
}

}  // namespace rnnkit::h5

namespace rnnkit::keras2 {
namespace {

using nlohmann::json;

// Keras's HDF5_OBJECT_HEADER_LIMIT: save_attributes_to_hdf5_group splits a list attribute into name0,
// name1, ... once np.asarray(list) would take more bytes than this.
constexpr std::size_t kObjectHeaderLimit = 64512;

std::string join(const std::string& group, const std::string& name) {
  return group == "/" ? "/" + name : group + "/" + name;
}

// Keras's save_attributes_to_hdf5_group: the list as one attribute (h5py stores a list of bytes as
// variable-length ASCII strings), or, when its numpy 'S' array is too big for an object header, as chunks
// name0, name1, ... of fixed-length strings split as np.array_split does.
void write_list_attribute(h5::Writer& file, const std::string& object, const std::string& name,
                          const std::vector<std::string>& values) {
  if (values.empty()) return file.empty_list_attribute(object, name);
  std::size_t item_size = 1;
  for (const std::string& value : values) {
    check(value.size() <= kObjectHeaderLimit, "cannot save attribute '", name, "': '", value.substr(0, 80),
          "...' is longer than ", kObjectHeaderLimit, " bytes");
    item_size = std::max(item_size, value.size());
  }
  const std::size_t count = values.size();
  std::size_t chunks = 1;
  // np.array_split gives the first (count % chunks) chunks one item more than the others.
  while (((count + chunks - 1) / chunks) * item_size > kObjectHeaderLimit) ++chunks;
  if (chunks == 1) return file.string_list_attribute(object, name, values);
  std::size_t begin = 0;
  for (std::size_t chunk = 0; chunk < chunks; ++chunk) {
    const std::size_t size = count / chunks + (chunk < count % chunks ? 1 : 0);
    const std::vector<std::string> part(values.begin() + static_cast<std::ptrdiff_t>(begin),
                                        values.begin() + static_cast<std::ptrdiff_t>(begin + size));
    file.fixed_string_list_attribute(object, name + std::to_string(chunk), part, item_size);
    begin += size;
  }
}

// Keras's load_attributes_from_hdf5_group: name, or name0, name1, ... ; absent means an empty list.
std::vector<std::string> read_list_attribute(const h5::Reader& file, const std::string& object,
                                             const std::string& name) {
  if (file.has_attribute(object, name)) return file.string_list_attribute(object, name);
  std::vector<std::string> values;
  for (int chunk = 0; file.has_attribute(object, name + std::to_string(chunk)); ++chunk) {
    check(chunk < 100000, file.where(object), ": too many chunks of attribute '", name, "'");
    for (std::string& value : file.string_list_attribute(object, name + std::to_string(chunk)))
      values.push_back(std::move(value));
  }
  return values;
}

// Checks a name that Keras uses as a path inside a group: plain components separated by '/'.
void check_relative_name(const std::string& name, const std::string& where, const char* what) {
  bool ok = !name.empty() && name.front() != '/';
  std::size_t start = 0;
  while (ok && start <= name.size()) {
    std::size_t slash = name.find('/', start);
    if (slash == std::string::npos) slash = name.size();
    const std::string_view part(name.data() + start, slash - start);
    ok = !part.empty() && part != "." && part != "..";
    start = slash + 1;
  }
  check(ok, where, ": ", what, " '", name,
        "' is not a valid name (empty, absolute, or with '.' or '..' parts)");
}

void check_expressible(const json& value, const std::string& where) {
  if (value.is_array()) {
    for (const json& item : value) check_expressible(item, where);
    return;
  }
  if (!value.is_object()) return;
  for (const auto& [key, item] : value.items()) {
    const bool activation = key == "activation" || key == "recurrent_activation";
    const std::string name =
        value.contains("name") && value["name"].is_string() ? value["name"].get<std::string>() : "?";
    if (activation && item == "hard_sigmoid_keras3")
      fail(where, ": layer '", name, "' uses Keras 3's hard_sigmoid (x/6 + 0.5) as its ", key,
           ", which Keras 2's 'hard_sigmoid' (0.2x + 0.5) is not: save it as .keras instead");
    if (activation && item == "gelu_approximate")
      fail(where, ": layer '", name, "' uses gelu's tanh approximation as its ", key,
           ", which no Keras config can name (Keras's 'gelu' is the exact form)");
    check_expressible(item, where);
  }
}

// Keras 3 writes {"module": ..., "class_name": ..., "config": ..., "registered_name": ...}; Keras 2 reads the
// same objects without module and registered_name.
json without_keras3_wrappers(const json& value) {
  if (value.is_array()) {
    json result = json::array();
    for (const json& item : value) result.push_back(without_keras3_wrappers(item));
    return result;
  }
  if (!value.is_object()) return value;
  json result = json::object();
  const bool wrapper = value.contains("class_name") && value.contains("config");
  for (const auto& [key, item] : value.items()) {
    if (wrapper && (key == "module" || key == "registered_name" || key == "build_config")) continue;
    result[key] = without_keras3_wrappers(item);
  }
  return result;
}

json shape_json(const Shape& shape) {
  json result = json::array();
  for (const std::int64_t extent : shape) result.push_back(extent == kNone ? json(nullptr) : json(extent));
  return result;
}

// ---- Weights of older Keras: preprocess_weights_for_loading and _convert_rnn_weights

Tensor concat_last_axis(const std::vector<const Tensor*>& parts) {
  Shape shape = parts.front()->shape();
  const std::int64_t rows =
      shape.empty() ? 1 : parts.front()->size() / std::max<std::int64_t>(shape.back(), 1);
  std::int64_t width = 0;
  for (const Tensor* part : parts) {
    check(part->rank() == parts.front()->rank() && part->rank() >= 1 &&
              (part->rank() == 1 || part->size() / std::max<std::int64_t>(part->dim(-1), 1) == rows),
          "Keras 1 per-gate weights of different shapes: ", shape_string(parts.front()->shape()), " and ",
          shape_string(part->shape()));
    width += part->dim(-1);
  }
  shape.back() = width;
  Tensor result(shape);
  std::int64_t offset = 0;
  for (const Tensor* part : parts) {
    const std::int64_t part_width = part->dim(-1);
    for (std::int64_t r = 0; r < rows; ++r)
      std::copy_n(part->data() + r * part_width, part_width, result.data() + r * width + offset);
    offset += part_width;
  }
  return result;
}

// cuDNN stores each gate's input kernel as a (U,F) row-major matrix in the bytes of an (F,U) array; Keras's
// transform_kernels(transpose_input(from_cudnn=True)) turns each gate block k into k.T.reshape(k.shape, 'F').
Tensor cudnn_input_kernel(const Tensor& kernel, int gates) {
  const std::int64_t features = kernel.dim(0), units = kernel.dim(1) / gates, width = kernel.dim(1);
  Tensor result(kernel.shape());
  std::vector<float> block(static_cast<std::size_t>(features * units));
  for (int g = 0; g < gates; ++g) {
    for (std::int64_t f = 0; f < features; ++f)  // the gate's block, C order
      for (std::int64_t u = 0; u < units; ++u)
        block[static_cast<std::size_t>(f * units + u)] = kernel[f * width + g * units + u];
    for (std::int64_t f = 0; f < features; ++f)
      for (std::int64_t u = 0; u < units; ++u)
        result[f * width + g * units + u] = block[static_cast<std::size_t>(u * features + f)];
  }
  return result;
}

// Each gate's (U,U) recurrent block transposed.
Tensor cudnn_recurrent_kernel(const Tensor& kernel, int gates) {
  const std::int64_t units = kernel.dim(0), width = kernel.dim(1);
  Tensor result(kernel.shape());
  for (int g = 0; g < gates; ++g)
    for (std::int64_t i = 0; i < units; ++i)
      for (std::int64_t j = 0; j < units; ++j)
        result[i * width + g * units + j] = kernel[j * width + g * units + i];
  return result;
}

std::vector<Tensor> preprocess(const Layer& layer, std::vector<Tensor> arrays) {
  if (const auto* bidirectional = dynamic_cast<const Bidirectional*>(&layer)) {
    const std::size_t half = arrays.size() / 2;
    std::vector<Tensor> forward =
        preprocess(bidirectional->forward_layer(),
                   std::vector<Tensor>(arrays.begin(), arrays.begin() + static_cast<std::ptrdiff_t>(half)));
    std::vector<Tensor> backward =
        preprocess(bidirectional->backward_layer(),
                   std::vector<Tensor>(arrays.begin() + static_cast<std::ptrdiff_t>(half), arrays.end()));
    for (Tensor& tensor : backward) forward.push_back(std::move(tensor));
    return forward;
  }
  if (const auto* distributed = dynamic_cast<const TimeDistributed*>(&layer))
    return preprocess(distributed->layer(), std::move(arrays));
  // Keras 1 kept a Convolution1D kernel as a 2-D one: (K, 1, C, F), or in Keras 1.0's order (F, C, K, 1).
  const auto* conv = dynamic_cast<const Conv1D*>(&layer);
  if (conv && !arrays.empty() && arrays[0].rank() == 4) {
    const Tensor& old = arrays[0];
    const std::int64_t k = conv->kernel_size(), f = conv->filters();
    if (old.dim(0) == k && old.dim(1) == 1 && old.dim(3) == f) {
      arrays[0] = old.reshaped({k, old.dim(2), f});
    } else {
      check(old.dim(0) == f && old.dim(2) == k && old.dim(3) == 1, "layer '", layer.name(),
            "' (Conv1D): a Keras 1 kernel of shape ", shape_string(old.shape()), " fits neither (", k,
            ", 1, C, ", f, ") nor (", f, ", C, ", k, ", 1)");
      const std::int64_t c = old.dim(1);
      Tensor kernel({k, c, f});
      for (std::int64_t fi = 0; fi < f; ++fi)
        for (std::int64_t ci = 0; ci < c; ++ci)
          for (std::int64_t ki = 0; ki < k; ++ki)
            kernel[(ki * c + ci) * f + fi] = old[(fi * c + ci) * k + ki];
      arrays[0] = std::move(kernel);
    }
    return arrays;
  }
  const bool lstm = dynamic_cast<const LSTM*>(&layer) != nullptr;
  const auto* gru = dynamic_cast<const GRU*>(&layer);
  // Keras 1 kept one kernel, recurrent kernel and bias per gate: LSTM in the order i, c, f, o; GRU z, r, h.
  if (lstm && arrays.size() == 12) {
    const auto pick = [&](int a, int b, int c, int d) {
      return concat_last_axis({&arrays[a], &arrays[b], &arrays[c], &arrays[d]});
    };
    return {pick(0, 6, 3, 9), pick(1, 7, 4, 10), pick(2, 8, 5, 11)};
  }
  if (gru && arrays.size() == 9) {
    const auto pick = [&](int a, int b, int c) {
      return concat_last_axis({&arrays[a], &arrays[b], &arrays[c]});
    };
    return {pick(0, 3, 6), pick(1, 4, 7), pick(2, 5, 8)};
  }
  // CuDNNLSTM / CuDNNGRU, told apart by the bias shape as Keras does: two bias sets, per-gate layouts.
  if ((lstm || gru) && arrays.size() == 3 && arrays[1].rank() == 2 && arrays[0].rank() == 2 &&
      arrays[2].rank() == 1) {
    const int gates = lstm ? 4 : 3;
    const std::int64_t units = arrays[1].dim(0);
    const bool shapes_fit = arrays[1].dim(1) == gates * units && arrays[0].dim(1) == gates * units;
    if (shapes_fit && arrays[2].dim(0) == 2 * gates * units) {
      check(lstm || gru->options().reset_after, "CuDNNGRU weights need GRU(reset_after=True); layer '",
            layer.name(), "' has reset_after=False");
      Tensor kernel = cudnn_input_kernel(arrays[0], gates);
      Tensor recurrent = cudnn_recurrent_kernel(arrays[1], gates);
      Tensor bias;
      if (lstm) {  // the input and recurrent biases summed
        bias = Tensor({gates * units});
        for (std::int64_t i = 0; i < gates * units; ++i)
          bias[i] = arrays[2][i] + arrays[2][gates * units + i];
      } else {  // reshaped to (2, 3U): input row, recurrent row
        bias = arrays[2].reshaped({2, gates * units});
      }
      return {std::move(kernel), std::move(recurrent), std::move(bias)};
    }
  }
  return arrays;
}

// ---- Configs of older Keras

std::pair<int, int> major_minor(std::string_view version) {
  int major = -1, minor = -1;
  std::size_t i = 0;
  const auto number = [&]() {
    int value = -1;
    while (i < version.size() && version[i] >= '0' && version[i] <= '9' && value < 100000)
      value = std::max(value, 0) * 10 + (version[i++] - '0');
    return value;
  };
  major = number();
  if (i < version.size() && version[i] == '.') {
    ++i;
    minor = number();
  }
  return {major, minor};
}

void rename_key(json& config, const char* from, const char* to) {
  if (!config.contains(from)) return;
  if (!config.contains(to)) config[to] = config[from];
  config.erase(from);
}

// Keras 1 initializer names that Keras 2 renamed.
void upgrade_initializer(json& config, const char* key) {
  if (!config.contains(key) || !config[key].is_string()) return;
  static const std::map<std::string, std::string> renamed{
      {"zero", "zeros"}, {"one", "ones"}, {"normal", "random_normal"}, {"uniform", "random_uniform"}};
  const auto found = renamed.find(config[key].get<std::string>());
  if (found != renamed.end()) config[key] = found->second;
}

// Keras 2.0-2.1's VarianceScaling(distribution="normal") drew from a normal of standard deviation
// sqrt(scale/n) cut at two of them; from 2.2 on (and in tf.keras and Keras 3) "normal" divides that by
// 0.8796, the standard deviation of the cut standard normal, to keep the variance scale/n. The same draw in
// the later meaning has `scale` times 0.8796². (TF 1.x's own VarianceScaling, which tf.keras "2.1.6-tf"
// wrote, already divided.)
void upgrade_variance_scaling(json& config) {
  if (config.is_array())
    for (json& item : config) upgrade_variance_scaling(item);
  if (!config.is_object()) return;
  for (auto& [key, item] : config.items()) {
    if (!key.ends_with("_initializer") || !item.is_object() ||
        item.value("class_name", json()) != "VarianceScaling" || !item.contains("config") ||
        !item["config"].is_object()) {
      upgrade_variance_scaling(item);
      continue;
    }
    json& options = item["config"];
    const json distribution = options.value("distribution", json("normal"));  // 2.0-2.1's default
    if (distribution != "normal") continue;
    const double truncated_std = 0.87962566103423978;
    const json scale = options.value("scale", json(1.0));
    if (scale.is_number()) options["scale"] = scale.get<double>() * truncated_std * truncated_std;
  }
}

void upgrade_layer(json& layer, const std::pair<int, int>& version, bool nested);

// `nested`: a layer inside a wrapper (TimeDistributed, Bidirectional), whose input shape is the wrapper's.
void upgrade_layer_config(const std::string& class_name, json& config, const std::pair<int, int>& version,
                          bool nested) {
  const bool recurrent = class_name == "SimpleRNN" || class_name == "LSTM" || class_name == "GRU";
  // Keras 1 arguments, as keras.legacy.interfaces converted them.
  if (class_name == "Dense" || recurrent) {
    rename_key(config, "output_dim", "units");
    rename_key(config, "init", "kernel_initializer");
    rename_key(config, "W_regularizer", "kernel_regularizer");
    rename_key(config, "b_regularizer", "bias_regularizer");
    rename_key(config, "W_constraint", "kernel_constraint");
    rename_key(config, "b_constraint", "bias_constraint");
    rename_key(config, "bias", "use_bias");
    upgrade_initializer(config, "kernel_initializer");
  }
  if (recurrent) {
    rename_key(config, "inner_init", "recurrent_initializer");
    rename_key(config, "inner_activation", "recurrent_activation");
    rename_key(config, "U_regularizer", "recurrent_regularizer");
    rename_key(config, "U_constraint", "recurrent_constraint");
    rename_key(config, "dropout_W", "dropout");
    rename_key(config, "dropout_U", "recurrent_dropout");
    config.erase("consume_less");
    upgrade_initializer(config, "recurrent_initializer");
    if (config.contains("forget_bias_init")) {
      const json init = config["forget_bias_init"];
      config.erase("forget_bias_init");
      if (!config.contains("unit_forget_bias")) config["unit_forget_bias"] = init == "one" || init == "ones";
    }
  }
  if (class_name == "Dense" && config.contains("input_dim")) {
    if (!nested && !config.contains("batch_input_shape") && !config["input_dim"].is_null())
      config["batch_input_shape"] = json::array({nullptr, config["input_dim"]});
    config.erase("input_dim");
  }
  if (class_name == "Embedding") {
    rename_key(config, "init", "embeddings_initializer");
    rename_key(config, "W_regularizer", "embeddings_regularizer");
    rename_key(config, "W_constraint", "embeddings_constraint");
    upgrade_initializer(config, "embeddings_initializer");
    config.erase("dropout");  // Keras 1's embedding dropout: training only
  }
  if (class_name == "Dropout" || class_name == "SpatialDropout1D") rename_key(config, "p", "rate");
  // Keras 1 BatchNormalization: its weights (running_std holds the variance) load as they are.
  if (class_name == "BatchNormalization") {
    rename_key(config, "beta_init", "beta_initializer");
    rename_key(config, "gamma_init", "gamma_initializer");
    upgrade_initializer(config, "beta_initializer");
    upgrade_initializer(config, "gamma_initializer");
  }
  if (class_name == "Conv1D") {  // Keras 1's Convolution1D, as keras.legacy.interfaces converted it
    rename_key(config, "nb_filter", "filters");
    rename_key(config, "filter_length", "kernel_size");
    rename_key(config, "subsample_length", "strides");
    rename_key(config, "border_mode", "padding");
    rename_key(config, "init", "kernel_initializer");
    rename_key(config, "W_regularizer", "kernel_regularizer");
    rename_key(config, "b_regularizer", "bias_regularizer");
    rename_key(config, "W_constraint", "kernel_constraint");
    rename_key(config, "b_constraint", "bias_constraint");
    rename_key(config, "bias", "use_bias");
    upgrade_initializer(config, "kernel_initializer");
    if (config.contains("input_dim")) {
      if (!nested && !config.contains("batch_input_shape") && !config["input_dim"].is_null())
        config["batch_input_shape"] =
            json::array({nullptr, config.value("input_length", json()), config["input_dim"]});
      config.erase("input_dim");
      config.erase("input_length");
    }
  }
  if (class_name == "MaxPooling1D" || class_name == "AveragePooling1D") {
    rename_key(config, "pool_length", "pool_size");
    rename_key(config, "stride", "strides");
    rename_key(config, "border_mode", "padding");
  }
  // Keras 1.x and 2.0-2.2 defaults that tf.keras 2 changed, for keys an old config may lack.
  const bool before_2_3 =
      version.first >= 0 && (version.first < 2 || (version.first == 2 && version.second < 3));
  if (before_2_3 && (class_name == "LSTM" || class_name == "GRU") && !config.contains("recurrent_activation"))
    config["recurrent_activation"] = "hard_sigmoid";
  if (before_2_3 && class_name == "GRU" && !config.contains("reset_after")) config["reset_after"] = false;
  if (config.contains("layer") && config["layer"].is_object()) upgrade_layer(config["layer"], version, true);
}

void upgrade_layer(json& layer, const std::pair<int, int>& version, bool nested) {
  if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string() ||
      !layer.contains("config") || !layer["config"].is_object())
    return;
  std::string class_name = layer["class_name"].get<std::string>();
  json& config = layer["config"];
  if (class_name == "Sequential" || class_name == "Functional" || class_name == "Model") {  // a nested model
    if (config.contains("layers") && config["layers"].is_array())
      for (json& inner : config["layers"]) upgrade_layer(inner, version, false);
    return;
  }
  // Keras 2's GPU-only layers load as the layers Keras converts their weights to.
  if (class_name == "CuDNNLSTM" || class_name == "CuDNNGRU") {
    const bool is_lstm = class_name == "CuDNNLSTM";
    class_name = is_lstm ? "LSTM" : "GRU";
    layer["class_name"] = class_name;
    config["activation"] = "tanh";
    config["recurrent_activation"] = "sigmoid";
    config["use_bias"] = true;
    if (!is_lstm) config["reset_after"] = true;
  }
  if (class_name == "Convolution1D") {
    class_name = "Conv1D";
    layer["class_name"] = class_name;
  }
  // Keras 1's TimeDistributedDense: a Dense applied at every timestep, with the same two weights as
  // TimeDistributed(Dense).
  if (class_name == "TimeDistributedDense") {
    json dense = config;
    json wrapper = {{"name", config.value("name", json("time_distributed_dense"))},
                    {"trainable", config.value("trainable", json(true))}};
    if (config.contains("batch_input_shape")) wrapper["batch_input_shape"] = config["batch_input_shape"];
    for (const char* key : {"batch_input_shape", "input_dim", "input_length", "input_dtype"})
      dense.erase(key);
    wrapper["layer"] = {{"class_name", "Dense"}, {"config", dense}};
    class_name = "TimeDistributed";
    layer["class_name"] = class_name;
    layer["config"] = wrapper;
  }
  upgrade_layer_config(class_name, layer["config"], version, nested);
}

// The order hdf5_format keeps a layer's weights in, as positions in params(): _legacy_weights, the trainable
// weights then the others. Only a nested model can differ from params() (model.weights order): its inner
// layers' trainable weights come first.
std::vector<std::size_t> weights_order(const Layer& layer) {
  const std::vector<const Param*> params = layer.params();
  std::vector<std::size_t> order;
  const auto* nested = dynamic_cast<const ModelLayer*>(&layer);
  std::set<const Param*> trainable;
  if (nested != nullptr)
    for (const auto& inner : nested->model().layers())
      for (const Param* param : inner->trainable_params()) trainable.insert(param);
  for (std::size_t i = 0; i < params.size(); ++i)
    if (nested == nullptr || trainable.contains(params[i])) order.push_back(i);
  for (std::size_t i = 0; i < params.size(); ++i)
    if (nested != nullptr && !trainable.contains(params[i])) order.push_back(i);
  return order;
}

// Sets the model's weights; `source` names the file for errors.
void set_layer_weights(Layer& layer, std::vector<Tensor> arrays, const std::string& where,
                       const std::vector<std::string>& paths) {
  const std::vector<Param*> params = layer.params();
  if (arrays.size() == params.size() && paths.size() == arrays.size()) {
    for (std::size_t i = 0; i < arrays.size(); ++i)
      check(arrays[i].shape() == params[i]->value.shape(), paths[i], ": shape ",
            shape_string(arrays[i].shape()), ", but weight '", params[i]->name, "' of layer '", layer.name(),
            "' (", layer.class_name(), ") has shape ", shape_string(params[i]->value.shape()));
  }
  try {
    layer.set_weights(arrays);
  } catch (const Error& error) {
    fail(where, ": ", error.what());
  }
}

}  // namespace

json model_config(const Model& model) {
  const std::string where = "cannot save model '" + model.name() + "' in Keras 2 format";
  json full = initializers_for_era(without_keras3_wrappers(model.config()), KerasEra::tf_keras2);
  check_expressible(full, where);
  if (!model.is_sequential()) return {{"class_name", "Functional"}, {"config", full.at("config")}};
  json config = full.at("config");
  json& layers = config["layers"];
  const bool has_input_layer =
      !layers.empty() && layers[0].value("class_name", std::string()) == "InputLayer";
  if (!has_input_layer && !layers.empty() && layers[0].at("config").contains("batch_input_shape")) {
    // tf.keras's Sequential.get_config lists the InputLayer that add() made for the first layer's input
    // shape, named after that layer.
    const json& first = layers[0].at("config");
    json input{{"class_name", "InputLayer"},
               {"config",
                {{"batch_input_shape", first.at("batch_input_shape")},
                 {"dtype", "float32"},
                 {"sparse", false},
                 {"ragged", false},
                 {"name", first.value("name", std::string("input")) + "_input"}}}};
    layers.insert(layers.begin(), input);
  } else if (!has_input_layer && model.built()) {
    config["build_input_shape"] = shape_json(model.input_shape());
  }
  return {{"class_name", "Sequential"}, {"config", config}};
}

void write(h5::Writer& file, const Model& model, const json* model_config) {
  const std::string version(kWrittenVersion);
  std::string group = "/";
  if (model_config != nullptr) {
    // save_model_to_hdf5: model_metadata's str values as h5py stores str, the config as
    // json.dumps().encode().
    file.string_attribute("/", "keras_version", version, h5::StringKind::kUtf8);
    file.string_attribute("/", "backend", "tensorflow", h5::StringKind::kUtf8);
    file.string_attribute("/", "model_config", h5::python_json(*model_config), h5::StringKind::kAscii);
    group = "/model_weights";
    file.group(group);
  }
  // save_weights_to_hdf5_group
  std::vector<std::string> layer_names;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < model.size(); ++i) {
    layer_names.push_back(model.layer(i).name());
    order.push_back(i);
  }
  write_list_attribute(file, group, "layer_names", layer_names);
  file.string_attribute(group, "backend", "tensorflow", h5::StringKind::kAscii);
  file.string_attribute(group, "keras_version", version, h5::StringKind::kAscii);
  // Keras creates the layer groups in name order.
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return model.layer(a).name() < model.layer(b).name(); });
  for (const std::size_t index : order) {
    const Layer& layer = model.layer(index);
    const std::string layer_group = join(group, layer.name());
    check_relative_name(layer.name(), "cannot save model '" + model.name() + "'", "layer name");
    file.group(layer_group);
    const std::vector<std::string> all_names = layer.weight_names();
    const std::vector<Tensor> values = layer.get_weights();
    const std::vector<std::size_t> weights = weights_order(layer);
    std::vector<std::string> names;
    for (const std::size_t k : weights) names.push_back(all_names[k]);
    write_list_attribute(file, layer_group, "weight_names", names);
    for (std::size_t k = 0; k < names.size(); ++k) {
      check_relative_name(names[k], "cannot save model '" + model.name() + "'", "weight name");
      file.dataset(join(layer_group, names[k]), values[weights[k]]);
    }
  }
  // A Sequential has no weights of its own, but tf.keras >= 2.5 always writes the group.
  file.group(join(group, "top_level_model_weights"));
  file.empty_list_attribute(join(group, "top_level_model_weights"), "weight_names");
}

bool is_weights_group(const h5::Reader& file, const std::string& group) {
  return file.has_attribute(group, "layer_names") || file.has_attribute(group, "layer_names0");
}

json read_model_config(const h5::Reader& file) {
  const std::string text = file.string_attribute("/", "model_config");
  json config;
  try {
    config = json::parse(text);
  } catch (const json::exception& error) {
    fail(file.where("/"), ", attribute 'model_config': not valid JSON: ", error.what());
  }
  check(config.is_object(), file.where("/"), ", attribute 'model_config': expected a JSON object");
  if (!config.contains("keras_version")) {
    config["keras_version"] = file.has_attribute("/", "keras_version")
                                  ? file.string_attribute("/", "keras_version")
                                  : std::string("1");
  }
  return config;
}

json upgrade_legacy_config(const json& model, std::string_view keras_version) {
  json upgraded = model;
  const std::pair<int, int> version = major_minor(keras_version);
  if (!upgraded.is_object() || !upgraded.contains("config")) return upgraded;
  json& config = upgraded["config"];
  json* layers = config.is_array()                                 ? &config
                 : config.is_object() && config.contains("layers") ? &config["layers"]
                                                                   : nullptr;
  if (layers != nullptr && layers->is_array())
    for (json& layer : *layers) upgrade_layer(layer, version, false);
  const bool tf_keras = keras_version.find("-tf") != std::string_view::npos;
  if (version.first == 2 && version.second >= 0 && version.second < 2 && !tf_keras)
    upgrade_variance_scaling(config);
  return upgraded;
}

void load_weights(const h5::Reader& file, const std::string& group, Model& model) {
  const std::string where = file.where(group);
  check(file.kind(group) == h5::ObjectKind::kGroup, where, ": expected the group of a Keras weights file");
  struct SavedLayer {
    std::string name;
    std::string path;
    std::vector<std::string> weight_names;
  };
  std::vector<SavedLayer> saved;
  std::string saved_list;
  for (const std::string& name : read_list_attribute(file, group, "layer_names")) {
    check_relative_name(name, where + ", attribute 'layer_names'", "layer name");
    const std::string path = join(group, name);
    const h5::ObjectKind kind = file.kind(path);
    check(kind == h5::ObjectKind::kGroup, file.where(path), ": layer '", name,
          "' is listed in layer_names but ",
          kind == h5::ObjectKind::kMissing ? "has no group" : "is not a group");
    std::vector<std::string> weight_names = read_list_attribute(file, path, "weight_names");
    if (weight_names.empty()) continue;
    saved_list += (saved_list.empty() ? "" : ", ") + name;
    saved.push_back({name, path, std::move(weight_names)});
  }
  // Keras saves a model that was never built with no weights at all, and loads it unbuilt.
  if (saved.empty() && !model.built()) return;
  check(model.built(), where, ": model '", model.name(),
        "' is not built, so its weight shapes are unknown: give it an input shape first");
  std::vector<std::size_t> with_weights;
  std::string model_list;
  for (std::size_t i = 0; i < model.size(); ++i) {
    if (model.layer(i).params().empty()) continue;
    with_weights.push_back(i);
    model_list += (model_list.empty() ? "" : ", ") + model.layer(i).name();
  }
  check(saved.size() == with_weights.size(), where, ": the file has weights for ", saved.size(), " layers (",
        saved_list, "), model '", model.name(), "' has ", with_weights.size(), " layers with weights (",
        model_list, ")");
  // Keras matches the layers by their order; where the file names every layer of the model, the names
  // match them whatever order the Keras that wrote it listed a Functional model's layers in.
  std::map<std::string, std::size_t> by_name;
  for (const std::size_t index : with_weights) by_name.emplace(model.layer(index).name(), index);
  const bool named =
      std::ranges::all_of(saved, [&](const SavedLayer& layer) { return by_name.contains(layer.name); });
  if (named && by_name.size() == saved.size())
    for (std::size_t k = 0; k < saved.size(); ++k) with_weights[k] = by_name.at(saved[k].name);
  for (std::size_t k = 0; k < saved.size(); ++k) {
    Layer& layer = model.layer(with_weights[k]);
    const std::int64_t max_elements = 2 * layer.count_params() + 64;
    std::vector<Tensor> arrays;
    std::vector<std::string> paths;
    for (const std::string& weight_name : saved[k].weight_names) {
      check_relative_name(weight_name, file.where(saved[k].path) + ", attribute 'weight_names'",
                          "weight name");
      const std::string path = join(saved[k].path, weight_name);
      arrays.push_back(file.dataset(path, max_elements));
      paths.push_back(file.where(path));
    }
    const std::size_t saved_count = arrays.size();
    std::vector<Tensor> converted;
    try {
      converted = preprocess(layer, std::move(arrays));
    } catch (const Error& error) {
      fail(file.where(saved[k].path), ": ", error.what());
    }
    const std::size_t expected = layer.params().size();
    if (converted.size() != expected) {
      std::string names;
      for (const std::string& name : saved[k].weight_names) names += (names.empty() ? "" : ", ") + name;
      fail(file.where(saved[k].path), ": layer '", saved[k].name, "' has ", saved_count,
           " weights in the file (", names, "), layer '", layer.name(), "' (", layer.class_name(),
           ") of the model expects ", expected);
    }
    const std::vector<std::size_t> order = weights_order(layer);
    std::vector<Tensor> ordered(expected);
    std::vector<std::string> ordered_paths(saved_count == expected ? expected : 0);
    for (std::size_t i = 0; i < expected; ++i) {
      ordered[order[i]] = std::move(converted[i]);
      if (!ordered_paths.empty()) ordered_paths[order[i]] = paths[i];
    }
    set_layer_weights(layer, std::move(ordered), file.where(saved[k].path), ordered_paths);
  }
}

}  // namespace rnnkit::keras2

namespace rnnkit::keras2 {
namespace {

constexpr const char* kOptimizerWeights = "/optimizer_weights";

// tf.keras 2.11's slot names, where they differ from Keras 3's.
std::string keras2_slot_name(const std::string& optimizer, const std::string& slot) {
  if (optimizer == "Adam" && slot == "momentum") return "m";
  if (optimizer == "Adam" && slot == "velocity") return "v";
  if (optimizer == "Adam" && slot == "velocity_hat") return "vhat";
  if (optimizer == "SGD" && slot == "momentum") return "m";
  return slot;
}

std::string without_suffix(const std::string& weight_name) {
  return weight_name.ends_with(":0") ? weight_name.substr(0, weight_name.size() - 2) : weight_name;
}

}  // namespace

void write_training_state(h5::Writer& file, const Model& model) {
  if (!model.compiled()) return;
  const Optimizer& optimizer = model.optimizer();
  const json training_config = {
      {"loss", compile_config::model_loss_json(model, compile_config::Dialect::kKeras2)},
      {"metrics", compile_config::model_metrics_json(model, compile_config::Dialect::kKeras2)},
      {"weighted_metrics", compile_config::model_metrics_json(model, compile_config::Dialect::kKeras2, true)},
      {"loss_weights", compile_config::model_loss_weights_json(model)},
      {"optimizer_config", compile_config::optimizer_json(optimizer, compile_config::Dialect::kKeras2)}};
  file.string_attribute("/", "training_config", h5::python_json(training_config), h5::StringKind::kAscii);
  // save_optimizer_weights_to_hdf5_group: optimizer.variables, iteration first (it always exists).
  const std::vector<std::string> weights = compile_config::trainable_weight_names(model);
  std::vector<std::string> names{"iteration:0"};
  std::map<std::string, std::size_t> seen;  // per slot: the next param it belongs to
  const auto variables = optimizer.keras3_variables();
  for (const auto& [slot, tensor] : variables) {
    const std::size_t param = seen[slot]++;
    check(param < weights.size(), "cannot save model '", model.name(), "': optimizer slot '", slot,
          "' has more tensors than the model has trainable weights (", weights.size(), ")");
    names.push_back(optimizer.name() + "/" + keras2_slot_name(optimizer.name(), slot) + "/" +
                    without_suffix(weights[param]) + ":0");
  }
  file.group(kOptimizerWeights);
  write_list_attribute(file, kOptimizerWeights, "weight_names", names);
  file.integer_scalar(join(kOptimizerWeights, names[0]), optimizer.iterations());
  for (std::size_t i = 0; i < variables.size(); ++i)
    file.dataset(join(kOptimizerWeights, names[i + 1]), *variables[i].second);
}

namespace {

// The Keras 1 / Keras 2.0-2.3 optimizers' own slot lists, in the order get_updates() made them, under the
// names of rnnkit's slots (Keras 3's). A list rnnkit's optimizer lacks is one Keras kept but never read with
// those options: Adam's vhats without amsgrad, SGD's moments without momentum.
std::vector<std::string> standalone_keras_slot_lists(const std::string& optimizer) {
  if (optimizer == "Adam") return {"momentum", "velocity", "velocity_hat"};
  if (optimizer == "RMSprop") return {"velocity"};
  if (optimizer == "SGD") return {"momentum"};
  if (optimizer == "Adagrad") return {"accumulator"};
  return {};
}

// The optimizer_weights group of any Keras that wrote one, read into `optimizer` (built for `shapes`):
//   tf.keras >= 2.11        "iteration:0", then Keras 3's optimizer.variables order ("Adam/m/<weight>:0",
//   ...) Keras 3's legacy .h5    "adam/iteration", "adam/learning_rate" (no schedule), then that same order
//   tf.keras 2.0-2.10       optimizer_v2: "Adam/iter:0", then each slot for every weight in turn
//   Keras 1, Keras 2.0-2.3  the step count when the optimizer kept one ("Adam/iterations:0", "Variable:0"),
//                           then each of the optimizer's own slot lists whole ("training/Adam/Variable_3:0")
// Anything else, or a count or shape that does not fit, is an Error naming the file and the object.
void read_optimizer_weights(const h5::Reader& file, const std::vector<std::string>& names,
                            Optimizer& optimizer, const std::vector<Shape>& shapes,
                            const std::string& model_name) {
  const std::string group_where = file.where(kOptimizerWeights);
  const auto path = [](const std::string& name) { return join(kOptimizerWeights, name); };
  std::size_t next = 0;
  const bool keras3_order = names[0] == "iteration:0" || names[0].ends_with("/iteration");
  const bool optimizer_v2 = names[0].ends_with("/iter:0");
  std::int64_t iterations = 0;
  if (file.dataset_shape(path(names[0])).empty()) {
    iterations = file.integer_scalar(path(names[0]));
    check(iterations >= 0, file.where(path(names[0])), ": a negative step count, ", iterations);
    ++next;
  }
  if (next < names.size() && names[next].ends_with("/learning_rate") &&
      file.dataset_shape(path(names[next])).empty())
    ++next;  // Keras 3 saves the learning rate the config already gives
  const std::size_t stored = names.size() - next;
  if (stored > 0) {
    std::vector<Tensor*> targets;  // rnnkit's slot tensors, in the file's order; nullptr: a list to skip
    std::size_t lists = optimizer.slots().size();
    if (!keras3_order && !optimizer_v2) {
      check(!shapes.empty() && stored % shapes.size() == 0, group_where, ": holds ", stored,
            " slot tensors, which are not whole lists for the ", shapes.size(),
            " trainable weights of model '", model_name, "'");
      lists = stored / shapes.size();
    }
    check(stored == lists * shapes.size(), group_where, ": holds ", names.size(),
          " optimizer weights, but optimizer ", optimizer.name(), " of model '", model_name, "' has ",
          next + lists * shapes.size(), " (", next == 0 ? "" : "the step count and ", lists,
          " slot(s) for each of its ", shapes.size(), " trainable weights)");
    optimizer.build(shapes);
    if (keras3_order) {
      for (const auto& [slot, tensor] : optimizer.keras3_variables()) targets.push_back(tensor);
    } else if (optimizer_v2) {
      for (const auto& [slot, list] : optimizer.slots())
        for (Tensor& tensor : *list) targets.push_back(&tensor);
    } else {
      const std::vector<std::string> saved_lists = standalone_keras_slot_lists(optimizer.name());
      check(lists <= saved_lists.size(), group_where, ": holds ", lists, " slot lists, more than Keras's ",
            optimizer.name(), " keeps (", saved_lists.size(), ")");
      const auto rnnkit_slots = optimizer.slots();
      for (const auto& [slot, list] : rnnkit_slots)
        check(std::find(saved_lists.begin(), saved_lists.begin() + static_cast<std::ptrdiff_t>(lists),
                        slot) != saved_lists.begin() + static_cast<std::ptrdiff_t>(lists),
              group_where, ": has no '", slot, "' slot list, which optimizer ", optimizer.name(), " needs");
      for (std::size_t l = 0; l < lists; ++l) {
        const auto found = std::find_if(rnnkit_slots.begin(), rnnkit_slots.end(),
                                        [&](const auto& entry) { return entry.first == saved_lists[l]; });
        for (std::size_t w = 0; w < shapes.size(); ++w)
          targets.push_back(found == rnnkit_slots.end() ? nullptr : &(*found->second)[w]);
      }
    }
    // Read everything first: a failure part-way leaves the optimizer as the caller gave it back.
    std::vector<Tensor> values(targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) {
      if (targets[i] == nullptr) continue;
      const std::string object = path(names[next + i]);
      values[i] = file.dataset(object, 2 * targets[i]->size() + 64);
      check(values[i].shape() == targets[i]->shape(), file.where(object), ": shape ",
            shape_string(values[i].shape()), ", but optimizer ", optimizer.name(), " keeps shape ",
            shape_string(targets[i]->shape()), " there (trainable weight ", i % shapes.size(), ")");
    }
    for (std::size_t i = 0; i < targets.size(); ++i)
      if (targets[i] != nullptr) *targets[i] = std::move(values[i]);
  }
  optimizer.set_iterations(iterations);
}

}  // namespace

compile_config::TrainingState compile_from_file(const h5::Reader& file, Model& model) {
  compile_config::TrainingState state;
  if (!file.has_attribute("/", "training_config")) return state;
  const std::string where = file.where("/") + ", attribute 'training_config'";
  json config;
  try {
    config = json::parse(file.string_attribute("/", "training_config"));
    check(config.is_object() && config.contains("optimizer_config"), where,
          ": expected a JSON object with an optimizer_config");
  } catch (const json::exception& error) {
    state.dropped.push_back(where + ": not valid JSON: " + error.what() + "; the model loads uncompiled");
    return state;
  } catch (const Error& error) {
    state.dropped.push_back(std::string(error.what()) + "; the model loads uncompiled");
    return state;
  }
  const auto compile = [&] {
    return compile_config::compile_model(model, config.value("loss", json()), config.value("metrics", json()),
                                         config.value("weighted_metrics", json()), config["optimizer_config"],
                                         where, config.value("loss_weights", json()));
  };
  try {
    state.dropped_metrics = compile();
  } catch (const Error& error) {
    state.dropped.push_back(std::string(error.what()) + "; the model loads uncompiled");
    return state;
  }
  if (file.kind(kOptimizerWeights) == h5::ObjectKind::kMissing) return state;
  try {
    const std::string group_where = file.where(kOptimizerWeights);
    check(file.kind(kOptimizerWeights) == h5::ObjectKind::kGroup, group_where, ": expected a group");
    const std::vector<std::string> names = read_list_attribute(file, kOptimizerWeights, "weight_names");
    for (const std::string& name : names)
      check_relative_name(name, group_where + ", attribute 'weight_names'", "weight name");
    if (!names.empty())
      read_optimizer_weights(file, names, model.optimizer(), compile_config::trainable_weight_shapes(model),
                             model.name());
  } catch (const Error& error) {
    compile();  // a fresh optimizer, as Keras starts one when it cannot load the saved state
    state.dropped.push_back(std::string("the optimizer state: ") + error.what() +
                            "; training starts with a fresh optimizer");
  }
  return state;
}

}  // namespace rnnkit::keras2
