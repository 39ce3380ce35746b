// Library-level ABI entries: version, probe, context, memory, timing (thinktree_cuda.h).
#include <cstdio>
#include <cstring>
#include <new>

#include "context.h"

namespace tt::cuda {

tt_cuda_status Fail(char* err, size_t err_cap, tt_cuda_status code, const char* fmt, ...) {
  if (err != nullptr && err_cap > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_cap, fmt, ap);
    va_end(ap);
  }
  return code;
}

tt_cuda_status FailCuda(char* err, size_t err_cap, cudaError_t e, const char* what) {
  cudaGetLastError();  // clear the sticky-free error state so the next call starts clean
  tt_cuda_status code = TT_CUDA_RUNTIME;
  if (e == cudaErrorMemoryAllocation) code = TT_CUDA_OUT_OF_MEMORY;
  if (e == cudaErrorNoDevice) code = TT_CUDA_NO_DEVICE;
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoKernelImageForDevice) code = TT_CUDA_DRIVER;
  return Fail(err, err_cap, code, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

tt_cuda_status EnsureWorkspace(tt_cuda_context* ctx, size_t bytes, char* err, size_t err_cap) {
  if (bytes <= ctx->workspace_bytes) return TT_CUDA_OK;
  cudaError_t e = cudaDeviceSynchronize();
  if (e != cudaSuccess) return FailCuda(err, err_cap, e, "waiting before growing the CUDA workspace");
  if (ctx->workspace != nullptr) cudaFree(ctx->workspace);
  ctx->workspace = nullptr;
  ctx->workspace_bytes = 0;
  const size_t grown = bytes + bytes / 2;  // headroom so slowly growing batches do not reallocate each call
  e = cudaMalloc(&ctx->workspace, grown);
  if (e != cudaSuccess) return FailCuda(err, err_cap, e, "allocating the CUDA workspace");
  ctx->workspace_bytes = grown;
  return TT_CUDA_OK;
}

}  // namespace tt::cuda

using tt::cuda::Fail;
using tt::cuda::FailCuda;

namespace {

// The driver a CUDA 13.x runtime needs: R580 (CUDA 13.0's minimum Linux driver).
constexpr const char* kRequiredDriver = "an NVIDIA driver of version 580 or newer (CUDA 13.0)";

// No driver, or one older than the runtime linked in: TT_CUDA_DRIVER with the driver to install.
tt_cuda_status CheckDriver(int* driver, char* err, size_t err_cap) {
  *driver = 0;
  if (cudaDriverGetVersion(driver) != cudaSuccess || *driver == 0) {
    cudaGetLastError();
    *driver = 0;
    return Fail(err, err_cap, TT_CUDA_DRIVER, "no NVIDIA driver found (libcuda.so is not loadable); install %s",
                kRequiredDriver);
  }
  if (*driver < CUDART_VERSION) {
    return Fail(err, err_cap, TT_CUDA_DRIVER,
                "the NVIDIA driver supports CUDA %d.%d but this library needs CUDA %d.%d; install %s", *driver / 1000,
                (*driver % 1000) / 10, CUDART_VERSION / 1000, (CUDART_VERSION % 1000) / 10, kRequiredDriver);
  }
  return TT_CUDA_OK;
}

}  // namespace

extern "C" {

int32_t tt_cuda_abi_version(void) { return THINKTREE_CUDA_ABI_VERSION; }

tt_cuda_status tt_cuda_probe(tt_cuda_probe_result* out, char* err, size_t err_cap) {
  if (out == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_probe: out is null");
  memset(out, 0, sizeof(*out));
  out->runtime_version = CUDART_VERSION;
  int driver = 0;
  const tt_cuda_status ds = CheckDriver(&driver, err, err_cap);
  out->driver_version = driver;
  if (ds != TT_CUDA_OK) return ds;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorNoDevice || (e == cudaSuccess && count == 0)) {
    cudaGetLastError();
    return Fail(err, err_cap, TT_CUDA_NO_DEVICE, "the NVIDIA driver is installed but no CUDA device is visible");
  }
  if (e != cudaSuccess) return FailCuda(err, err_cap, e, "counting CUDA devices");
  out->device_count = count;
  for (int d = 0; d < count && d < TT_CUDA_MAX_DEVICES; d++) {
    cudaDeviceProp prop;
    e = cudaGetDeviceProperties(&prop, d);
    if (e != cudaSuccess) return FailCuda(err, err_cap, e, "reading CUDA device properties");
    tt_cuda_device_info& info = out->devices[d];
    snprintf(info.name, sizeof(info.name), "%s", prop.name);
    info.compute_major = prop.major;
    info.compute_minor = prop.minor;
    info.total_memory_bytes = prop.totalGlobalMem;
    info.multiprocessors = prop.multiProcessorCount;
    size_t free_b = 0, total_b = 0;
    if (cudaSetDevice(d) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
      info.free_memory_bytes = free_b;
    cudaGetLastError();
    info.supported = prop.major >= 8 ? 1 : 0;
    if (!info.supported)
      snprintf(info.unsupported, sizeof(info.unsupported),
               "compute capability %d.%d is older than 8.0 (Ampere), the oldest this library is built for",
               prop.major, prop.minor);
  }
  return TT_CUDA_OK;
}

tt_cuda_status tt_cuda_context_create(int32_t device, tt_cuda_context** out, char* err, size_t err_cap) {
  if (out == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_context_create: out is null");
  *out = nullptr;
  int driver = 0;
  const tt_cuda_status ds = CheckDriver(&driver, err, err_cap);
  if (ds != TT_CUDA_OK) return ds;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) return FailCuda(err, err_cap, e, "counting CUDA devices");
  if (device < 0 || device >= count)
    return Fail(err, err_cap, TT_CUDA_INVALID, "CUDA device %d does not exist (%d visible)", device, count);
  if ((e = cudaSetDevice(device)) != cudaSuccess) return FailCuda(err, err_cap, e, "selecting the CUDA device");
  tt_cuda_context* ctx = new (std::nothrow) tt_cuda_context();
  if (ctx == nullptr) return Fail(err, err_cap, TT_CUDA_OUT_OF_MEMORY, "out of host memory for a CUDA context");
  ctx->device = device;
  if ((e = cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking)) != cudaSuccess ||
      (e = cudaEventCreate(&ctx->timer_begin)) != cudaSuccess || (e = cudaEventCreate(&ctx->timer_end)) != cudaSuccess) {
    tt_cuda_context_destroy(ctx, nullptr, 0);
    return FailCuda(err, err_cap, e, "creating the CUDA stream");
  }
  *out = ctx;
  return TT_CUDA_OK;
}

tt_cuda_status tt_cuda_context_destroy(tt_cuda_context* ctx, char* err, size_t err_cap) {
  if (ctx == nullptr) return TT_CUDA_OK;
  cudaSetDevice(ctx->device);
  if (ctx->stream != nullptr) cudaStreamSynchronize(ctx->stream);
  if (ctx->workspace != nullptr) cudaFree(ctx->workspace);
  if (ctx->timer_begin != nullptr) cudaEventDestroy(ctx->timer_begin);
  if (ctx->timer_end != nullptr) cudaEventDestroy(ctx->timer_end);
  if (ctx->stream != nullptr) cudaStreamDestroy(ctx->stream);
  delete ctx;
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? TT_CUDA_OK : FailCuda(err, err_cap, e, "destroying the CUDA context");
}

tt_cuda_status tt_cuda_alloc(tt_cuda_context* ctx, size_t bytes, void** d_out, char* err, size_t err_cap) {
  if (ctx == nullptr || d_out == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_alloc: null argument");
  *d_out = nullptr;
  cudaSetDevice(ctx->device);
  const cudaError_t e = cudaMalloc(d_out, bytes == 0 ? 1 : bytes);
  if (e == cudaSuccess) return TT_CUDA_OK;
  size_t free_b = 0, total_b = 0;
  cudaGetLastError();
  cudaMemGetInfo(&free_b, &total_b);
  cudaGetLastError();
  return Fail(err, err_cap, TT_CUDA_OUT_OF_MEMORY,
              "the GPU has %.2f GiB free of %.2f GiB and cannot hold %.2f GiB more; lower the KV budget or the "
              "batch, or use device 'cpu'",
              free_b / 1073741824.0, total_b / 1073741824.0, bytes / 1073741824.0);
}

tt_cuda_status tt_cuda_free(tt_cuda_context* ctx, void* d_ptr, char* err, size_t err_cap) {
  if (ctx == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_free: null context");
  if (d_ptr == nullptr) return TT_CUDA_OK;
  cudaSetDevice(ctx->device);
  const cudaError_t e = cudaFree(d_ptr);
  return e == cudaSuccess ? TT_CUDA_OK : FailCuda(err, err_cap, e, "freeing device memory");
}

tt_cuda_status tt_cuda_upload(tt_cuda_context* ctx, void* d_dst, const void* h_src, size_t bytes, char* err,
                              size_t err_cap) {
  if (ctx == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_upload: null context");
  if (bytes == 0) return TT_CUDA_OK;
  cudaSetDevice(ctx->device);
  cudaError_t e = cudaMemcpyAsync(d_dst, h_src, bytes, cudaMemcpyHostToDevice, ctx->stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(ctx->stream);
  return e == cudaSuccess ? TT_CUDA_OK : FailCuda(err, err_cap, e, "copying to the GPU");
}

tt_cuda_status tt_cuda_download(tt_cuda_context* ctx, void* h_dst, const void* d_src, size_t bytes, char* err,
                                size_t err_cap) {
  if (ctx == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_download: null context");
  if (bytes == 0) return tt_cuda_synchronize(ctx, err, err_cap);
  cudaSetDevice(ctx->device);
  cudaError_t e = cudaMemcpyAsync(h_dst, d_src, bytes, cudaMemcpyDeviceToHost, ctx->stream);
  if (e == cudaSuccess) e = cudaStreamSynchronize(ctx->stream);
  return e == cudaSuccess ? TT_CUDA_OK : FailCuda(err, err_cap, e, "copying from the GPU");
}

tt_cuda_status tt_cuda_synchronize(tt_cuda_context* ctx, char* err, size_t err_cap) {
  if (ctx == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_synchronize: null context");
  cudaSetDevice(ctx->device);
  const cudaError_t e = cudaStreamSynchronize(ctx->stream);
  return e == cudaSuccess ? TT_CUDA_OK : FailCuda(err, err_cap, e, "running CUDA kernels");
}

tt_cuda_status tt_cuda_bench_copy(tt_cuda_context* ctx, size_t bytes, int32_t iterations, double* gb_per_s,
                                  char* err, size_t err_cap) {
  if (ctx == nullptr || gb_per_s == nullptr || iterations <= 0 || bytes == 0)
    return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_bench_copy: bad arguments");
  void *a = nullptr, *b = nullptr;
  tt_cuda_status st = tt_cuda_alloc(ctx, bytes, &a, err, err_cap);
  if (st != TT_CUDA_OK) return st;
  st = tt_cuda_alloc(ctx, bytes, &b, err, err_cap);
  if (st != TT_CUDA_OK) {
    cudaFree(a);
    return st;
  }
  cudaError_t e = cudaMemsetAsync(a, 1, bytes, ctx->stream);
  if (e == cudaSuccess) e = cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice, ctx->stream);  // warm-up
  if (e == cudaSuccess) e = cudaEventRecord(ctx->timer_begin, ctx->stream);
  for (int32_t i = 0; i < iterations && e == cudaSuccess; i++)
    e = cudaMemcpyAsync(i % 2 ? a : b, i % 2 ? b : a, bytes, cudaMemcpyDeviceToDevice, ctx->stream);
  if (e == cudaSuccess) e = cudaEventRecord(ctx->timer_end, ctx->stream);
  if (e == cudaSuccess) e = cudaEventSynchronize(ctx->timer_end);
  float ms = 0.0f;
  if (e == cudaSuccess) e = cudaEventElapsedTime(&ms, ctx->timer_begin, ctx->timer_end);
  cudaFree(a);
  cudaFree(b);
  if (e != cudaSuccess) return FailCuda(err, err_cap, e, "measuring copy bandwidth");
  *gb_per_s = 2.0 * static_cast<double>(bytes) * iterations / (ms * 1e-3) / 1e9;
  return TT_CUDA_OK;
}

tt_cuda_status tt_cuda_timer_start(tt_cuda_context* ctx, char* err, size_t err_cap) {
  if (ctx == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_timer_start: null context");
  const cudaError_t e = cudaEventRecord(ctx->timer_begin, ctx->stream);
  return e == cudaSuccess ? TT_CUDA_OK : FailCuda(err, err_cap, e, "recording a timer event");
}

tt_cuda_status tt_cuda_timer_stop(tt_cuda_context* ctx, double* ms, char* err, size_t err_cap) {
  if (ctx == nullptr || ms == nullptr) return Fail(err, err_cap, TT_CUDA_INVALID, "tt_cuda_timer_stop: null argument");
  cudaError_t e = cudaEventRecord(ctx->timer_end, ctx->stream);
  if (e == cudaSuccess) e = cudaEventSynchronize(ctx->timer_end);
  float t = 0.0f;
  if (e == cudaSuccess) e = cudaEventElapsedTime(&t, ctx->timer_begin, ctx->timer_end);
  if (e != cudaSuccess) return FailCuda(err, err_cap, e, "reading a timer");
  *ms = t;
  return TT_CUDA_OK;
}

}  // extern "C"
