// FloatAllocator: large tensor arrays are recycled by exact size instead of going back to the system.
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "rnnkit/tensor.h"

namespace rnnkit {
namespace {

// Arrays from this size up come from mmap in glibc and return to the system on free, so every training
// step would fault their pages in again; smaller ones are recycled well by malloc itself.
constexpr std::size_t kRecycledBytes = std::size_t{64} << 10;
// The most the cache keeps unused; beyond it, freed arrays go back to the system.
constexpr std::size_t kCacheCapacityBytes = std::size_t{1} << 30;
constexpr std::size_t kAlignment = 64;  // a cache line, and one AVX-512 vector

// Under AddressSanitizer, recycling would hide a use after free, so the cache is off there.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRecycle = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kRecycle = false;
#else
constexpr bool kRecycle = true;
#endif
#else
constexpr bool kRecycle = true;
#endif

// Freed arrays by byte size. Shared by all threads behind one lock: only large arrays come here, few per
// step, so the lock is never hot.
class ArrayCache {
 public:
  void* take(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    auto found = free_.find(bytes);
    if (found == free_.end() || found->second.empty()) return nullptr;
    void* array = found->second.back();
    found->second.pop_back();
    cached_bytes_ -= bytes;
    return array;
  }

  // Keeps the array for a later take(), or says no when the cache is full.
  bool keep(void* array, std::size_t bytes) noexcept {
    std::lock_guard lock(mutex_);
    if (cached_bytes_ + bytes > kCacheCapacityBytes) return false;
    try {
      free_[bytes].push_back(array);
    } catch (const std::bad_alloc&) {
      return false;  // no room for the bookkeeping: the array goes back to the system
    }
    cached_bytes_ += bytes;
    return true;
  }

 private:
  std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_bytes_ = 0;
};

// Never destroyed: tensors in static storage may be freed after any static destructor has run. What it
// holds stays reachable, so leak checkers do not report it.
ArrayCache& cache() {
  static ArrayCache* instance = new ArrayCache;
  return *instance;
}

std::size_t aligned_bytes(std::size_t count) {
  return (count * sizeof(float) + kAlignment - 1) / kAlignment * kAlignment;
}

}  // namespace

float* FloatAllocator::allocate(std::size_t count) {
  if (count > std::size_t(-1) / sizeof(float) - kAlignment) throw std::bad_alloc();
  const std::size_t bytes = aligned_bytes(count);
  void* array = kRecycle && bytes >= kRecycledBytes ? cache().take(bytes) : nullptr;
  if (array == nullptr) array = std::aligned_alloc(kAlignment, bytes);
  if (array == nullptr) throw std::bad_alloc();
  return static_cast<float*>(array);
}

void FloatAllocator::deallocate(float* values, std::size_t count) noexcept {
  const std::size_t bytes = aligned_bytes(count);
  if (kRecycle && bytes >= kRecycledBytes && cache().keep(values, bytes)) return;
  std::free(values);
}

}  // namespace rnnkit
