/**
 * Which vLLM sources the wire formats in this folder were matched against (read from the
 * vllm-project/vllm repository; commit ids as read):
 *
 * - Completions request/response: `vllm/entrypoints/openai/completion/protocol.py` (main, commit
 *   002032ee2b18) — `CompletionRequest` (prompt as str | list[str] | list[int] | list[list[int]], n,
 *   max_tokens 16 by default, seed, stop, top_k None = all tokens, include_stop_str_in_output,
 *   skip_special_tokens, logprobs) and `CompletionResponseChoice` (finish_reason, stop_reason).
 *   The same classes sit in `vllm/entrypoints/openai/protocol.py` in earlier releases (v0.6–v0.11
 *   line), where `top_k: -1` was the "all tokens" value; 0 and -1 both disable it in newer releases, so
 *   thinktree omits top_k when it is disabled.
 * - Pooling: `vllm/entrypoints/pooling/pooling/protocol.py` (main, commit 01cfbaf63434) and
 *   `vllm/entrypoints/pooling/base/protocol.py` (commit 020638a6b026): request `input` + `task`,
 *   `use_activation`, `add_special_tokens`; response `data[i].data: list[list[float]] | list[float] |
 *   str`. The older `vllm/entrypoints/openai/protocol.py` declares the same `PoolingResponseData`.
 * - The PRM: `vllm/model_executor/models/qwen2_rm.py` (commit 002b4cf80b73: `Qwen2ForProcessRewardModel`,
 *   default pooling type STEP, num_labels 2) and `vllm/model_executor/models/config.py`
 *   (`Qwen2ForProcessRewardModelConfig` sets `step_tag_id = 151651`, the `<extra_0>` token).
 * - Docs: `docs/models/pooling_models/reward.md` (commit 063da2296f8c: process reward models use the
 *   `token_classify` task on `/pooling`; Math-Shepherd needs `--pooler-config '{"pooling_type": "STEP",
 *   "step_tag_id": …, "returned_token_ids": […]}'`) and `docs/models/pooling_models/pooling.md`
 *   (commit 5687dc85e5c7).
 */
export const VLLM_MATCHED = {
  completions: 'vllm/entrypoints/openai/completion/protocol.py@002032ee2b18',
  pooling: 'vllm/entrypoints/pooling/pooling/protocol.py@01cfbaf63434',
  poolingBase: 'vllm/entrypoints/pooling/base/protocol.py@020638a6b026',
  prmModel: 'vllm/model_executor/models/qwen2_rm.py@002b4cf80b73',
  rewardDocs: 'docs/models/pooling_models/reward.md@063da2296f8c',
} as const;
