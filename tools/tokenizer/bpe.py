#!/usr/bin/python3
"""Byte-level BPE: train merges on a text corpus, encode text, and write `tokenizer.json` +
`tokenizer_config.json` in the layout Hugging Face `tokenizers` / `transformers` save.

Usage (offline, standard library only):
    /usr/bin/python3 tools/tokenizer/bpe.py --corpus tools/tokenizer/corpus.txt --vocab-size 317 \
        --out some/model/dir [--model-max-length 2048]

Ids: 0..255 are the 256 byte symbols in byte order, then one id per merge in merge order, then the
special tokens (`<|endoftext|>`, `<|im_start|>`, `<|im_end|>`) after the BPE vocab.
"""

import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from byte_level import BYTE_TO_SYMBOL, gpt2_split, to_symbols  # noqa: E402

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# ChatML as Qwen2-Instruct ships it: a default system turn when the conversation has none.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


class ByteLevelBPE:
    """A trained byte-level BPE: `vocab` maps symbol strings to ids, `merges` is in rank order."""

    def __init__(self, merges: list[tuple[str, str]]):
        self.merges = merges
        self.vocab: dict[str, int] = {BYTE_TO_SYMBOL[b]: b for b in range(256)}
        for left, right in merges:
            merged = left + right
            if merged not in self.vocab:
                self.vocab[merged] = len(self.vocab)
        self.ranks = {pair: rank for rank, pair in enumerate(merges)}
        self.special_ids = {tok: len(self.vocab) + i for i, tok in enumerate(SPECIAL_TOKENS)}

    @property
    def size(self) -> int:
        """Ids in use, special tokens included (the smallest valid `vocab_size`)."""
        return len(self.vocab) + len(self.special_ids)

    def _bpe_word(self, symbols: str) -> list[str]:
        parts = list(symbols)
        while len(parts) > 1:
            # Lowest-rank adjacent pair first; all its occurrences merge left to right.
            none = len(self.ranks)
            rank, at = min((self.ranks.get(pair, none), i) for i, pair in enumerate(zip(parts, parts[1:])))
            if rank == none:
                break
            pair = (parts[at], parts[at + 1])
            out: list[str] = []
            i = 0
            while i < len(parts):
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == pair:
                    out.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            parts = out
        return parts

    def encode(self, text: str) -> list[int]:
        """Ids for text; special tokens written literally in the text become their single ids."""
        ids: list[int] = []
        for section, is_special in _split_specials(text):
            if is_special:
                ids.append(self.special_ids[section])
                continue
            for piece in gpt2_split(section):
                ids.extend(self.vocab[s] for s in self._bpe_word(to_symbols(piece)))
        return ids


def _split_specials(text: str) -> list[tuple[str, bool]]:
    """Cut text at literal special tokens (longest match first), as the added-token splitter does."""
    out: list[tuple[str, bool]] = []
    start = 0
    i = 0
    by_length = sorted(SPECIAL_TOKENS, key=len, reverse=True)
    while i < len(text):
        hit = next((tok for tok in by_length if text.startswith(tok, i)), None)
        if hit is None:
            i += 1
            continue
        if i > start:
            out.append((text[start:i], False))
        out.append((hit, True))
        i += len(hit)
        start = i
    if start < len(text):
        out.append((text[start:], False))
    return out


def train(corpus: str, vocab_size: int) -> ByteLevelBPE:
    """Learn merges until the BPE vocab (without special tokens) holds `vocab_size` entries.

    Greedy by pair frequency over the pre-tokenized words (weighted by word count). Ties go to the pair
    whose (left id, right id) is smallest, the order Hugging Face's BpeTrainer uses, so the result is
    deterministic. A merge whose result already exists as a token is kept (it is still a valid merge)
    but adds no id.
    """
    if vocab_size < 256:
        raise ValueError(f"vocab_size must be at least 256 (the byte alphabet), got {vocab_size}")
    word_counts = collections.Counter(to_symbols(p) for p in gpt2_split(corpus))
    words = [(list(w), c) for w, c in sorted(word_counts.items())]
    model = ByteLevelBPE([])
    merges: list[tuple[str, str]] = []
    while len(model.vocab) < vocab_size:
        pair_counts: collections.Counter = collections.Counter()
        for parts, count in words:
            for pair in zip(parts, parts[1:]):
                pair_counts[pair] += count
        if not pair_counts:
            raise ValueError(f"corpus too small: no pairs left after {len(merges)} merges")
        best = min(pair_counts, key=lambda p: (-pair_counts[p], model.vocab[p[0]], model.vocab[p[1]]))
        merges.append(best)
        model = ByteLevelBPE(merges)
        for parts, _ in words:
            i = 0
            while i + 1 < len(parts):
                if (parts[i], parts[i + 1]) == best:
                    parts[i : i + 2] = [parts[i] + parts[i + 1]]
                i += 1
    return model


def tokenizer_json(model: ByteLevelBPE) -> dict:
    """The `tokenizer.json` document, keys in the order `tokenizers` serializes them."""
    added = [
        {
            "id": model.special_ids[tok],
            "content": tok,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for tok in SPECIAL_TOKENS
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": dict(sorted(model.vocab.items(), key=lambda kv: kv[1])),
            # [left, right] pairs: the format tokenizers >= 0.20 writes; @huggingface/tokenizers 0.2.0
            # reads both this and the older "left right" strings.
            "merges": [[a, b] for a, b in model.merges],
        },
    }


def tokenizer_config_json(model: ByteLevelBPE, model_max_length: int) -> dict:
    """`tokenizer_config.json` as transformers saves it for a Qwen2-style ChatML tokenizer."""
    decoder = {
        str(model.special_ids[tok]): {
            "content": tok,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
        for tok in SPECIAL_TOKENS
    }
    return {
        "add_bos_token": False,
        "add_prefix_space": False,
        "added_tokens_decoder": decoder,
        "additional_special_tokens": ["<|im_start|>", "<|im_end|>"],
        "bos_token": None,
        "chat_template": CHATML_TEMPLATE,
        # Off so decode(encode(text)) == text; the JS tokenizer defaults this to true.
        "clean_up_tokenization_spaces": False,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "extra_special_tokens": {},
        "model_max_length": model_max_length,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": False,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": None,
    }


def write_tokenizer(model: ByteLevelBPE, out_dir: str, model_max_length: int) -> None:
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(model), f, indent=2, ensure_ascii=False)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config_json(model, model_max_length), f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", required=True, help="UTF-8 training text")
    parser.add_argument("--vocab-size", type=int, required=True, help="BPE vocab size, bytes included, specials excluded")
    parser.add_argument("--out", required=True, help="directory for tokenizer.json and tokenizer_config.json")
    parser.add_argument("--model-max-length", type=int, default=2048)
    args = parser.parse_args()
    with open(args.corpus, encoding="utf-8") as f:
        corpus = f.read()
    model = train(corpus, args.vocab_size)
    write_tokenizer(model, args.out, args.model_max_length)
    print(f"{len(model.merges)} merges, {model.size} ids (specials from {len(model.vocab)}) -> {args.out}")


if __name__ == "__main__":
    main()
