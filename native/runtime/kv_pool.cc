#include "kv_pool.h"

#include <sys/mman.h>

#include <cassert>
#include <cstring>

namespace tt {

KvPool* KvPool::Create(const KvShape& shape, int64_t budget_bytes, std::string* error, bool host_storage) {
  const int64_t per_page = shape.BytesPerPage();
  const int64_t pages = per_page > 0 ? budget_bytes / per_page : 0;
  if (pages < 1) {
    *error = "kvCacheBytes " + std::to_string(budget_bytes) + " is too small: one page needs " +
             std::to_string(per_page) + " bytes";
    return nullptr;
  }
  if (pages > INT32_MAX - 1) {
    *error = "kvCacheBytes " + std::to_string(budget_bytes) + " asks for more than 2^31 pages";
    return nullptr;
  }
  const size_t bytes = static_cast<size_t>(pages * per_page);
  void* mem = nullptr;
  if (host_storage) {
    // Anonymous mapping: the kernel hands out zeroed memory lazily, so a large budget costs RAM only
    // for the pages sequences actually touch.
    mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      *error = "could not reserve " + std::to_string(bytes) + " bytes for the KV cache (kvCacheBytes " +
               std::to_string(budget_bytes) + ")";
      return nullptr;
    }
  }
  KvPool* pool = new KvPool();
  pool->shape_ = shape;
  pool->pages_total_ = static_cast<int32_t>(pages);
  pool->layer_floats_ = pages * shape.PageFloats();
  pool->base_ = static_cast<float*>(mem);
  pool->mapped_bytes_ = host_storage ? bytes : 0;
  pool->refcount_.assign(pages, 0);
  pool->free_.reserve(pages);
  // Pushed in reverse so that page 0 is handed out first (tidier page tables when debugging).
  for (int64_t p = pages - 1; p >= 0; p--) pool->free_.push_back(static_cast<int32_t>(p));
  return pool;
}

KvPool::~KvPool() {
  if (base_ != nullptr) munmap(base_, mapped_bytes_);
}

int32_t KvPool::Allocate() {
  if (free_.empty()) return -1;
  const int32_t page = free_.back();
  free_.pop_back();
  assert(refcount_[page] == 0);  // a page on the free list has no owner
  refcount_[page] = 1;
  return page;
}

void KvPool::Share(int32_t page) {
  assert(refcount_[page] >= 1);  // sharing a free page would hand out memory nobody reserved
  refcount_[page]++;
}

void KvPool::Free(int32_t page) {
  assert(refcount_[page] >= 1);  // double free: some page table listed the page once too often
  if (--refcount_[page] == 0) free_.push_back(page);
}

void KvPool::CopyTokens(int32_t src, int32_t dst, int32_t tokens) {
  if (tokens <= 0) return;
  if (copier_) {
    copier_(src, dst, tokens);
    return;
  }
  const int64_t page_floats = shape_.PageFloats();
  const size_t bytes = static_cast<size_t>(tokens) * shape_.kv_heads * shape_.head_dim * 4;
  for (int32_t l = 0; l < shape_.layers; l++) {
    float* k = K(l);
    float* v = V(l);
    memcpy(k + dst * page_floats, k + src * page_floats, bytes);
    memcpy(v + dst * page_floats, v + src * page_floats, bytes);
  }
}

}  // namespace tt
