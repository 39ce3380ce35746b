// The KV page pool: one allocation at load, cut into pages of `page_tokens` token slots. A page id
// indexes every layer at once, so a sequence needs one page table for the whole model. Ownership is
// counted (vLLM block_pool style): forks share pages, the last owner's free returns a page.
//
// Automatic prefix caching (vLLM's block pool and block hashes): a full page whose K/V have been
// written can be registered under the chain hash of the tokens it and every page before it hold
// (PageChainHash). A sequence whose tokens have that prefix takes the page (one more owner, as a fork
// would) instead of recomputing it. A cached page is immutable: while it is cached nobody writes into
// it (the sole owner about to write takes it out of the table first: Uncache; other owners copy).
// When its last owner frees a cached page it is not returned to the free list but parked at the tail
// of an LRU list, still findable; Allocate takes free pages first and then evicts the least recently
// parked cached page (dropping its table entry). Page states:
//   free      refcount 0, on the free list
//   parked    refcount 0, cached, on the LRU list (allocatable: counted in pages_free and pages_cached)
//   owned     refcount >= 1, cached or not
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tt {

struct KvShape {
  int32_t layers = 0;
  int32_t page_tokens = 0;
  int32_t kv_heads = 0;
  int32_t head_dim = 0;
  int32_t elem_bytes = 4;  // 4 for f32 storage; 2 for bf16 (KvDtype(precision): bf16 mode on either side)
  // Elements of one page in one layer for K (or V): [page_tokens, kv_heads, head_dim].
  int64_t PageFloats() const { return static_cast<int64_t>(page_tokens) * kv_heads * head_dim; }
  // Bytes of one page across all layers, K and V.
  int64_t BytesPerPage() const { return static_cast<int64_t>(layers) * 2 * PageFloats() * elem_bytes; }
};

class KvPool {
 public:
  // Reserves floor(budget_bytes / BytesPerPage) pages. Fewer than one page is an error sentence.
  // host_storage false: bookkeeping only (the K/V live on a device; K() and V() must not be used and
  // CopyTokens goes to the copier set with SetCopier).
  static KvPool* Create(const KvShape& shape, int64_t budget_bytes, std::string* error, bool host_storage = true);
  ~KvPool();
  KvPool(const KvPool&) = delete;
  KvPool& operator=(const KvPool&) = delete;

  const KvShape& shape() const { return shape_; }
  int32_t pages_total() const { return pages_total_; }
  // Pages Allocate can hand out: free ones and parked cached ones (which it would evict).
  int32_t pages_free() const { return static_cast<int32_t>(free_.size()) + lru_count_; }
  // Parked pages: cached, no owner, reusable by a prefix hit until evicted (a subset of pages_free).
  int32_t pages_cached() const { return lru_count_; }
  // Pages registered in the prefix cache, owned or parked.
  int32_t cached_entries() const { return static_cast<int32_t>(table_.size()); }

  // A page with refcount 1: a free one, else the least recently parked cached page (evicted from the
  // cache); -1 when neither is left (the caller decides what that means).
  int32_t Allocate();
  // One more owner. Precondition: the page is in use (refcount >= 1).
  void Share(int32_t page);
  // One owner fewer; at zero a cached page is parked at the LRU tail, any other goes back to the free
  // list. Precondition: refcount >= 1.
  void Free(int32_t page);
  int32_t RefCount(int32_t page) const { return refcount_[page]; }

  // Prefix cache. `tokens` are the page's page_tokens token ids; `parent` the chain hash of the page
  // before it (PageChainHash). A hit is checked against the stored parent hash and tokens, so a 64-bit
  // collision is a miss, never a wrong page.
  //
  // The cached page for (hash, parent, tokens) with one more owner (a parked page leaves the LRU
  // list), or -1 when there is none.
  int32_t TakeCached(uint64_t hash, uint64_t parent, const int32_t* tokens);
  // Registers an owned, full page whose K/V are written. A page already cached, or a hash some other
  // page holds (the same prefix computed twice), is left as it is. Precondition: refcount >= 1.
  void Register(int32_t page, uint64_t hash, uint64_t parent, const int32_t* tokens);
  // Takes an owned page out of the cache before its sole owner writes into it. Precondition:
  // refcount >= 1.
  void Uncache(int32_t page);
  // Gives a page that Free has just returned (refcount 0, on the free list or parked) its owner back,
  // content and cache entry kept: the undo of a Free when a call that planned with it fails.
  void Reclaim(int32_t page);
  bool IsCached(int32_t page) const { return cached_[page] != 0; }

  // One layer's keys / values of every page: [pages_total, page_tokens, kv_heads, head_dim] elements
  // of elem_bytes each (f32, or bf16 in bf16 mode).
  void* K(int32_t layer) { return base_ + (2 * static_cast<int64_t>(layer)) * layer_bytes_; }
  void* V(int32_t layer) { return base_ + (2 * static_cast<int64_t>(layer) + 1) * layer_bytes_; }

  // Copies token slots [0, tokens) of page `src` into page `dst`, in every layer, K and V: the
  // copy-on-write of a partly filled page (slots past `tokens` are not valid, so not copied).
  void CopyTokens(int32_t src, int32_t dst, int32_t tokens);
  // Where CopyTokens goes when the storage is not on the host.
  void SetCopier(std::function<void(int32_t src, int32_t dst, int32_t tokens)> copier) { copier_ = std::move(copier); }

 private:
  KvPool() = default;

  KvShape shape_;
  int32_t pages_total_ = 0;
  int64_t layer_bytes_ = 0;   // pages_total * PageFloats() * elem_bytes: one layer's K (or V)
  uint8_t* base_ = nullptr;   // [layers, 2 (K, V), pages_total, page_tokens, kv_heads, head_dim]
  size_t mapped_bytes_ = 0;
  // Page ids [0, committed_) have their memory committed (host storage; see Commit).
  int32_t committed_ = 0;
  bool commit_ok_ = true;  // false once the kernel refused: pages then fault in on first write
  void Commit(int32_t page);
  // The LRU list of parked pages (intrusive, doubly linked through page ids; -1 ends it).
  void LruPush(int32_t page);    // at the tail (most recently parked)
  void LruRemove(int32_t page);
  // Drops a page's table entry.
  void Forget(int32_t page);

  std::vector<int32_t> refcount_;  // [pages_total] owners of each page; 0 = free or parked
  std::vector<int32_t> free_;      // stack of free page ids; the most recently freed is reused first
  std::function<void(int32_t, int32_t, int32_t)> copier_;  // device pools: the device's page copy

  // prefix cache
  std::unordered_map<uint64_t, int32_t> table_;  // chain hash -> cached page
  std::vector<uint8_t> cached_;                  // [pages_total] 1 = the page has a table entry
  std::vector<uint64_t> hash_, parent_;          // [pages_total] a cached page's chain hash and its parent's
  std::vector<int32_t> page_ids_;                // [pages_total, page_tokens] a cached page's tokens
  std::vector<int32_t> lru_prev_, lru_next_;     // [pages_total] LRU links of parked pages
  int32_t lru_head_ = -1, lru_tail_ = -1;        // least / most recently parked
  int32_t lru_count_ = 0;
};

// The chain hash of a page (vLLM's block hash): of the previous page's chain hash and this page's
// page_tokens token ids. The first page's parent is PageChainRoot(page_tokens). Equal hashes mean
// equal token prefixes and positions, so (within one model) equal K/V.
uint64_t PageChainRoot(int32_t page_tokens);
uint64_t PageChainHash(uint64_t parent, const int32_t* tokens, int32_t page_tokens);

}  // namespace tt
