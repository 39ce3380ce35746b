// The KV page pool: one allocation at load, cut into pages of `page_tokens` token slots. A page id
// indexes every layer at once, so a sequence needs one page table for the whole model. Ownership is
// counted (vLLM block_pool style): forks share pages, the last owner's free returns a page.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tt {

struct KvShape {
  int32_t layers = 0;
  int32_t page_tokens = 0;
  int32_t kv_heads = 0;
  int32_t head_dim = 0;
  int32_t elem_bytes = 4;  // 4 for f32 storage; 2 for bf16 (a device pool)
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
  int32_t pages_free() const { return static_cast<int32_t>(free_.size()); }

  // A free page with refcount 1, or -1 when none is left (the caller decides what that means).
  int32_t Allocate();
  // One more owner. Precondition: the page is in use (refcount >= 1).
  void Share(int32_t page);
  // One owner fewer; at zero the page goes back to the free list. Precondition: refcount >= 1.
  void Free(int32_t page);
  int32_t RefCount(int32_t page) const { return refcount_[page]; }

  // One layer's keys / values of every page: [pages_total, page_tokens, kv_heads, head_dim] f32.
  float* K(int32_t layer) { return base_ + (2 * static_cast<int64_t>(layer)) * layer_floats_; }
  float* V(int32_t layer) { return base_ + (2 * static_cast<int64_t>(layer) + 1) * layer_floats_; }

  // Copies token slots [0, tokens) of page `src` into page `dst`, in every layer, K and V: the
  // copy-on-write of a partly filled page (slots past `tokens` are not valid, so not copied).
  void CopyTokens(int32_t src, int32_t dst, int32_t tokens);
  // Where CopyTokens goes when the storage is not on the host.
  void SetCopier(std::function<void(int32_t src, int32_t dst, int32_t tokens)> copier) { copier_ = std::move(copier); }

 private:
  KvPool() = default;

  KvShape shape_;
  int32_t pages_total_ = 0;
  int64_t layer_floats_ = 0;  // pages_total * PageFloats(): one layer's K (or V)
  float* base_ = nullptr;     // [layers, 2 (K, V), pages_total, page_tokens, kv_heads, head_dim] f32
  size_t mapped_bytes_ = 0;
  std::vector<int32_t> refcount_;  // [pages_total] owners of each page; 0 = free
  std::vector<int32_t> free_;      // stack of free page ids; the most recently freed is reused first
  std::function<void(int32_t, int32_t, int32_t)> copier_;  // device pools: the device's page copy
};

}  // namespace tt
