// Paged attention with the shared-prefix (cascade) split, the CUDA twin of kernels/cpu/attention.h.
// The plan (which sequences share leading full pages, how rows and keys are cut into work items, and
// which items cover each row) is made on the host from the host page table, then staged in one copy
// to the device, as FlashInfer splits plan() from run(). The kernels then:
//  1. An item kernel, one block per item (AttnItemKernel for f32 KV, exact to f32 like the CPU;
//     AttnItemTcKernel on the tensor cores for bf16 KV, the GPU default, to bf16 rounding): a block of query rows (every query head of one kv head)
//     against up to kCudaAttnItemKeys keys, K/V tiles loaded once into shared memory for all of the
//     item's queries (for a shared-prefix item, the queries of every sequence in the group: the
//     prefix becomes a matrix product over them, read once instead of once per sequence); writes the
//     item's online-softmax states (kernels/common/attention_state.h).
//  2. AttnMergeKernel, one warp per (row, query head): log-sum-exp merge of its items' states, o / d.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "../../include/thinktree/kernel_params.h"
#include "../common/attention_plan.h"

namespace tt::cuda {

constexpr int32_t kCudaAttnItemKeys = 256;
// Query vectors (rows × group) one item holds in shared memory: head_dim × this ≤ 4096 floats.
constexpr int32_t kCudaAttnQueryFloats = 4096;

// The item the kernels read: the shared planner's (common/attention_plan.h), so the GPU splits every
// row's keys exactly as the CPU backend does.
using CudaAttnItem = AttnPlanItem;

// Host side of a plan; vectors only grow, so steady-state calls do not allocate. `staged` is the
// image of the device workspace's index part, copied in one transfer.
struct AttentionHostPlan {
  AttnPlan plan;  // items, rows and the row -> items index; plan.shared_items: the shared-prefix items first
  std::vector<char> staged;
  // Byte offsets of each staged array inside the workspace, and the states after them.
  size_t off_page_indptr = 0, off_page_indices = 0, off_row_pos = 0, off_items = 0, off_item_rows = 0,
         off_entry_indptr = 0, off_entry_item = 0, off_entry_local = 0, off_states = 0, bytes = 0;
};

// Plans the call; returns null or a sentence (an unsupported head_dim or group size). plan->bytes is
// the workspace it needs; plan->staged the bytes to copy to its start.
const char* PlanAttention(const tt_cuda_attention_params& p, AttentionHostPlan* plan);
// Queues the kernels; `workspace` holds plan.staged at its start and room for the states.
const char* RunAttention(const tt_cuda_attention_params& p, const AttentionHostPlan& plan, char* workspace,
                         cudaStream_t stream);

}  // namespace tt::cuda
