#include "kv_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <iterator>

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
  pool->layer_bytes_ = pages * shape.PageFloats() * shape.elem_bytes;
  pool->base_ = static_cast<uint8_t*>(mem);
  pool->mapped_bytes_ = host_storage ? bytes : 0;
  pool->refcount_.assign(pages, 0);
  pool->cached_.assign(pages, 0);
  pool->hash_.assign(pages, 0);
  pool->parent_.assign(pages, 0);
  pool->lru_prev_.assign(pages, -1);
  pool->lru_next_.assign(pages, -1);
  pool->free_.reserve(pages);
  // Pushed in reverse so that page 0 is handed out first (tidier page tables when debugging).
  for (int64_t p = pages - 1; p >= 0; p--) pool->free_.push_back(static_cast<int32_t>(p));
  return pool;
}

KvPool::~KvPool() {
  if (base_ != nullptr) munmap(base_, mapped_bytes_);
}

int32_t KvPool::Allocate() {
  int32_t page = -1;
  if (!free_.empty()) {
    page = free_.back();
    free_.pop_back();
  } else if (lru_head_ >= 0) {
    // Evict the least recently parked cached page: its content is forgotten.
    page = lru_head_;
    LruRemove(page);
    Forget(page);
  } else {
    return -1;
  }
  assert(refcount_[page] == 0);  // a free or parked page has no owner
  assert(!cached_[page]);        // a page handed out for writing is never findable in the cache
  refcount_[page] = 1;
  if (page >= committed_ && base_ != nullptr) Commit(page);
  return page;
}

// The mapping is committed lazily, and the first write into each OS page of it (4 KiB on x86-64) traps
// into the kernel to get a zeroed page: 10 µs apiece on the paravirtualized host we measured (a fresh
// KV page of Qwen2.5-0.5B in bf16 is 48 of them, one per layer for K and V), where MADV_POPULATE_WRITE (Linux
// 5.14) commits a whole range in one call at 0.5-0.7 µs per 4 KiB. So the first time a page id past
// the committed ones is handed out, every layer's K and V are committed up to kCommitAheadBytes of
// pages beyond it (free pages are handed out in id order and reused most recent first, so the
// committed ids stay a prefix). A budget still costs RAM only for the pages used, plus that margin.
// Where the kernel refuses (older kernels, no memory to commit now), pages fault in as they are
// written, as before.
void KvPool::Commit(int32_t page) {
#ifdef MADV_POPULATE_WRITE
  if (!commit_ok_) return;
  constexpr int64_t kCommitAheadBytes = 16 << 20;
  const int64_t ahead = std::max<int64_t>(1, kCommitAheadBytes / shape_.BytesPerPage());
  const int32_t end = static_cast<int32_t>(std::min<int64_t>(pages_total_, static_cast<int64_t>(page) + ahead));
  const int64_t page_bytes = shape_.PageFloats() * shape_.elem_bytes;
  static const uintptr_t os_page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  for (int64_t region = 0; region < 2 * static_cast<int64_t>(shape_.layers); region++) {
    const uintptr_t lo = reinterpret_cast<uintptr_t>(base_ + region * layer_bytes_ + committed_ * page_bytes) & ~(os_page - 1);
    const uintptr_t hi = reinterpret_cast<uintptr_t>(base_ + region * layer_bytes_ + end * page_bytes);
    if (madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_POPULATE_WRITE) != 0) {
      commit_ok_ = false;
      return;
    }
  }
  committed_ = end;
#else
  (void)page;
#endif
}

void KvPool::Share(int32_t page) {
  assert(refcount_[page] >= 1);  // sharing a free page would hand out memory nobody reserved
  refcount_[page]++;
}

void KvPool::Free(int32_t page) {
  assert(refcount_[page] >= 1);  // double free: some page table listed the page once too often
  if (--refcount_[page] > 0) return;
  if (cached_[page]) LruPush(page);
  else free_.push_back(page);
}

int32_t KvPool::TakeCached(uint64_t hash, uint64_t parent, const int32_t* tokens) {
  const auto it = table_.find(hash);
  if (it == table_.end()) return -1;
  const int32_t page = it->second;
  const int32_t pt = shape_.page_tokens;
  // A 64-bit collision (same hash, other prefix) is a miss.
  if (parent_[page] != parent ||
      memcmp(&page_ids_[static_cast<size_t>(page) * pt], tokens, static_cast<size_t>(pt) * sizeof(int32_t)) != 0)
    return -1;
  if (refcount_[page] == 0) LruRemove(page);  // parked: it has an owner again
  refcount_[page]++;
  return page;
}

void KvPool::Register(int32_t page, uint64_t hash, uint64_t parent, const int32_t* tokens) {
  assert(refcount_[page] >= 1);  // only an owner, who has just written the page, registers it
  if (cached_[page] || table_.count(hash) > 0) return;
  const int32_t pt = shape_.page_tokens;
  if (page_ids_.empty()) page_ids_.assign(static_cast<size_t>(pages_total_) * pt, 0);
  table_.emplace(hash, page);
  cached_[page] = 1;
  hash_[page] = hash;
  parent_[page] = parent;
  memcpy(&page_ids_[static_cast<size_t>(page) * pt], tokens, static_cast<size_t>(pt) * sizeof(int32_t));
}

void KvPool::Uncache(int32_t page) {
  assert(refcount_[page] >= 1);  // a parked page has no owner to write it
  if (cached_[page]) Forget(page);
}

void KvPool::Reclaim(int32_t page) {
  assert(refcount_[page] == 0);  // only a page nobody owns goes back to an owner this way
  if (cached_[page]) {
    LruRemove(page);
  } else {
    // Freed just now, so normally on top of the stack.
    const auto it = std::find(free_.rbegin(), free_.rend(), page);
    assert(it != free_.rend());
    free_.erase(std::next(it).base());
  }
  refcount_[page] = 1;
}

void KvPool::Forget(int32_t page) {
  table_.erase(hash_[page]);
  cached_[page] = 0;
}

void KvPool::LruPush(int32_t page) {
  lru_prev_[page] = lru_tail_;
  lru_next_[page] = -1;
  if (lru_tail_ >= 0) lru_next_[lru_tail_] = page;
  else lru_head_ = page;
  lru_tail_ = page;
  lru_count_++;
}

void KvPool::LruRemove(int32_t page) {
  const int32_t prev = lru_prev_[page], next = lru_next_[page];
  if (prev >= 0) lru_next_[prev] = next;
  else lru_head_ = next;
  if (next >= 0) lru_prev_[next] = prev;
  else lru_tail_ = prev;
  lru_prev_[page] = lru_next_[page] = -1;
  lru_count_--;
}

namespace {

// splitmix64's finaliser: every input bit reaches every output bit.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t PageChainRoot(int32_t page_tokens) {
  return Mix(0x7468696e6b747265ull ^ static_cast<uint64_t>(static_cast<uint32_t>(page_tokens)));
}

uint64_t PageChainHash(uint64_t parent, const int32_t* tokens, int32_t page_tokens) {
  uint64_t h = Mix(parent + 0x9e3779b97f4a7c15ull);
  for (int32_t i = 0; i < page_tokens; i++)
    h = Mix(h ^ (static_cast<uint64_t>(static_cast<uint32_t>(tokens[i])) + 0x9e3779b97f4a7c15ull * (i + 1)));
  return h;
}

void KvPool::CopyTokens(int32_t src, int32_t dst, int32_t tokens) {
  if (tokens <= 0) return;
  if (copier_) {
    copier_(src, dst, tokens);
    return;
  }
  const int64_t page_bytes = shape_.PageFloats() * shape_.elem_bytes;
  const size_t bytes = static_cast<size_t>(tokens) * shape_.kv_heads * shape_.head_dim * shape_.elem_bytes;
  for (int32_t l = 0; l < shape_.layers; l++) {
    uint8_t* k = static_cast<uint8_t*>(K(l));
    uint8_t* v = static_cast<uint8_t*>(V(l));
    memcpy(k + dst * page_bytes, k + src * page_bytes, bytes);
    memcpy(v + dst * page_bytes, v + src * page_bytes, bytes);
  }
}

}  // namespace tt
