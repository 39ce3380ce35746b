// The checkpoint's files as bytes the model reads in place. Mapped (the default, like llama.cpp's
// mmap) they cost no copy, but the model then reads the file itself: a file truncated while loaded
// would kill the process with SIGBUS at the next read, and one rewritten in place would change results
// silently. So a mapped file is checked before every batch (CheckUnchanged) and a changed one is
// refused; read into private memory (`mmap: false`, like llama.cpp's --no-mmap) the model never looks
// at the file again after load.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "status.h"

namespace tt {

class WeightFiles {
 public:
  WeightFiles() = default;
  ~WeightFiles();
  WeightFiles(const WeightFiles&) = delete;
  WeightFiles& operator=(const WeightFiles&) = delete;

  // Opens every path, refusing anything but a regular file before reading it (a FIFO would block the
  // load forever, a device has no meaningful size), then maps it or reads it whole. `cancel` (may be
  // null) is polled between reads; a raised flag ends the load with *error = kCancelled. False with a
  // sentence naming the file in *error on failure.
  bool Open(const std::vector<std::string>& paths, bool use_mmap, const std::atomic<bool>* cancel, std::string* error);

  size_t count() const { return files_.size(); }
  const uint8_t* base(size_t i) const { return files_[i].data; }
  size_t size(size_t i) const { return files_[i].size; }
  bool mapped() const { return mapped_; }

  // Mapped files only (always ok otherwise): Invalid naming the file when its size or modification
  // time differs from load (truncated, extended or rewritten in place). One fstat per file: cheap
  // enough for every batch. A file replaced by rename keeps the old inode mapped, unchanged, so it
  // is not refused.
  Status CheckUnchanged() const;

  // The message *error holds when Open stopped because `cancel` was raised.
  static constexpr const char* kCancelled = "loading was cancelled";

 private:
  struct File {
    std::string path;
    int fd = -1;               // mapped files keep theirs open for CheckUnchanged
    uint8_t* data = nullptr;   // the mapping, or private anonymous memory holding the bytes
    size_t size = 0;
    size_t reserved = 0;       // bytes of the mapping at `data` (0 when size is 0)
    struct timespec mtime = {};
  };
  bool OpenOne(const std::string& path, const std::atomic<bool>* cancel, std::string* error);

  std::vector<File> files_;
  bool mapped_ = true;
};

}  // namespace tt
