#!/usr/bin/python3
"""The byte-level BPE shared by the three demo models (policy, PRM, large policy), trained on task text.

Usage: /usr/bin/python3 tools/train/tokenizer.py [--vocab 512] [--out tools/train/work/tokenizer]

Differences from tools/tokenizer/bpe.py's defaults, and why:
- Digits never merge: pieces containing a digit are left out of the pair counts, so every number is
  spelled one digit per token. Multi-digit tokens would make each sum a lookup in a table of token
  pairs instead of digit arithmetic a 1M-parameter model can learn.
- Four special tokens: `<|endoftext|>`, `<|im_start|>`, `<|im_end|>` and `<extra_0>` (the PRM's step
  separator, as in Qwen2.5-Math-PRM), after the BPE vocab.
- The chat template is plain ChatML without a default system turn: it renders exactly the messages
  given, which is what the models were trained on (common.chatml is its Python twin).
The training text is the problems, reference solutions and prompts of the train split.
"""

import argparse
import functools
import json
import os
import re

import common
import bpe  # tools/tokenizer
from byte_level import gpt2_split, to_symbols

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", common.PRM_STEP_TOKEN]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
_DIGIT = re.compile(r"[0-9]")
_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")


class TaskTokenizer:
    """Encoder over a trained bpe.ByteLevelBPE with this project's four special tokens."""

    def __init__(self, model: "bpe.ByteLevelBPE"):
        self.model = model
        self.special_ids = {tok: len(model.vocab) + i for i, tok in enumerate(SPECIAL_TOKENS)}
        self.size = len(model.vocab) + len(SPECIAL_TOKENS)
        self.id_to_bytes = {i: bytes(_sym_to_bytes(s)) for s, i in model.vocab.items()}
        for tok, i in self.special_ids.items():
            self.id_to_bytes[i] = tok.encode("utf-8")

    @functools.lru_cache(maxsize=None)
    def _piece(self, piece: str) -> tuple[int, ...]:
        return tuple(self.model.vocab[s] for s in self.model._bpe_word(to_symbols(piece)))

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for section in _SPECIAL_SPLIT.split(text):
            if section in self.special_ids:
                ids.append(self.special_ids[section])
            elif section:
                for piece in gpt2_split(section):
                    ids.extend(self._piece(piece))
        return ids

    def decode(self, ids) -> str:
        return b"".join(self.id_to_bytes[int(i)] for i in ids).decode("utf-8", errors="replace")

    def token(self, name: str) -> int:
        return self.special_ids[name]


def _sym_to_bytes(symbols: str) -> list[int]:
    from byte_level import SYMBOL_TO_BYTE

    return [SYMBOL_TO_BYTE[c] for c in symbols]


def train_without_digits(corpus: str, bpe_vocab: int) -> "bpe.ByteLevelBPE":
    """bpe.train with digit-bearing pieces left out of the pair counts (see the module docstring)."""
    original = bpe.gpt2_split
    bpe.gpt2_split = lambda text: [p for p in original(text) if not _DIGIT.search(p)]
    try:
        return bpe.train(corpus, bpe_vocab)
    finally:
        bpe.gpt2_split = original


def corpus_text(records: list[dict]) -> str:
    parts = [common.policy_prompt(r["problem"], system=i % 4 == 0) + r["solution"] + "<|im_end|>\n" for i, r in enumerate(records)]
    return "".join(parts)


def load(directory: str) -> TaskTokenizer:
    """Rebuild the tokenizer from a tokenizer.json written by `save`."""
    with open(os.path.join(directory, "tokenizer.json"), encoding="utf-8") as f:
        doc = json.load(f)
    merges = [tuple(m) for m in doc["model"]["merges"]]
    model = bpe.ByteLevelBPE(merges)
    if model.vocab != doc["model"]["vocab"]:
        raise ValueError(f"{directory}/tokenizer.json: vocab does not follow from its merges")
    tok = TaskTokenizer(model)
    added = {t["content"]: t["id"] for t in doc["added_tokens"]}
    if added != tok.special_ids:
        raise ValueError(f"{directory}/tokenizer.json: added tokens {added} differ from {tok.special_ids}")
    return tok


def save(tok: TaskTokenizer, out_dir: str, model_max_length: int = 1024) -> None:
    os.makedirs(out_dir, exist_ok=True)
    doc = bpe.tokenizer_json(tok.model)
    doc["added_tokens"] = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
        for t, i in tok.special_ids.items()
    ]
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
    cfg = bpe.tokenizer_config_json(tok.model, model_max_length)
    cfg["added_tokens_decoder"] = {
        str(i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False, "special": True}
        for t, i in tok.special_ids.items()
    }
    cfg["additional_special_tokens"] = ["<|im_start|>", "<|im_end|>", common.PRM_STEP_TOKEN]
    cfg["chat_template"] = CHAT_TEMPLATE
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab", type=int, default=512, help="total ids, special tokens included")
    parser.add_argument("--train", default=os.path.join(common.WORK, "train.jsonl"))
    parser.add_argument("--problems", type=int, default=20000, help="train records used as BPE text")
    parser.add_argument("--out", default=os.path.join(common.WORK, "tokenizer"))
    args = parser.parse_args()
    records = common.read_jsonl(args.train)[:: 3][: args.problems]  # every level
    text = corpus_text(records) + common.prm_text("", [common.MATH_SYSTEM_PROMPT])
    # Special tokens are cut out before the BPE sees text, so they must not feed its pair counts either.
    text = _SPECIAL_SPLIT.sub("\n", text)
    model = train_without_digits(text, args.vocab - len(SPECIAL_TOKENS))
    tok = TaskTokenizer(model)
    save(tok, args.out)
    sample = records[-1]
    ids = tok.encode(common.policy_prompt(sample["problem"]) + sample["solution"])
    assert tok.decode(ids) == common.policy_prompt(sample["problem"]) + sample["solution"]
    print(f"{len(model.merges)} merges, {tok.size} ids -> {args.out}; a level-{sample['level']} example is {len(ids)} tokens")


if __name__ == "__main__":
    main()
