// The sequence ids a model issued and has not released, kept by its binding so that the id arrays of
// forkMany / releaseMany / forward / generateStep are checked element by element before any work, with
// errors that name the call and the index ("releaseMany: element 2 is not a sequence of this model: 0").
//
// Ids are unique in the process (runtime/sequence.cc), so another model's id, a released id and the 0
// that Int32Array.from makes of `undefined` or NaN are all absent here. The set is used on the
// JavaScript thread of the model's environment only; workers get the ids already checked.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

namespace tt {

class SeqIds {
 public:
  int32_t Add(int32_t id) {
    live_.insert(id);
    return id;
  }
  void Remove(int64_t id) { live_.erase(static_cast<int32_t>(id)); }
  // The elements of `ids` as int64, or a message naming `call` and the index of the first element
  // that is not a live sequence of this model or (distinct) repeats an earlier one; empty when all fit.
  std::string Check(const int32_t* ids, size_t n, const char* call, bool distinct, std::vector<int64_t>* out) const {
    out->assign(ids, ids + n);
    std::unordered_set<int32_t> seen;
    for (size_t i = 0; i < n; i++) {
      const std::string at = std::string(call) + ": element " + std::to_string(i);
      const std::string id = std::to_string(ids[i]);
      if (live_.count(ids[i]) == 0)
        return at + " is not a sequence of this model: " + id + " (sequence " + id +
               " does not exist: released, never created, or made by another model)";
      if (distinct && !seen.insert(ids[i]).second) return at + " is sequence " + id + " again (listed twice)";
    }
    return "";
  }

 private:
  std::unordered_set<int32_t> live_;
};

}  // namespace tt
