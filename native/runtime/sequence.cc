#include "sequence.h"

#include <algorithm>
#include <cassert>

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

int32_t SequenceTable::Create(uint64_t seed) {
  const int32_t id = next_id_++;
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
  for (int32_t page : child.pages) pool->Share(page);
  const int32_t id = next_id_++;
  seqs_.emplace(id, std::move(child));
  return id;
}

void SequenceTable::Release(int64_t id, KvPool* pool) {
  auto it = seqs_.find(static_cast<int32_t>(id));
  assert(it != seqs_.end());  // callers check ids with Find first
  for (int32_t page : it->second.pages) pool->Free(page);
  seqs_.erase(it);
}

void SequenceTable::ReleaseAll(KvPool* pool) {
  for (auto& kv : seqs_)
    for (int32_t page : kv.second.pages) pool->Free(page);
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
    // The last owner writes in place: once every other owner has made its copy, refcount is 1.
    if (pool->RefCount(old) == 1) continue;
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
}

void TrimPages(Sequence* s, int64_t len, KvPool* pool) {
  const size_t keep = static_cast<size_t>(PagesFor(len, pool->shape().page_tokens));
  while (s->pages.size() > keep) {
    pool->Free(s->pages.back());
    s->pages.pop_back();
  }
}

}  // namespace tt
