// A CPU emulator of the small part of CUDA the thinktree kernels use, so that the kernels can run
// (slowly, on one core) on machines without a GPU: tools and tests build the same kernel sources
// against it (native/cuda/emu/build.mjs) into libthinktree_cuda_emu.so with the library's C ABI, and
// compare it with the CPU twins. It is a test double, never shipped and never loaded by 'auto'.
//
// Model: blocks run one after another; each thread of a block is a ucontext coroutine. __syncthreads
// returns to a scheduler that runs every thread up to the barrier (or its end) before resuming any,
// which is CUDA's barrier semantics for barriers every thread reaches. __shared__ variables become
// function statics (shared by the block's threads; blocks never overlap). Warp shuffles exchange
// through a block buffer between two barriers, so they too must be reached by every thread. WMMA
// fragments hold whole tiles in every lane and each lane computes the full product (redundant,
// exact); lane 0 alone stores.
#pragma once
#include <ucontext.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <type_traits>
#include <unordered_map>
#include <vector>

#define __host__
#define __device__
#define __global__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#define __shared__ static
#define CUDART_VERSION 13000

struct uint3 {
  unsigned x = 0, y = 0, z = 0;
};
struct dim3 {
  unsigned x, y, z;
  dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};

inline uint3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

inline int max(int a, int b) { return a > b ? a : b; }
inline int min(int a, int b) { return a < b ? a : b; }
inline float __int_as_float(int i) {
  float f;
  memcpy(&f, &i, 4);
  return f;
}

struct __nv_bfloat16 {
  uint16_t x;
};
inline __nv_bfloat16 __ushort_as_bfloat16(uint16_t u) { return {u}; }
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return {static_cast<uint16_t>((u >> 16) | 0x40u)};
  u += 0x7fffu + ((u >> 16) & 1u);
  return {static_cast<uint16_t>(u >> 16)};
}
inline float EmuBf16ToF32(__nv_bfloat16 h) {
  const uint32_t u = static_cast<uint32_t>(h.x) << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

// Switching between emulated threads. glibc's swapcontext makes a sigprocmask system call on every
// switch, and every __syncthreads and warp shuffle switches all the threads of a block: on x86-64 a
// plain register switch (callee-saved registers and the stack pointer) does the same job without
// entering the kernel. Other hosts keep ucontext.
#if defined(__x86_64__)
extern "C" void tt_emu_switch(void** save_sp, void* load_sp);
asm(R"(
  .pushsection .text.tt_emu_switch,"axG",@progbits,tt_emu_switch,comdat
  .globl tt_emu_switch
  .hidden tt_emu_switch
  .type tt_emu_switch,@function
tt_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size tt_emu_switch, .-tt_emu_switch
  .popsection
)");
#endif

namespace tt_emu {

#if defined(__x86_64__)
struct Context {
  void* sp = nullptr;
};
inline void Switch(Context* from, Context* to) { tt_emu_switch(&from->sp, to->sp); }
// A context that starts fn on the given stack (fn must never return: it switches away for good).
inline void Start(Context* c, char* stack, size_t size, void (*fn)()) {
  void** top = reinterpret_cast<void**>((reinterpret_cast<uintptr_t>(stack) + size) & ~uintptr_t{15});
  top[-1] = nullptr;                    // fn's return address slot: rsp ≡ 8 (mod 16) at its entry
  top[-2] = reinterpret_cast<void*>(fn);  // where tt_emu_switch's ret goes
  for (int i = 3; i <= 8; i++) top[-i] = nullptr;  // the six callee-saved registers it pops
  c->sp = top - 8;
}
#else
struct Context {
  ucontext_t uc;
};
inline void Switch(Context* from, Context* to) { swapcontext(&from->uc, &to->uc); }
inline void Start(Context* c, char* stack, size_t size, void (*fn)()) {
  getcontext(&c->uc);
  c->uc.uc_stack.ss_sp = stack;
  c->uc.uc_stack.ss_size = size;
  c->uc.uc_link = nullptr;
  makecontext(&c->uc, fn, 0);
}
#endif

struct Thread {
  Context ctx;
  std::vector<char> stack;
  bool done = false;
  uint3 tid;
};

inline Context g_sched;
inline Thread* g_cur = nullptr;
inline const std::function<void()>* g_body = nullptr;
inline unsigned char g_xchg[1024][8];  // warp-shuffle exchange, one slot per thread of the block

// The emulated device's memory: THINKTREE_CUDA_EMU_MEMORY_BYTES when set (so tests can pretend a small
// GPU and meet the out-of-memory paths), else 4 GiB. Allocations count against it. Read at every
// call, so a test may change it between loads in one process.
inline size_t MemoryBytes() {
  const char* v = getenv("THINKTREE_CUDA_EMU_MEMORY_BYTES");
  const unsigned long long n = v != nullptr ? strtoull(v, nullptr, 10) : 0;
  return n > 0 ? static_cast<size_t>(n) : size_t{1} << 32;
}
inline size_t g_allocated = 0;                        // bytes handed out by cudaMalloc and not freed
inline std::unordered_map<void*, size_t> g_sizes;     // size of each live allocation

inline std::vector<unsigned char> g_dynamic_smem;  // the launch's dynamic shared memory
inline unsigned char* DynamicSmem() { return g_dynamic_smem.data(); }

inline void Entry() {
  (*g_body)();
  g_cur->done = true;
  Switch(&g_cur->ctx, &g_sched);  // never resumed
}

// One emulated launch at a time: the block state above is global, and two models (a policy and its
// PRM) may call in from two worker threads.
inline std::mutex g_mu;

inline void Launch(const std::function<void()>& body, dim3 grid, dim3 block, size_t smem = 0, void* = nullptr) {
  std::lock_guard<std::mutex> lock(g_mu);
  constexpr size_t kStack = 256 << 10;
  g_dynamic_smem.assign(smem + 128, 0);
  const unsigned n = block.x * block.y * block.z;
  gridDim = grid;
  blockDim = block;
  g_body = &body;
  // Threads (and their stacks) are kept between launches: zero-filling a fresh 256 KiB stack per
  // thread per launch would cost more than most emulated kernels do.
  static std::vector<Thread> pool;
  if (pool.size() < n) pool.resize(n);
  for (unsigned i = 0; i < n; i++)
    if (pool[i].stack.size() < kStack) pool[i].stack.resize(kStack);
  Thread* ts = pool.data();
  for (unsigned bz = 0; bz < grid.z; bz++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++) {
        blockIdx.x = bx, blockIdx.y = by, blockIdx.z = bz;
        for (unsigned i = 0; i < n; i++) {
          Thread& t = ts[i];
          Start(&t.ctx, t.stack.data(), kStack, Entry);
          t.done = false;
          t.tid.x = i % block.x;
          t.tid.y = (i / block.x) % block.y;
          t.tid.z = i / (block.x * block.y);
        }
        for (bool running = true; running;) {
          running = false;
          for (unsigned i = 0; i < n; i++) {
            Thread& t = ts[i];
            if (t.done) continue;
            threadIdx = t.tid;
            g_cur = &t;
            Switch(&g_sched, &t.ctx);
            running = running || !t.done;
          }
        }
      }
}

}  // namespace tt_emu

inline void __syncthreads() {
  tt_emu::Thread* self = tt_emu::g_cur;
  tt_emu::Switch(&self->ctx, &tt_emu::g_sched);
}

template <typename T>
inline T __shfl_xor_sync(unsigned, T v, int lane_mask) {
  static_assert(sizeof(T) <= 8, "shuffle of a value wider than 8 bytes");
  const unsigned me = threadIdx.x;
  memcpy(tt_emu::g_xchg[me], &v, sizeof(T));
  __syncthreads();
  T r;
  memcpy(&r, tt_emu::g_xchg[(me & ~31u) | ((me & 31u) ^ static_cast<unsigned>(lane_mask))], sizeof(T));
  __syncthreads();
  return r;
}

inline int atomicMax(int* p, int v) {
  const int old = *p;
  if (v > old) *p = v;
  return old;
}
inline double atomicAdd(double* p, double v) {
  const double old = *p;
  *p = old + v;
  return old;
}
inline int atomicMin(int* p, int v) {
  const int old = *p;
  if (v < old) *p = v;
  return old;
}

// ---- runtime API ----
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorNoKernelImageForDevice = 209,
};
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
using cudaStream_t = struct CUstream_st*;
using cudaEvent_t = struct CUevent_st*;
constexpr unsigned cudaStreamNonBlocking = 1;
struct CUevent_st {
  std::chrono::steady_clock::time_point t;
};
struct cudaDeviceProp {
  char name[256];
  int major, minor;
  size_t totalGlobalMem;
  int multiProcessorCount;
};

struct uint4 {
  unsigned x, y, z, w;
};
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
template <typename F>
inline cudaError_t cudaFuncSetAttribute(F, cudaFuncAttribute, int) {
  return cudaSuccess;
}
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline const char* cudaGetErrorString(cudaError_t) { return "emulated CUDA error"; }
inline const char* cudaGetErrorName(cudaError_t) { return "cudaErrorEmulated"; }
inline cudaError_t cudaDriverGetVersion(int* v) { return *v = CUDART_VERSION, cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int* n) { return *n = 1, cudaSuccess; }
inline cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorNoDevice; }
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) {
  memset(p, 0, sizeof(*p));
  strcpy(p->name, "thinktree CUDA emulator (CPU)");
  p->major = 9;
  p->minor = 0;
  p->totalGlobalMem = tt_emu::MemoryBytes();
  p->multiProcessorCount = 1;
  return cudaSuccess;
}
inline cudaError_t cudaMemGetInfo(size_t* free_b, size_t* total_b) {
  std::lock_guard<std::mutex> lock(tt_emu::g_mu);
  *total_b = tt_emu::MemoryBytes();
  *free_b = *total_b - std::min(*total_b, tt_emu::g_allocated);
  return cudaSuccess;
}
inline cudaError_t cudaMalloc(void** p, size_t n) {
  std::lock_guard<std::mutex> lock(tt_emu::g_mu);
  *p = nullptr;
  if (n > tt_emu::MemoryBytes() - std::min(tt_emu::MemoryBytes(), tt_emu::g_allocated)) return cudaErrorMemoryAllocation;
  *p = malloc(n);
  if (*p == nullptr) return cudaErrorMemoryAllocation;
  tt_emu::g_sizes[*p] = n;
  tt_emu::g_allocated += n;
  return cudaSuccess;
}
inline cudaError_t cudaFree(void* p) {
  std::lock_guard<std::mutex> lock(tt_emu::g_mu);
  auto it = tt_emu::g_sizes.find(p);
  if (it != tt_emu::g_sizes.end()) {
    tt_emu::g_allocated -= it->second;
    tt_emu::g_sizes.erase(it);
  }
  return free(p), cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  static char token;
  *s = reinterpret_cast<cudaStream_t>(&token);
  return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaMemcpyAsync(void* d, const void* s, size_t n, cudaMemcpyKind, cudaStream_t = nullptr) {
  memmove(d, s, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* d, int v, size_t n, cudaStream_t = nullptr) {
  memset(d, v, n);
  return cudaSuccess;
}
inline cudaError_t cudaEventCreate(cudaEvent_t* e) { return *e = new CUevent_st(), cudaSuccess; }
inline cudaError_t cudaEventDestroy(cudaEvent_t e) { return delete e, cudaSuccess; }
inline cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t = nullptr) {
  e->t = std::chrono::steady_clock::now();
  return cudaSuccess;
}
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
inline cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
  return cudaSuccess;
}

// ---- WMMA (nvcuda::wmma): whole tiles per lane ----
namespace nvcuda::wmma {
struct row_major {};
struct col_major {};
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
  // matrix_a: [M, K]; matrix_b: [K, N]; accumulator: [M, N]; row-major, as floats
  float v[M * (N > K ? N : K)];
};

template <typename Use, int M, int N, int K, typename T, typename L>
inline void fill_fragment(fragment<Use, M, N, K, T, L>& f, float x) {
  for (float& e : f.v) e = x;
}

template <int M, int N, int K, typename L>
inline void load_matrix_sync(fragment<matrix_a, M, N, K, __nv_bfloat16, L>& f, const __nv_bfloat16* p, unsigned ldm) {
  for (int i = 0; i < M; i++)
    for (int k = 0; k < K; k++)
      f.v[i * K + k] = EmuBf16ToF32(std::is_same_v<L, row_major> ? p[i * ldm + k] : p[k * ldm + i]);
}
template <int M, int N, int K, typename L>
inline void load_matrix_sync(fragment<matrix_b, M, N, K, __nv_bfloat16, L>& f, const __nv_bfloat16* p, unsigned ldm) {
  for (int k = 0; k < K; k++)
    for (int j = 0; j < N; j++)
      f.v[k * N + j] = EmuBf16ToF32(std::is_same_v<L, row_major> ? p[k * ldm + j] : p[j * ldm + k]);
}
template <int M, int N, int K, typename LA, typename LB>
inline void mma_sync(fragment<accumulator, M, N, K, float>& d, const fragment<matrix_a, M, N, K, __nv_bfloat16, LA>& a,
                     const fragment<matrix_b, M, N, K, __nv_bfloat16, LB>& b,
                     const fragment<accumulator, M, N, K, float>& c) {
  float out[M * N];
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = c.v[i * N + j];
      for (int k = 0; k < K; k++) s += a.v[i * K + k] * b.v[k * N + j];
      out[i * N + j] = s;
    }
  memcpy(d.v, out, sizeof(out));
}
template <int M, int N, int K>
inline void load_matrix_sync(fragment<accumulator, M, N, K, float>& f, const float* p, unsigned ldm, layout_t layout) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) f.v[i * N + j] = layout == mem_row_major ? p[i * ldm + j] : p[j * ldm + i];
}
// Only lane 0 stores: lanes run one after another here, and a later lane of a load-mma-store sequence
// through the same memory would otherwise read lane 0's store (the hardware's collective load and
// store see one value). Every lane computes the same tile, so lane 0's is the warp's.
template <int M, int N, int K>
inline void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm, layout_t layout) {
  if ((threadIdx.x & 31u) != 0) return;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) (layout == mem_row_major ? p[i * ldm + j] : p[j * ldm + i]) = f.v[i * N + j];
}
}  // namespace nvcuda::wmma
