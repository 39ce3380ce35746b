#include "weight_files.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tt {

namespace {

std::string Errno(const char* doing, const std::string& path) {
  return std::string("could not ") + doing + " " + path + ": " + strerror(errno);
}

const char* FileKind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

bool SameTime(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// Bytes read per pread when copying into private memory: small enough that a cancel is seen within
// a few milliseconds, large enough that the syscalls cost nothing next to the copy.
constexpr size_t kReadChunk = 8u << 20;

}  // namespace

WeightFiles::~WeightFiles() {
  for (File& f : files_) {
    if (f.data != nullptr) munmap(f.data, f.reserved);
    if (f.fd >= 0) close(f.fd);
  }
}

bool WeightFiles::Open(const std::vector<std::string>& paths, bool use_mmap, const std::atomic<bool>* cancel,
                       std::string* error) {
  mapped_ = use_mmap;
  for (const std::string& path : paths)
    if (!OpenOne(path, cancel, error)) return false;
  return true;
}

bool WeightFiles::OpenOne(const std::string& path, const std::atomic<bool>* cancel, std::string* error) {
  // stat first, then open with O_NONBLOCK: opening a FIFO for reading blocks until a writer appears,
  // and the path could be swapped for one between the two calls, so the fstat below decides.
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *error = Errno("stat", path);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = path + " is " + FileKind(st.st_mode) + ", expected a regular safetensors file";
    return false;
  }
  files_.push_back(File());
  File& f = files_.back();
  f.path = path;
  f.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) {
    *error = Errno("open", path);
    return false;
  }
  if (fstat(f.fd, &st) != 0) {
    *error = Errno("stat", path);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = path + " is " + FileKind(st.st_mode) + ", expected a regular safetensors file";
    return false;
  }
  f.size = static_cast<size_t>(st.st_size);
  f.mtime = st.st_mtim;
  if (f.size == 0) return true;
  f.reserved = f.size;
  if (mapped_) {
    // MAP_SHARED read-only: MAP_PRIVATE would not help, since Linux shows later writes to pages not yet
    // copied either way, and a read past a truncated end faults either way. CheckUnchanged guards both.
    void* p = mmap(nullptr, f.size, PROT_READ, MAP_SHARED, f.fd, 0);
    if (p == MAP_FAILED) {
      *error = Errno("map", path);
      return false;
    }
    f.data = static_cast<uint8_t*>(p);
    return true;
  }
  // Private anonymous memory: page-aligned like a mapping, so tensors keep the alignment they would have
  // had mapped.
  void* p = mmap(nullptr, f.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    *error = "could not allocate " + std::to_string(f.size) + " bytes to read " + path + " into: " + strerror(errno);
    return false;
  }
  // Transparent huge pages where the kernel offers them on request (THP "madvise" mode): decode
  // streams every weight once per token, and 2 MiB pages cut the TLB misses of that stream 512-fold.
  // Advice only: a kernel without THP ignores it.
  madvise(p, f.size, MADV_HUGEPAGE);
  f.data = static_cast<uint8_t*>(p);
  for (size_t done = 0; done < f.size;) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      *error = kCancelled;
      return false;
    }
    const size_t want = std::min(kReadChunk, f.size - done);
    const ssize_t got = pread(f.fd, f.data + done, want, static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      *error = Errno("read", path);
      return false;
    }
    if (got == 0) {
      *error = path + " ended after " + std::to_string(done) + " of its " + std::to_string(f.size) +
               " bytes while it was being read (truncated during the load?)";
      return false;
    }
    done += static_cast<size_t>(got);
  }
  // The bytes are ours now: nothing done to the file later reaches the model.
  close(f.fd);
  f.fd = -1;
  return true;
}

Status WeightFiles::CheckUnchanged() const {
  if (!mapped_) return Status::Ok();
  for (const File& f : files_) {
    struct stat st;
    if (fstat(f.fd, &st) != 0)
      return Status::Invalid("could not check " + f.path + " for changes: " + strerror(errno));
    const size_t size = static_cast<size_t>(st.st_size);
    if (size != f.size || !SameTime(st.st_mtim, f.mtime))
      return Status::FileChanged(f.path + " changed while the model was loaded (" +
                                 (size < f.size   ? "truncated from " + std::to_string(f.size) + " to " + std::to_string(size) + " bytes"
                                  : size > f.size ? "grown from " + std::to_string(f.size) + " to " + std::to_string(size) + " bytes"
                                                  : std::string("rewritten in place")) +
                                 "); the model reads its weights from the file (mmap), so it refuses to run on them: " +
                                 "dispose it and load again, or load with mmap: false to read the weights into memory");
  }
  return Status::Ok();
}

}  // namespace tt
