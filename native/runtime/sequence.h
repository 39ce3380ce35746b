// Sequences: a token list plus the page table that holds its keys and values. Forks share pages;
// a write into a page somebody else also owns copies it first (copy-on-write).
//
// Positions are half-open ranges: tokens [0, kv_len) have their K/V in pages, tokens [kv_len, size)
// are pending and run in the next forward that includes the sequence. Page i of the table holds
// positions [i * page_tokens, (i + 1) * page_tokens).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "kv_pool.h"

namespace tt {

struct Sequence {
  std::vector<int32_t> pages;   // page table, position order; may run past kv_len after a failed call
  std::vector<int32_t> tokens;  // every token; [kv_len, size) pending
  int64_t kv_len = 0;           // tokens whose K/V are in pages
  uint64_t seed = 0;            // sampler stream key
  uint64_t draws = 0;           // sampler draw counter (the stream position)
  uint64_t forks = 0;           // children forked without an explicit seed (derives their seeds)
  // Chain hashes (kv_pool.h PageChainHash) of the first full token pages, computed when the prefix
  // cache first needs them: page_hashes[i] covers tokens [0, (i + 1) * page_tokens). Dropped with the
  // tokens they cover (TrimHashes).
  std::vector<uint64_t> page_hashes;

  int64_t pending() const { return static_cast<int64_t>(tokens.size()) - kv_len; }
};

// "sequence 17 does not exist (released or never created)"
std::string NoSuchSequence(int64_t id);

// A child's seed when the caller gives none: a mix of the parent's seed and its fork number, kept
// below 2^53 so that it survives a trip through a JS number.
uint64_t DeriveSeed(uint64_t parent_seed, uint64_t fork_number);

// Tests only: where the process-wide sequence id counter continues (to test its wrap at 2^31 − 1).
void SetNextSequenceIdForTesting(int32_t next);

class SequenceTable {
 public:
  // Ids are positive ints unique in the process (one registry for every model), so another model's id
  // is always detected, and a released id comes back only after 2^31 − 1 others (the counter wraps,
  // skipping ids in use).
  SequenceTable() = default;
  SequenceTable(const SequenceTable&) = delete;
  SequenceTable& operator=(const SequenceTable&) = delete;
  ~SequenceTable();
  int32_t Create(uint64_t seed);
  Sequence* Find(int64_t id);
  // Child shares every page of the parent (one more owner each) and copies its tokens.
  int32_t Fork(Sequence* parent, bool has_seed, uint64_t seed, KvPool* pool);
  // Precondition: Find(id) != nullptr.
  void Release(int64_t id, KvPool* pool);
  void ReleaseAll(KvPool* pool);
  size_t size() const { return seqs_.size(); }

 private:
  std::unordered_map<int32_t, Sequence> seqs_;
};

// Pages a sequence must gain so that positions [kv_len, new_len) can be written: fresh pages past
// the end of its table, and copies of the pages in the written range that others also own.
struct PageDemand {
  int64_t fresh = 0;               // pages to append to the table
  std::vector<int32_t> shared;     // shared pages in the written range (each needs a private copy)
};
PageDemand DemandFor(const Sequence& s, int64_t new_len, const KvPool& pool);

// Makes positions [kv_len, new_len) writable: copies shared pages in that range (their valid slots
// only) and appends fresh pages. A cached page in that range that this sequence owns alone leaves the
// cache and is written in place (so the cache never makes a write need a page it would not need
// otherwise). Precondition: the pool has the pages (callers plan first).
void MakeWritable(Sequence* s, int64_t new_len, KvPool* pool);

// Keeps tokens [0, length) (precondition: length <= tokens.size()). K/V of the kept positions stays;
// pages entirely past the kept length lose this owner. A kept, partly filled page others also own
// stays shared: MakeWritable copies it before this sequence writes again, so the others' slots past
// `length` are never overwritten.
void Truncate(Sequence* s, int64_t length, KvPool* pool);

// Drops pages past those that positions [0, len) need.
void TrimPages(Sequence* s, int64_t len, KvPool* pool);

// The chain hash of full token page `page` (precondition: (page + 1) * page_tokens <= tokens.size()),
// computing and keeping those of the pages before it as needed.
uint64_t PageHashOf(Sequence* s, int64_t page, int32_t page_tokens);
// The chain hash of the page before `page`: PageChainRoot for page 0.
uint64_t ParentHashOf(Sequence* s, int64_t page, int32_t page_tokens);
// Drops the hashes of pages that are no longer full after the tokens were cut to `len`.
void TrimHashes(Sequence* s, int64_t len, int32_t page_tokens);

// What TakeCachedPrefix changed, so that a call that then fails can put everything back.
struct PrefixUndo {
  struct Take {
    Sequence* seq;
    int64_t index;     // page table entry
    int32_t old_page;  // the page it held before, -1 when the entry was appended
    int32_t page;      // the cached page taken
  };
  std::vector<std::pair<Sequence*, int64_t>> kv_len;  // each sequence looked up, and its kv_len before
  std::vector<Take> takes;                            // in the order they were made
  int64_t hit_tokens = 0, query_tokens = 0;
  void Clear() {
    kv_len.clear();
    takes.clear();
    hit_tokens = query_tokens = 0;
  }
};

// Prefix-cache lookup for a sequence about to run its pending tokens: from the page that holds
// position kv_len, each full page that lies wholly before the last token and whose chain hash is
// cached is taken from the cache (one more owner; a partly filled page of this sequence's own at that
// index is let go) and kv_len moves past it. The last token always stays pending so that its output
// row is computed. Returns the tokens skipped; records the changes in *undo.
int64_t TakeCachedPrefix(Sequence* s, KvPool* pool, PrefixUndo* undo);
// Puts back what the TakeCachedPrefix calls recorded in *undo (latest first) and clears it.
void UndoCachedPrefix(PrefixUndo* undo, KvPool* pool);
// Registers the full pages that a run over positions [from, kv_len) filled: pages [from / page_tokens,
// kv_len / page_tokens).
void RegisterFilledPages(Sequence* s, int64_t from, KvPool* pool);

}  // namespace tt
