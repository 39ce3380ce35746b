// Token sampling on the GPU, the twin of kernels/cpu/sampling.cc (read its header comment for the
// filter semantics, which this kernel keeps exactly: the same kept set, the same draw u from
// PhiloxUniform(seed, counter), the same walk order). What differs is how the kept set is found:
// the CPU sorts the few hundred tokens around a cut; here nothing is sorted. Every cut (the k-th
// logit, the top-p boundary, the token the draw lands on) is a threshold on the logit's order key
// (common/sampling_math.h FloatOrderKeyU), found by a radix select: four passes over the row, each a
// 256-bin shared-memory histogram (count or probability mass) of the next 8 bits of the keys that
// share the bits chosen so far — the idea of FlashInfer's sorting-free samplers (they pivot on the
// probability; a radix over the keys bounds the passes at four). Ties at a cut are resolved by id,
// as the CPU's (logit, then lowest id) order does: one pass when all or one of them stay, else a
// bisection over ids.
//
// Unfiltered rows (temperature only) need just a max, a sum and the walk. Masses are summed in
// double, like the CPU; the sums run in another order, so a draw whose target falls within rounding
// of a boundary between two tokens may pick the neighbour: distributions are the same.
#include "../common/philox.h"
#include "../common/sampling_math.h"
#include "common.cuh"
#include "kernels.h"

namespace tt::cuda {

namespace {

// The emulator (native/cuda/emu) runs a block's threads one after another: fewer keep its tests quick.
#ifdef TT_CUDA_EMU
constexpr int kThreads = 64;
#else
constexpr int kThreads = 512;
#endif
// Up to this k the CPU walks the survivors in descending order (kTopKSortedMax in sampling.cc).
constexpr int32_t kTopKDescendingMax = 256;

__device__ __forceinline__ uint32_t Key(float l) { return FloatOrderKeyU(l == 0.0f ? 0.0f : l); }  // −0 ties +0

// The float a key came from (its inverse; −0 never occurs, Key maps it to +0).
__device__ __forceinline__ float FromKey(uint32_t key) {
  const int32_t s = static_cast<int32_t>(key ^ 0x80000000u);
  return __int_as_float(s ^ ((s >> 31) & 0x7fffffff));
}

struct Shared {
  double hist[256];  // radix-select histogram: mass (or count) per value of the current key byte
  double sel_above, sel_at;
  int32_t sel_byte;
  double dsum[32];
  int32_t isum[32];
  float fmax[32];
  double chunk[kThreads];  // per-thread chunk sums for the id-order walk
  int32_t result;
};

// The row's filters, applied in Hugging Face's order; weight(i) is token i's unnormalised
// probability after all filters decided so far.
struct Row {
  const float* logits;
  int32_t vocab;
  float max, inv_t;
  bool has_k = false;  // top-k: keep key > k_key, and ties at k_key with id ≤ k_id
  uint32_t k_key = 0;
  int32_t k_id = 0;
  bool has_p = false;  // top-p: the same shape of cut
  uint32_t p_key = 0;
  int32_t p_id = 0;
  float min_p = 0.0f;  // weights below it are removed (0 = off)

  __device__ bool KeptK(int32_t i, uint32_t key) const {
    return !has_k || key > k_key || (key == k_key && i <= k_id);
  }
  __device__ bool KeptP(int32_t i, uint32_t key) const {
    return !has_p || key > p_key || (key == p_key && i <= p_id);
  }
  __device__ float Weight(int32_t i) const {
    const float l = logits[i];
    const uint32_t key = Key(l);
    if (!KeptK(i, key) || !KeptP(i, key)) return 0.0f;
    const float w = ExpNonPositive((l - max) * inv_t);
    return w >= min_p ? w : 0.0f;
  }
};

template <typename F>
__device__ double MassWhere(const Row& row, F pred, Shared& sh) {
  double s = 0.0;
  for (int32_t i = threadIdx.x; i < row.vocab; i += blockDim.x)
    if (pred(i)) s += row.Weight(i);
  return BlockSum(s, sh.dsum);
}

template <typename F>
__device__ int32_t CountWhere(int32_t vocab, F pred, Shared& sh) {
  int32_t c = 0;
  for (int32_t i = threadIdx.x; i < vocab; i += blockDim.x) c += pred(i) ? 1 : 0;
  return BlockSum(c, sh.isum);
}

// Largest key c with F(c) ≥ target (kStrict: F(c) > target), where F(c) = Σ weight(i) over tokens
// whose key is ≥ c; F(0) must pass. Four radix passes: at byte b, the histogram of byte b over the
// tokens that match the bytes chosen above it; the largest byte value that still passes is chosen.
// Also returns the weight strictly above the key and at it (the ties' total).
struct Cut {
  uint32_t key;
  double above, at;
};

template <bool kStrict, typename W>
__device__ Cut RadixSelect(const float* logits, int32_t vocab, W weight, double target, Shared& sh) {
  uint32_t prefix = 0;
  double above = 0.0, at = 0.0;
  for (int b = 3; b >= 0; b--) {
    for (int v = threadIdx.x; v < 256; v += blockDim.x) sh.hist[v] = 0.0;
    __syncthreads();
    const uint32_t high = b == 3 ? 0u : 0xFFFFFFFFu << (8 * (b + 1));  // the bytes chosen so far
    for (int32_t i = threadIdx.x; i < vocab; i += blockDim.x) {
      const uint32_t key = Key(logits[i]);
      if ((key & high) != prefix) continue;
      const double w = weight(i);
      if (w != 0.0) atomicAdd(&sh.hist[(key >> (8 * b)) & 255u], w);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      double acc = above;
      int v = 255;
      for (; v > 0; v--) {
        const double next = acc + sh.hist[v];
        if (kStrict ? next > target : next >= target) break;
        acc = next;
      }
      sh.sel_byte = v;  // v = 0 passes whenever nothing above it did: F(prefix) passes by construction
      sh.sel_above = acc;
      sh.sel_at = sh.hist[v];
    }
    __syncthreads();
    prefix |= static_cast<uint32_t>(sh.sel_byte) << (8 * b);
    above = sh.sel_above;
    at = sh.sel_at;
    __syncthreads();  // everyone has read the selection before the next pass clears the histogram
  }
  return {prefix, above, at};
}

// Smallest id x with count(member(i), i ≤ x) ≥ n, for 1 ≤ n ≤ count (the members' total): one pass
// for the first or the last member, else a bisection over ids.
template <typename F>
__device__ int32_t NthMemberId(int32_t vocab, int32_t n, int32_t count, F member, Shared& sh) {
  if (n == 1 || n == count) {
    if (threadIdx.x == 0) sh.result = n == 1 ? vocab : -1;
    __syncthreads();
    for (int32_t i = threadIdx.x; i < vocab; i += blockDim.x)
      if (member(i)) n == 1 ? atomicMin(&sh.result, i) : atomicMax(&sh.result, i);
    __syncthreads();
    const int32_t id = sh.result;
    __syncthreads();
    return id;
  }
  int32_t lo = 0, hi = vocab - 1;
  while (lo < hi) {
    const int32_t mid = lo + (hi - lo) / 2;
    if (CountWhere(vocab, [&](int32_t i) { return i <= mid && member(i); }, sh) >= n) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

__global__ void __launch_bounds__(kThreads) SampleKernel(tt_cuda_sample_params p) {
  __shared__ Shared sh;
  const int32_t r = blockIdx.x;
  const float* logits = p.d_logits + static_cast<int64_t>(r) * p.ld_logits;
  const int32_t V = p.vocab;

  // the row's max (NaN ignored), whether it holds a NaN, and the lowest id of the max
  float mx = -INFINITY;
  int32_t nan = 0;
  for (int32_t i = threadIdx.x; i < V; i += blockDim.x) {
    const float l = logits[i];
    nan |= l != l;
    mx = fmaxf(mx, l);  // fmaxf drops NaN
  }
  nan = BlockSum(nan, sh.isum);
  mx = WarpMax(mx);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) sh.fmax[threadIdx.x >> 5] = mx;
  __syncthreads();
  mx = -INFINITY;
  for (int w = 0; w < static_cast<int>(blockDim.x >> 5); w++) mx = fmaxf(mx, sh.fmax[w]);
  if (threadIdx.x == 0) sh.result = V;
  __syncthreads();
  for (int32_t i = threadIdx.x; i < V; i += blockDim.x)
    if (logits[i] == mx) atomicMin(&sh.result, i);
  __syncthreads();
  const int32_t arg = sh.result < V ? sh.result : 0;

  const float t = p.d_temperature[r];
  const float inv_t = t > 0.0f ? 1.0f / t : 0.0f;
  const int32_t top_k = p.d_top_k[r];
  const bool degenerate = nan != 0 || !(mx > -INFINITY && mx < INFINITY);
  if (V <= 0 || degenerate || !(t > 0.0f) || !(inv_t < INFINITY) || top_k == 1) {
    if (threadIdx.x == 0) p.d_out[r] = V <= 0 ? 0 : arg;
    return;
  }

  Row row;
  row.logits = logits;
  row.vocab = V;
  row.max = mx;
  row.inv_t = inv_t;
  const int32_t k = top_k > 0 && top_k < V ? top_k : 0;
  const float top_p = p.d_top_p[r];
  const float min_p = p.d_min_p[r];

  // top-k: the k-th largest key, then the ties at it that fit, lowest ids first
  if (k > 0) {
    const Cut c = RadixSelect<false>(logits, V, [](int32_t) { return 1.0; }, static_cast<double>(k), sh);
    const int32_t above = static_cast<int32_t>(c.above), ties = static_cast<int32_t>(c.at);
    const uint32_t kk = c.key;
    row.k_key = kk;
    row.k_id = NthMemberId(V, k - above, ties, [&](int32_t i) { return Key(logits[i]) == kk; }, sh);
    row.has_k = true;
  }

  // top-p: the shortest prefix of the descending order whose mass reaches top_p · mass; token j stays
  // iff the mass before it is < the limit (the first token always stays)
  if (top_p < 1.0f) {
    const double total = MassWhere(row, [](int32_t) { return true; }, sh);
    const double limit = static_cast<double>(top_p) * total;
    uint32_t pk;
    int32_t keep_ties, ties;
    if (!(limit > 0.0)) {
      pk = Key(mx);  // only the first token: the lowest id holding the max
      keep_ties = 1;
      ties = CountWhere(V, [&](int32_t i) { return Key(logits[i]) == pk && row.KeptK(i, pk); }, sh);
    } else {
      const Cut c = RadixSelect<false>(logits, V, [&](int32_t i) { return static_cast<double>(row.Weight(i)); }, limit, sh);
      pk = c.key;
      const double above = c.above;
      ties = CountWhere(V, [&](int32_t i) { return Key(logits[i]) == pk && row.KeptK(i, pk); }, sh);
      const float w_tie = ExpNonPositive((FromKey(pk) - mx) * inv_t);
      if (w_tie > 0.0f) {
        const double need = (limit - above) / w_tie;  // ties before the one that reaches the limit
        double n = ceil(need);
        if (n < 1.0) n = 1.0;
        keep_ties = n > ties ? ties : static_cast<int32_t>(n);
      } else {
        keep_ties = ties;  // weightless ties are never drawn whichever stay
      }
      if (keep_ties < 1) keep_ties = 1;
    }
    row.p_key = pk;
    row.p_id = NthMemberId(V, keep_ties, ties, [&](int32_t i) { return Key(logits[i]) == pk && row.KeptK(i, pk); }, sh);
    row.has_p = true;
  }
  row.min_p = min_p > 0.0f ? min_p : 0.0f;

  // the draw: u · total over the kept weights, walked in the CPU's order
  const float u = PhiloxUniform(p.d_seeds[r], p.d_counters[r]);
  const double total = MassWhere(row, [](int32_t) { return true; }, sh);
  if (!(total > 0.0)) {
    if (threadIdx.x == 0) p.d_out[r] = arg;
    return;
  }
  const double target = static_cast<double>(u) * total;
  if (k > 0 && k <= kTopKDescendingMax) {
    // descending (logit, then id) order: the largest key whose mass at or above it passes the target
    const Cut c = RadixSelect<true>(logits, V, [&](int32_t i) { return static_cast<double>(row.Weight(i)); }, target, sh);
    const uint32_t dk = c.key;
    const double above = c.above;
    auto member = [&](int32_t i) { return Key(logits[i]) == dk && row.Weight(i) > 0.0f; };
    const int32_t ties = CountWhere(V, member, sh);
    const double w_tie = ties > 0 ? c.at / ties : 0.0;
    int32_t j = w_tie > 0.0 ? static_cast<int32_t>(floor((target - above) / w_tie)) : 0;
    j = j < 0 ? 0 : (j >= ties ? ties - 1 : j);
    const int32_t id = ties > 0 ? NthMemberId(V, j + 1, ties, member, sh) : arg;
    if (threadIdx.x == 0) p.d_out[r] = id;
    return;
  }
  // id order: per-thread contiguous chunks, their sums scanned, then one chunk walked
  const int32_t chunk = (V + blockDim.x - 1) / blockDim.x;
  const int32_t c0 = min(V, static_cast<int32_t>(threadIdx.x) * chunk), c1 = min(V, c0 + chunk);
  double s = 0.0;
  for (int32_t i = c0; i < c1; i++) s += row.Weight(i);
  sh.chunk[threadIdx.x] = s;
  if (threadIdx.x == 0) sh.result = V;
  __syncthreads();
  if (threadIdx.x == 0) {
    double cum = 0.0;
    for (int32_t c = 0; c < static_cast<int32_t>(blockDim.x); c++) {
      const double next = cum + sh.chunk[c];
      sh.chunk[c] = cum;  // exclusive prefix
      cum = next;
    }
  }
  __syncthreads();
  double cum = sh.chunk[threadIdx.x];
  if (cum <= target && cum + s > target) {
    for (int32_t i = c0; i < c1; i++) {
      const float w = row.Weight(i);
      cum += w;
      if (cum > target && w > 0.0f) {
        atomicMin(&sh.result, i);
        break;
      }
    }
  }
  __syncthreads();
  if (threadIdx.x == 0) p.d_out[r] = sh.result < V ? sh.result : arg;
}

}  // namespace

const char* Sample(const tt_cuda_sample_params& p, cudaStream_t stream) {
  if (p.rows == 0) return nullptr;
  SampleKernel<<<static_cast<unsigned>(p.rows), kThreads, 0, stream>>>(p);
  return LaunchError();
}

}  // namespace tt::cuda
