// A caching CPU allocator for large tensors.
// Why: under Node, glibc malloc hands back fresh pages for each large aligned allocation after a
// free instead of reusing the freed block (measured: RSS grew by one tensor per disposed tensor,
// ~1.5 MB per step of a tiny U-Net), and every fresh page costs a page fault. Training repeats the
// same tensor sizes every step, so exact-size reuse of freed blocks keeps memory flat and skips
// the faults. Blocks come from mmap so that evicting one really returns it to the OS.
#include "common.h"

#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

namespace medseg {
namespace {

constexpr size_t kLarge = 64 * 1024;  // below this, plain malloc (its small-size bins reuse well)
constexpr size_t kPage = 4096;
constexpr size_t kHuge = 2 * 1024 * 1024;
// MEDSEG_NO_HUGEPAGES=1: plain 4 KiB pages (the control for the huge-page measurements).
const bool kUseHugePages = std::getenv("MEDSEG_NO_HUGEPAGES") == nullptr;

// Fresh pages for a block. Blocks of 2 MiB and more are 2 MiB-aligned and asked to be backed by
// transparent huge pages (where the kernel's THP mode is "madvise", the default on Debian): one
// fault per 2 MiB instead of per 4 KiB, and fewer TLB misses in the conv kernels that stream them.
void* mapBlock(size_t size) {
  if (size < kHuge || !kUseHugePages) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }
  // Over-map by 2 MiB, then unmap the unaligned head and the tail beyond the block.
  const size_t span = size + kHuge;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHuge - 1) & ~(uintptr_t(kHuge) - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t end = start + span, blockEnd = aligned + size;
  if (end > blockEnd) munmap(reinterpret_cast<void*>(blockEnd), end - blockEnd);
  void* p = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
  madvise(p, size, MADV_HUGEPAGE);
#endif
  return p;
}

// A block of `size` bytes made from an evicted cached block of `oldSize` bytes, keeping its
// resident pages: a miss that must evict anyway (the cache is at its cap) then faults in only the
// part the old block lacks, not the whole new block. Shrinking drops the tail in place; growing
// moves the old pages (page tables only, no copy) to the start of a fresh 2 MiB-aligned block,
// so huge pages stay huge. Returns nullptr when the kernel refuses (the old block is then gone).
void* resizeBlock(void* old, size_t oldSize, size_t size) {
  if (size <= oldSize) {
    if (size < oldSize) munmap(static_cast<char*>(old) + size, oldSize - size);
    return old;
  }
  void* target = mapBlock(size);
  if (!target) {
    munmap(old, oldSize);
    return nullptr;
  }
  void* p = mremap(old, oldSize, size, MREMAP_MAYMOVE | MREMAP_FIXED, target);
  if (p == MAP_FAILED) {
    munmap(old, oldSize);
    return target;
  }
#ifdef MADV_HUGEPAGE
  if (size >= kHuge && kUseHugePages) madvise(p, size, MADV_HUGEPAGE);
#endif
  return p;
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  CachingCpuAllocator() = default;

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  c10::DataPtr allocate(size_t n) override { return alloc(n); }
  void copy_data(void* dest, const void* src, std::size_t count) const override { std::memcpy(dest, src, count); }
#else
  c10::DataPtr allocate(size_t n) const override { return const_cast<CachingCpuAllocator*>(this)->alloc(n); }
#endif

  // oneDNN (ideep) allocates through raw_allocate/raw_deallocate, which need data == context.
  c10::DeleterFnPtr raw_deleter() const override { return &CachingCpuAllocator::giveBack; }

  size_t cachedBytes() {
    std::lock_guard<std::mutex> g(mu_);
    return cached_;
  }

  size_t maps() {
    std::lock_guard<std::mutex> g(mu_);
    return maps_;
  }

  void emptyCache() {
    std::lock_guard<std::mutex> g(mu_);
    for (auto& kv : free_)
      for (const Cached& c : kv.second) munmap(c.ptr, kv.first);
    free_.clear();
    cached_ = 0;
  }

  void setLimit(size_t bytes) {
    std::lock_guard<std::mutex> g(mu_);
    limit_ = bytes;
  }

  static CachingCpuAllocator* instance;

 private:
  c10::DataPtr alloc(size_t n) {
    c10::Device cpu(c10::DeviceType::CPU);
    if (n < kLarge) {
      void* p = nullptr;
      if (posix_memalign(&p, 64, std::max<size_t>(n, 1)) != 0) throw std::bad_alloc();
      if (junk_) std::memset(p, 0xff, n);
      return c10::DataPtr(p, p, &CachingCpuAllocator::giveBack, cpu);
    }
    size_t size = (n + kPage - 1) / kPage * kPage;
    void* p = nullptr;
    void* recycle = nullptr;  // an evicted block whose resident pages the new block takes over
    size_t recycleSize = 0;
    {
      std::lock_guard<std::mutex> g(mu_);
      // The smallest cached block that fits within 1.5× the request (the exact size when cached):
      // its pages are resident already, so reuse costs no faults.
      auto it = free_.lower_bound(size);
      if (it != free_.end() && it->first <= size + size / 2) {
        p = it->second.back().ptr;  // the most recently freed: its pages are warmest
        it->second.pop_back();
        size = it->first;
        cached_ -= size;
        if (it->second.empty()) free_.erase(it);
      } else {
        // A miss. Keep live + cached within 1.2× the peak of live memory seen so far: give back
        // the blocks freed longest ago until the new block fits under that high-water mark.
        const size_t cap = peak_live_ + peak_live_ / 5;
        // Of the evicted blocks, the one with the most pages the new block can use is recycled.
        while (cached_ > 0 && live_bytes_ + cached_ + size > cap) {
          size_t evictedSize = 0;
          void* evicted = takeOldest(&evictedSize).ptr;
          if (std::min(evictedSize, size) > std::min(recycleSize, size)) {
            std::swap(evicted, recycle);
            std::swap(evictedSize, recycleSize);
          }
          if (evicted) munmap(evicted, evictedSize);
        }
        ++maps_;
        if (debug_) fprintf(stderr, "medseg alloc miss %zu live %zu cached %zu peak %zu\n", size, live_bytes_, cached_, peak_live_);
      }
      live_bytes_ += size;
      peak_live_ = std::max(peak_live_, live_bytes_);
    }
    if (!p && recycle) p = resizeBlock(recycle, recycleSize, size);
    if (!p) {
      p = mapBlock(size);
      if (!p) {
        emptyCache();
        p = mapBlock(size);
        if (!p) throw std::bad_alloc();
      }
    }
    {
      std::lock_guard<std::mutex> g(mu_);
      live_[p] = size;
    }
    // MEDSEG_ALLOC_JUNK=1 fills every new block with NaN bytes: a kernel that reads memory it
    // never wrote then shows up as NaN (a debugging aid; fresh pages would hide it as zeros).
    if (junk_) std::memset(p, 0xff, size);
    return c10::DataPtr(p, p, &CachingCpuAllocator::giveBack, cpu);
  }

  static void giveBack(void* p) {
    if (!p) return;
    CachingCpuAllocator* self = instance;
    std::lock_guard<std::mutex> g(self->mu_);
    auto it = self->live_.find(p);
    if (it == self->live_.end()) {
      std::free(p);  // a small block from posix_memalign
      return;
    }
    const size_t size = it->second;
    self->live_.erase(it);
    self->live_bytes_ -= size;
    if (self->cached_ + size > self->limit_) {
      munmap(p, size);
      return;
    }
    self->free_[size].push_back({p, ++self->tick_});
    self->cached_ += size;
  }

  std::mutex mu_;
  std::unordered_map<void*, size_t> live_;
  struct Cached {
    void* ptr;
    uint64_t freedAt;
  };

  // Removes the cached block freed longest ago from the cache (each class's vector is in free
  // order) and returns it with its size; the caller unmaps or reuses it.
  Cached takeOldest(size_t* size) {
    auto oldest = free_.end();
    for (auto it = free_.begin(); it != free_.end(); ++it) {
      if (it->second.empty()) continue;
      if (oldest == free_.end() || it->second.front().freedAt < oldest->second.front().freedAt) oldest = it;
    }
    Cached c = oldest->second.front();
    *size = oldest->first;
    oldest->second.erase(oldest->second.begin());
    cached_ -= oldest->first;
    if (oldest->second.empty()) free_.erase(oldest);
    return c;
  }

  std::map<size_t, std::vector<Cached>> free_;
  bool debug_ = std::getenv("MEDSEG_ALLOC_DEBUG") != nullptr;
  bool junk_ = std::getenv("MEDSEG_ALLOC_JUNK") != nullptr;
  size_t live_bytes_ = 0;
  size_t peak_live_ = 0;
  uint64_t tick_ = 0;
  size_t cached_ = 0;
  size_t maps_ = 0;
  size_t limit_ = size_t(4) << 30;
};

CachingCpuAllocator* CachingCpuAllocator::instance = nullptr;

}  // namespace

void installCachingAllocator() {
  if (CachingCpuAllocator::instance) return;
  // Never destroyed: tensors may outlive the addon's environment at process exit.
  CachingCpuAllocator::instance = new CachingCpuAllocator();
  c10::SetCPUAllocator(CachingCpuAllocator::instance, /*priority=*/100);
}

size_t cachedAllocatorBytes() { return CachingCpuAllocator::instance ? CachingCpuAllocator::instance->cachedBytes() : 0; }

size_t allocatorMaps() { return CachingCpuAllocator::instance ? CachingCpuAllocator::instance->maps() : 0; }

void emptyAllocatorCache() {
  if (CachingCpuAllocator::instance) CachingCpuAllocator::instance->emptyCache();
}

void setAllocatorCacheLimit(size_t bytes) {
  if (CachingCpuAllocator::instance) CachingCpuAllocator::instance->setLimit(bytes);
}

}  // namespace medseg
