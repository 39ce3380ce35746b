#include "generate.h"

#include <algorithm>
#include <unordered_set>

namespace tt {

bool EndsInStop(const std::string& text, size_t old_len, const std::vector<std::string>& stops) {
  for (const std::string& stop : stops) {
    if (stop.empty()) continue;
    const size_t from = old_len >= stop.size() - 1 ? old_len - (stop.size() - 1) : 0;
    if (text.find(stop, from) != std::string::npos) return true;
  }
  return false;
}

namespace {

struct SeqState {
  Sequence* seq = nullptr;
  size_t orig_tokens = 0;  // for rollback
  int64_t orig_kv = 0;
  uint64_t orig_draws = 0;
  std::string text;        // bytes generated this step (EOS tokens excluded)
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  Finish finish = Finish::kLength;
  bool done = false;
};

void Rollback(std::vector<SeqState>& st, KvPool* pool) {
  for (SeqState& s : st) {
    Sequence* q = s.seq;
    q->tokens.resize(s.orig_tokens);
    // K/V of the original tokens stay valid; anything past them is dropped.
    q->kv_len = std::max(s.orig_kv, std::min<int64_t>(q->kv_len, static_cast<int64_t>(s.orig_tokens)));
    q->draws = s.orig_draws;
    TrimPages(q, static_cast<int64_t>(q->tokens.size()), pool);
    TrimHashes(q, static_cast<int64_t>(q->tokens.size()), pool->shape().page_tokens);
  }
}

}  // namespace

Status GenerateStep(Model* model, const GenerateRequest& req, GenerateResult* out) {
  ProfWall wall(&model->profile());
  const ModelSpec& spec = model->spec();
  if (spec.head.kind != HeadKind::kLm)
    return Status::Invalid(std::string("generateStep needs a language-model head; this model's head is ") +
                           HeadKindName(spec.head.kind));
  std::vector<Sequence*> seqs;
  Status status = model->Resolve(req.seqs, &seqs);
  if (!status.ok()) return status;
  const size_t n = seqs.size();
  out->rounds = 0;
  std::vector<SeqState> st(n);
  for (size_t i = 0; i < n; i++) {
    st[i].seq = seqs[i];
    st[i].orig_tokens = seqs[i]->tokens.size();
    st[i].orig_kv = seqs[i]->kv_len;
    st[i].orig_draws = seqs[i]->draws;
    st[i].done = req.max_tokens[i] <= 0;
  }
  std::vector<int64_t> active_ids;
  std::vector<Sequence*> active;
  for (size_t i = 0; i < n; i++)
    if (!st[i].done) {
      active_ids.push_back(req.seqs[i]);
      active.push_back(seqs[i]);
    }
  status = Model::EnsureLastPending(active_ids, active);
  if (!status.ok()) return status;
  // Prompts whose prefix is cached skip it (the first step runs only the rest; later steps have one
  // pending token each, which always runs). Undone if the first step cannot get its pages.
  PrefixUndo undo;
  model->TakeCachedPrefixes(active, &undo);

  const std::unordered_set<int32_t> eos(spec.eos_token_ids.begin(), spec.eos_token_ids.end());
  const int32_t sample_vocab = spec.SampleVocab();  // padded embedding rows are never sampled
  std::vector<size_t> index;                        // request index of each active sequence
  Executor* executor = model->executor();
  std::vector<int32_t> drawn;  // [active] sampled token of each active sequence
  std::vector<float> lp;       // [active] its log-probability
  std::vector<SamplingParams> params;     // [active] each active sequence's filters,
  std::vector<uint64_t> seeds, counters;  // Philox key and draw counter
  for (;;) {
    active.clear();
    index.clear();
    for (size_t i = 0; i < n; i++)
      if (!st[i].done) {
        active.push_back(st[i].seq);
        index.push_back(i);
      }
    if (active.empty()) break;
    status = CheckPages(active, model->pool());
    if (!status.ok()) {
      model->UndoCachedPrefixes(&undo);  // a no-op past the first step
      Rollback(st, model->kv_pool());
      return status;
    }
    undo.Clear();  // the hits are part of the step now
    // Sampling: each sequence's draw depends only on (its seed, its draw counter).
    drawn.assign(active.size(), 0);
    lp.assign(active.size(), 0.0f);
    // The outputs stay with the executor (on a device they never leave it): it draws from the same
    // Philox streams on either side, and only tokens and log-probabilities come back.
    status = model->RunBatch(active, LogitsMode::kLast, nullptr);
    if (status.ok()) {
      params.clear();
      seeds.clear();
      counters.clear();
      for (size_t a = 0; a < active.size(); a++) {
        params.push_back(req.sampling[index[a]]);
        seeds.push_back(active[a]->seed);
        counters.push_back(active[a]->draws);
      }
      status = executor->SampleOutputs(static_cast<int32_t>(active.size()), sample_vocab, params, seeds, counters,
                                       drawn.data(), lp.data());
    }
    if (!status.ok()) {
      Rollback(st, model->kv_pool());
      return status;
    }
    out->rounds++;
    ProfScope stop_checks(&model->profile(), ProfOp::kStopCheck, nullptr);
    for (size_t a = 0; a < active.size(); a++) {
      SeqState& s = st[index[a]];
      const int32_t tok = drawn[a];
      s.seq->draws++;
      s.seq->tokens.push_back(tok);  // pending: its K/V is computed when the sequence next runs
      s.tokens.push_back(tok);
      s.logprobs.push_back(lp[a]);
      const bool is_eos = eos.count(tok) > 0;
      if (is_eos && req.stop_at_eos) {
        s.finish = Finish::kEos;
        s.done = true;
        continue;
      }
      if (!is_eos && tok < static_cast<int32_t>(spec.token_offsets.size()) - 1) {
        const size_t old_len = s.text.size();
        s.text.append(reinterpret_cast<const char*>(spec.token_bytes.data()) + spec.token_offsets[tok],
                      spec.token_offsets[tok + 1] - spec.token_offsets[tok]);
        if (EndsInStop(s.text, old_len, req.stops)) {
          s.finish = Finish::kStop;
          s.done = true;
          continue;
        }
      }
      if (static_cast<int32_t>(s.tokens.size()) >= req.max_tokens[index[a]]) {
        s.finish = Finish::kLength;
        s.done = true;
      }
    }
  }

  out->tokens.clear();
  out->logprobs.clear();
  out->token_counts.resize(n);
  out->finish.resize(n);
  for (size_t i = 0; i < n; i++) {
    out->tokens.insert(out->tokens.end(), st[i].tokens.begin(), st[i].tokens.end());
    out->logprobs.insert(out->logprobs.end(), st[i].logprobs.begin(), st[i].logprobs.end());
    out->token_counts[i] = static_cast<int32_t>(st[i].tokens.size());
    out->finish[i] = static_cast<uint8_t>(st[i].finish);
  }
  return Status::Ok();
}

}  // namespace tt
