/* The C ABI of libthinktree_cuda.so, the CUDA backend (issue 7). The CPU addon never links CUDA: it
 * dlopens this library at run time (native/runtime/cuda_loader.cc), looks the functions below up by
 * name and checks tt_cuda_abi_version() against THINKTREE_CUDA_ABI_VERSION before calling anything
 * else. Plain C so that the two sides need not agree on a C++ ABI or standard library.
 *
 * Rules every function keeps:
 *  - it returns a tt_cuda_status and, on failure, writes a sentence (NUL-terminated, truncated to
 *    err_cap bytes) into err; it never aborts the process and never throws;
 *  - pointers named d_* are device pointers (from tt_cuda_alloc); pointers named h_* are host memory
 *    the call reads before it returns (small index arrays the host-side planner needs, which the
 *    library stages into its own device workspace, in the FlashInfer plan/run manner);
 *  - kernels run on `stream` (a cudaStream_t; NULL means the context's own stream) and are
 *    asynchronous: tt_cuda_download or tt_cuda_synchronize waits for them;
 *  - kernels never allocate per call: the context's workspace grows only when a call needs more
 *    than any earlier one did.
 * Half-open ranges [a, b) throughout. Shapes are row-major unless a field says otherwise.
 */
#ifndef THINKTREE_CUDA_H_
#define THINKTREE_CUDA_H_

#include <stddef.h>
#include <stdint.h>

#include "../include/thinktree/kernel_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library exports only these functions (it is built with hidden visibility). */
#if defined(THINKTREE_CUDA_BUILD)
#define TT_CUDA_API __attribute__((visibility("default")))
#else
#define TT_CUDA_API
#endif

/* Bumped whenever a struct layout or a function signature below changes. */
#define THINKTREE_CUDA_ABI_VERSION 4

typedef enum {
  TT_CUDA_OK = 0,
  TT_CUDA_INVALID = 1,      /* bad arguments (a bug in the caller: the addon validates user input) */
  TT_CUDA_NO_DEVICE = 2,    /* no CUDA device visible */
  TT_CUDA_DRIVER = 3,       /* no driver, or one too old for this library */
  TT_CUDA_OUT_OF_MEMORY = 4,
  TT_CUDA_RUNTIME = 5       /* any other CUDA runtime error */
} tt_cuda_status;

/* Element types, precisions and the kernels' parameter structs: native/include/thinktree/kernel_params.h. */

#define TT_CUDA_MAX_DEVICES 16

typedef struct {
  char name[256];
  int32_t compute_major, compute_minor;
  uint64_t total_memory_bytes;
  uint64_t free_memory_bytes;
  int32_t multiprocessors;
  /* 1 when this library carries code for the device (sm_80 or newer: real code for 80/86/89/90,
   * PTX for newer), else 0 and `unsupported` says why. */
  int32_t supported;
  char unsupported[160];
} tt_cuda_device_info;

typedef struct {
  int32_t driver_version;  /* cudaDriverGetVersion: 1000 * major + 10 * minor; 0 = no driver */
  int32_t runtime_version; /* the CUDA runtime linked into this library (static) */
  int32_t device_count;    /* devices visible; devices[] holds the first TT_CUDA_MAX_DEVICES */
  tt_cuda_device_info devices[TT_CUDA_MAX_DEVICES];
} tt_cuda_probe_result;

typedef struct tt_cuda_context tt_cuda_context;

/* ---- library, devices, memory ---- */

TT_CUDA_API int32_t tt_cuda_abi_version(void);
/* Never fails for lack of a GPU: with no driver or device it returns TT_CUDA_DRIVER /
 * TT_CUDA_NO_DEVICE with the reason in err (a driver too old names the driver version required), and
 * fills what it could. */
TT_CUDA_API tt_cuda_status tt_cuda_probe(tt_cuda_probe_result* out, char* err, size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_context_create(int32_t device, tt_cuda_context** out, char* err, size_t err_cap);
/* Frees the context's stream and workspace (not the buffers from tt_cuda_alloc). NULL is a no-op. */
TT_CUDA_API tt_cuda_status tt_cuda_context_destroy(tt_cuda_context* ctx, char* err, size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_alloc(tt_cuda_context* ctx, size_t bytes, void** d_out, char* err, size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_free(tt_cuda_context* ctx, void* d_ptr, char* err, size_t err_cap);
/* Host to device and back on the context's stream; both return once the copy is done. */
TT_CUDA_API tt_cuda_status tt_cuda_upload(tt_cuda_context* ctx, void* d_dst, const void* h_src, size_t bytes, char* err,
                              size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_download(tt_cuda_context* ctx, void* h_dst, const void* d_src, size_t bytes, char* err,
                                size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_synchronize(tt_cuda_context* ctx, char* err, size_t err_cap);
/* Measured device-to-device copy bandwidth in GB/s (bytes read + bytes written per second) over a
 * buffer of `bytes`, the machine limit the bench compares attention with. */
TT_CUDA_API tt_cuda_status tt_cuda_bench_copy(tt_cuda_context* ctx, size_t bytes, int32_t iterations, double* gb_per_s,
                                  char* err, size_t err_cap);
/* Wall time between two points of the context's stream, for benches: start records an event, stop
 * records another, waits, and returns the milliseconds between them. */
TT_CUDA_API tt_cuda_status tt_cuda_timer_start(tt_cuda_context* ctx, char* err, size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_timer_stop(tt_cuda_context* ctx, double* ms, char* err, size_t err_cap);

/* ---- kernels (parameter structs in kernel_params.h) ---- */


TT_CUDA_API tt_cuda_status tt_cuda_gemm(tt_cuda_context* ctx, const tt_cuda_gemm_params* p, void* stream, char* err,
                            size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_rms_norm(tt_cuda_context* ctx, const tt_cuda_rms_norm_params* p, void* stream, char* err,
                                size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_rope(tt_cuda_context* ctx, const tt_cuda_rope_params* p, void* stream, char* err,
                            size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_swiglu(tt_cuda_context* ctx, const tt_cuda_swiglu_params* p, void* stream, char* err,
                              size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_attention(tt_cuda_context* ctx, const tt_cuda_attention_params* p, void* stream, char* err,
                                 size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_sample(tt_cuda_context* ctx, const tt_cuda_sample_params* p, void* stream, char* err,
                              size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_reward_head(tt_cuda_context* ctx, const tt_cuda_reward_head_params* p, void* stream,
                                   char* err, size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_kv_copy(tt_cuda_context* ctx, const tt_cuda_kv_copy_params* p, void* stream, char* err,
                               size_t err_cap);

TT_CUDA_API tt_cuda_status tt_cuda_embed(tt_cuda_context* ctx, const tt_cuda_embed_params* p, void* stream, char* err,
                             size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_add(tt_cuda_context* ctx, const tt_cuda_add_params* p, void* stream, char* err,
                           size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_gather_rows(tt_cuda_context* ctx, const tt_cuda_gather_rows_params* p, void* stream,
                                   char* err, size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_kv_write(tt_cuda_context* ctx, const tt_cuda_kv_write_params* p, void* stream,
                                char* err, size_t err_cap);
TT_CUDA_API tt_cuda_status tt_cuda_token_logprob(tt_cuda_context* ctx, const tt_cuda_token_logprob_params* p,
                                     void* stream, char* err, size_t err_cap);

#ifdef __cplusplus
}
#endif

#endif /* THINKTREE_CUDA_H_ */
