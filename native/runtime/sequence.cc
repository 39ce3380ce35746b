#include "sequence.h"

#include <algorithm>
#include <cassert>
#include <climits>
#include <mutex>
#include <unordered_set>

namespace tt {

std::string NoSuchSequence(int64_t id) {
  return "sequence " + std::to_string(id) + " does not exist (released or never created)";
}

uint64_t DeriveSeed(uint64_t parent_seed, uint64_t fork_number) {
  // splitmix64 finaliser over (seed, fork number): children of one parent get unrelated streams.
  uint64_t z = parent_seed + 0x9e3779b97f4a7c15ull * (fork_number + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return z & ((1ull << 53) - 1);
}

// Sequence ids are unique in the process (one registry for every table), from 1: a sequence id names
// one sequence of one model, so another model's id (or 0, what Int32Array.from makes of undefined and
// NaN) is never found here. The counter runs to 2^31 − 1 and then starts again at 1, skipping ids
// still in use, so a long-running server never runs out (an id is reused only after 2^31 − 1 others).
namespace {
std::mutex g_ids_mu;
std::unordered_set<int32_t> g_live_ids;  // every id some table holds
int32_t g_next_id = 1;
}  // namespace

static int32_t NextSequenceId() {
  std::lock_guard<std::mutex> lock(g_ids_mu);
  for (;;) {
    const int32_t id = g_next_id;
    g_next_id = id == INT32_MAX ? 1 : id + 1;
    if (g_live_ids.insert(id).second) return id;
  }
}

static void ForgetSequenceId(int32_t id) {
  std::lock_guard<std::mutex> lock(g_ids_mu);
  g_live_ids.erase(id);
}

void SetNextSequenceIdForTesting(int32_t next) {
  std::lock_guard<std::mutex> lock(g_ids_mu);
  g_next_id = next;
}

SequenceTable::~SequenceTable() {
  for (const auto& kv : seqs_) ForgetSequenceId(kv.first);
}

int32_t SequenceTable::Create(uint64_t seed) {
  const int32_t id = NextSequenceId();
  Sequence& s = seqs_[id];
  s.seed = seed;
  return id;
}

Sequence* SequenceTable::Find(int64_t id) {
  if (id < 0 || id > INT32_MAX) return nullptr;
  auto it = seqs_.find(static_cast<int32_t>(id));
  return it == seqs_.end() ? nullptr : &it->second;
}

int32_t SequenceTable::Fork(Sequence* parent, bool has_seed, uint64_t seed, KvPool* pool) {
  const uint64_t child_seed = has_seed ? seed : DeriveSeed(parent->seed, parent->forks++);
  // Copy before inserting: inserting may rehash and move the parent.
  Sequence child;
  child.pages = parent->pages;
  child.tokens = parent->tokens;
  child.kv_len = parent->kv_len;
  child.seed = child_seed;
  child.page_hashes = parent->page_hashes;
  for (int32_t page : child.pages) pool->Share(page);
  const int32_t id = NextSequenceId();
  seqs_.emplace(id, std::move(child));
  return id;
}

void SequenceTable::Release(int64_t id, KvPool* pool) {
  auto it = seqs_.find(static_cast<int32_t>(id));
  assert(it != seqs_.end());  // callers check ids with Find first
  // Tail first (vLLM's order): parked cached pages are evicted from the end of a prefix before its
  // start, so what stays cached is still a prefix that lookups can reach.
  const std::vector<int32_t>& pages = it->second.pages;
  for (auto p = pages.rbegin(); p != pages.rend(); ++p) pool->Free(*p);
  ForgetSequenceId(it->first);
  seqs_.erase(it);
}

void SequenceTable::ReleaseAll(KvPool* pool) {
  for (auto& kv : seqs_) {
    for (int32_t page : kv.second.pages) pool->Free(page);
    ForgetSequenceId(kv.first);
  }
  seqs_.clear();
}

namespace {

int64_t PagesFor(int64_t len, int32_t page_tokens) { return (len + page_tokens - 1) / page_tokens; }

}  // namespace

PageDemand DemandFor(const Sequence& s, int64_t new_len, const KvPool& pool) {
  PageDemand d;
  if (new_len <= s.kv_len) return d;
  const int32_t pt = pool.shape().page_tokens;
  const int64_t first = s.kv_len / pt;  // first page the write touches
  const int64_t need = PagesFor(new_len, pt);
  const int64_t have = static_cast<int64_t>(s.pages.size());
  for (int64_t i = first; i < std::min(need, have); i++)
    if (pool.RefCount(s.pages[i]) > 1) d.shared.push_back(s.pages[i]);
  d.fresh = std::max<int64_t>(0, need - have);
  return d;
}

void MakeWritable(Sequence* s, int64_t new_len, KvPool* pool) {
  if (new_len <= s->kv_len) return;
  const int32_t pt = pool->shape().page_tokens;
  const int64_t first = s->kv_len / pt;
  const int64_t need = PagesFor(new_len, pt);
  const int64_t have = static_cast<int64_t>(s->pages.size());
  for (int64_t i = first; i < std::min(need, have); i++) {
    const int32_t old = s->pages[i];
    // The last owner writes in place: once every other owner has made its copy, refcount is 1. A
    // cached page stops being cached first: its content is about to change.
    if (pool->RefCount(old) == 1) {
      pool->Uncache(old);
      continue;
    }
    const int32_t copy = pool->Allocate();
    assert(copy >= 0);  // planned by the caller
    const int64_t valid = std::clamp<int64_t>(s->kv_len - i * pt, 0, pt);
    pool->CopyTokens(old, copy, static_cast<int32_t>(valid));
    pool->Free(old);
    s->pages[i] = copy;
  }
  for (int64_t i = have; i < need; i++) {
    const int32_t page = pool->Allocate();
    assert(page >= 0);  // planned by the caller
    s->pages.push_back(page);
  }
}

void Truncate(Sequence* s, int64_t length, KvPool* pool) {
  assert(length >= 0 && length <= static_cast<int64_t>(s->tokens.size()));  // checked by the caller
  s->tokens.resize(static_cast<size_t>(length));
  s->kv_len = std::min(s->kv_len, length);
  TrimPages(s, length, pool);
  TrimHashes(s, length, pool->shape().page_tokens);
}

void TrimPages(Sequence* s, int64_t len, KvPool* pool) {
  const size_t keep = static_cast<size_t>(PagesFor(len, pool->shape().page_tokens));
  while (s->pages.size() > keep) {
    pool->Free(s->pages.back());
    s->pages.pop_back();
  }
}

uint64_t ParentHashOf(Sequence* s, int64_t page, int32_t page_tokens) {
  return page == 0 ? PageChainRoot(page_tokens) : PageHashOf(s, page - 1, page_tokens);
}

uint64_t PageHashOf(Sequence* s, int64_t page, int32_t page_tokens) {
  assert((page + 1) * page_tokens <= static_cast<int64_t>(s->tokens.size()));  // a full page
  while (static_cast<int64_t>(s->page_hashes.size()) <= page) {
    const int64_t i = static_cast<int64_t>(s->page_hashes.size());
    const uint64_t parent = i == 0 ? PageChainRoot(page_tokens) : s->page_hashes.back();
    s->page_hashes.push_back(PageChainHash(parent, s->tokens.data() + i * page_tokens, page_tokens));
  }
  return s->page_hashes[page];
}

void TrimHashes(Sequence* s, int64_t len, int32_t page_tokens) {
  const size_t full = static_cast<size_t>(len / page_tokens);
  if (s->page_hashes.size() > full) s->page_hashes.resize(full);
}

int64_t TakeCachedPrefix(Sequence* s, KvPool* pool, PrefixUndo* undo) {
  const int32_t pt = pool->shape().page_tokens;
  const int64_t size = static_cast<int64_t>(s->tokens.size());
  if (size == 0) return 0;
  const int64_t end = (size - 1) / pt;  // pages [0, end) lie wholly before the last token
  const int64_t before = s->kv_len;
  undo->kv_len.emplace_back(s, before);
  for (int64_t i = s->kv_len / pt; i < end; i++) {
    const int32_t* page_tokens = s->tokens.data() + i * pt;
    const int32_t page = pool->TakeCached(PageHashOf(s, i, pt), ParentHashOf(s, i, pt), page_tokens);
    if (page < 0) break;
    if (i < static_cast<int64_t>(s->pages.size())) {
      // This sequence's own page at i holds at most a part of the same prefix: the cached one replaces
      // it. (Freed at once, so that a call planned after the lookup counts it as free.)
      undo->takes.push_back({s, i, s->pages[i], page});
      pool->Free(s->pages[i]);
      s->pages[i] = page;
    } else {
      undo->takes.push_back({s, i, -1, page});
      s->pages.push_back(page);
    }
    s->kv_len = (i + 1) * pt;
  }
  return s->kv_len - before;
}

void UndoCachedPrefix(PrefixUndo* undo, KvPool* pool) {
  for (auto t = undo->takes.rbegin(); t != undo->takes.rend(); ++t) {
    Sequence* s = t->seq;
    if (t->old_page < 0) {
      assert(s->pages.back() == t->page);  // appended entries come off the end, latest first
      s->pages.pop_back();
    } else {
      // Undo the Free of the old page first: if nobody else owns it, it is still where Free put it.
      if (pool->RefCount(t->old_page) > 0) pool->Share(t->old_page);
      else pool->Reclaim(t->old_page);
      s->pages[t->index] = t->old_page;
    }
    pool->Free(t->page);
  }
  for (auto k = undo->kv_len.rbegin(); k != undo->kv_len.rend(); ++k) k->first->kv_len = k->second;
  undo->Clear();
}

void RegisterFilledPages(Sequence* s, int64_t from, KvPool* pool) {
  const int32_t pt = pool->shape().page_tokens;
  for (int64_t i = from / pt; i < s->kv_len / pt; i++)
    pool->Register(s->pages[i], PageHashOf(s, i, pt), ParentHashOf(s, i, pt), s->tokens.data() + i * pt);
}

}  // namespace tt
