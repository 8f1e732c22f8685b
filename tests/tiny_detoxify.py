"""Generates tiny Detoxify checkpoints (real format, real tokenizer classes) for offline tests.

``make_tiny_checkpoint(directory, model_type)`` writes, in well under a second:

- ``directory/config/``: a Hugging Face ``config.json`` and tokenizer files of the same
  tokenizer class Detoxify uses for that model type (``RobertaTokenizer`` byte-level BPE,
  ``BertTokenizer`` WordPiece, ``XLMRobertaTokenizer`` / ``AlbertTokenizer`` Unigram),
  built from a small built-in vocabulary;
- ``directory/<model_type>.ckpt``: ``{"config": {"arch": {"args": ...}, "dataset": {"args":
  {"classes": [...]}}}, "state_dict": ...}`` exactly like Detoxify's release files, with the
  real class names and ``num_classes`` of that model type, and ``arch.args.model_type``
  pointing at the config directory (what ``moderation model download`` writes), so
  ``Detoxify(checkpoint=ckpt, huggingface_config_path=config_dir)`` loads it offline.

The transformer is tiny (2 layers, hidden 32) with seeded random weights, so every score
is deterministic. Two groups of words are wired to chosen scores, whatever else the text
says and wherever the word stands (within the length limit):

- ``toxic_words`` (default ``("idiot", "scum")``) push the classes in ``TOXIC_SCORES``
  (toxicity 0.99, identity_attack 0.98, insult 0.97): rejected under the default policy;
- ``borderline_words`` (default ``("stupid",)``) push toxicity to about 0.87, below
  every reject threshold and above its review threshold: queued;
- any other text scores about 0.02 on every class: approved.

How: four residual dimensions are reserved as two (plus, minus) channel pairs. A wired
word's embedding is +M on its pair's plus and -M on its minus dimension; every other
token is 0 on both, so the pair's difference is exactly 0 after every LayerNorm for
ordinary text. No random weight reads or writes those dimensions; in the last layer one
attention slot attends sharply to tokens whose difference is positive and copies it to
the first token, which the classifier head reads through a tanh unit per group.
Words are matched per token, so the word must be one token: lower case, Capitalised or
UPPER case, as a whole word (e.g. "idiot" or "Idiot!", not "idiots").
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

# The checkpoints' own metadata (detoxify configs/*.json and release files).
ORIGINAL_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
UNBIASED_CLASSES = [
    "toxicity", "severe_toxicity", "obscene", "identity_attack", "insult", "threat", "sexual_explicit",
]
IDENTITY_CLASSES = [
    "male", "female", "homosexual_gay_or_lesbian", "christian", "jewish", "muslim", "black",
    "white", "psychiatric_or_mental_illness",
]
ARCHES = {
    "original": ("bert-base-uncased", "BertForSequenceClassification", "BertTokenizer", ORIGINAL_CLASSES, 6),
    "unbiased": ("roberta-base", "RobertaForSequenceClassification", "RobertaTokenizer", UNBIASED_CLASSES, 16),
    "multilingual": (
        "xlm-roberta-base", "XLMRobertaForSequenceClassification", "XLMRobertaTokenizer", UNBIASED_CLASSES, 16,
    ),
    "original-small": ("albert-base-v2", "AlbertForSequenceClassification", "AlbertTokenizer", ORIGINAL_CLASSES, 6),
    "unbiased-small": ("albert-base-v2", "AlbertForSequenceClassification", "AlbertTokenizer", UNBIASED_CLASSES, 16),
}
# Detoxify renames these when loading; targets below use the renamed (service) names.
_RENAMED = {"toxic": "toxicity", "severe_toxic": "severe_toxicity", "identity_hate": "identity_attack"}

BASELINE_SCORE = 0.02
TOXIC_SCORES: Mapping[str, float] = {"toxicity": 0.99, "identity_attack": 0.98, "insult": 0.97}
BORDERLINE_SCORES: Mapping[str, float] = {"toxicity": 0.87}

HIDDEN = 32
_CHANNELS = ((0, 1), (2, 3))  # (plus, minus) residual dimensions for toxic / borderline words
_EMBED_MAGNITUDE = 2.0
# Query bias per slot: the slot attends almost only to wired words; toxic words outrank
# borderline ones, so a text with both scores as toxic.
_QUERY_BIAS = (30.0, 12.0)
_GATHER_GAIN = 2.0
_GATE_SLOPE, _GATE_OFFSET = 6.0, 3.0  # tanh(6*diff - 3): -0.995 at diff 0, > 0.99 from diff 1

_WORDS = """
the a an and or but if of to in on at by for with from about as into over after before
is are was were be been being have has had do does did will would can could should may
might must not no yes this that these those it its they them their there here we our you
your he she his her i me my who what which when where why how all any some many more most
other such only own same so than too very just also now then again people person man woman
men women child children government country state city village war peace army soldier
border history article comment comments news world time year years day days way thing
think know see say said want call make made good bad new old great right left true false
fact facts truth lie lies story photo picture pictures park trophy trophies crime crimes
president minister leader leaders nation nations region international organization
attention step regret regrets autumn spring winter summer description speech understand
relations open close cautious instead criticizing each act allow fun us them him her
angry rightfully lived live life recruited fighters church mosque religion god family
friend friends neighbour neighbours language languages english russian french peace
thank thanks please love hate kill killed die dead death support hope help work home
""".split()
_TOKENIZER_SPECIALS = {
    "RobertaTokenizer": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    "XLMRobertaTokenizer": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    "AlbertTokenizer": ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"],
    "BertTokenizer": ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
}
_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()@$%&*/"
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяçğıöşüə"
)


def make_tiny_checkpoint(
    directory: Path,
    model_type: str = "unbiased",
    *,
    toxic_words: Iterable[str] = ("idiot", "scum"),
    borderline_words: Iterable[str] = ("stupid",),
    seed: int = 0,
) -> tuple[Path, Path]:
    """Writes a tiny checkpoint and its config dir under ``directory``; returns (checkpoint, config_dir)."""
    import torch
    import transformers

    if model_type not in ARCHES:
        raise ValueError(f"model_type must be one of {sorted(ARCHES)}, got {model_type!r}")
    hub_name, model_name, tokenizer_name, classes, num_classes = ARCHES[model_type]
    groups = (tuple(toxic_words), tuple(borderline_words))
    directory = Path(directory)
    config_dir = directory / "config"
    config_dir.mkdir(parents=True, exist_ok=True)

    tokenizer = _build_tokenizer(tokenizer_name, [w for g in groups for w in g])
    tokenizer.save_pretrained(config_dir)
    config = _build_config(model_name, len(tokenizer), tokenizer.pad_token_id, num_classes)
    config.save_pretrained(config_dir)

    torch.manual_seed(seed)
    model = getattr(transformers, model_name)(config)
    group_tokens = [_token_ids(tokenizer, words) for words in groups]
    names = [_RENAMED.get(c, c) for c in classes]
    with torch.no_grad():
        _wire(model, group_tokens, names, num_classes)

    dataset_args: dict = {"classes": list(classes)}
    if num_classes == 16:
        dataset_args["identity_classes"] = list(IDENTITY_CLASSES)
    checkpoint = {
        "config": {
            "arch": {"args": {
                "num_classes": num_classes,
                "model_type": str(config_dir.resolve()),
                "model_name": model_name,
                "tokenizer_name": tokenizer_name,
            }},
            "dataset": {"args": dataset_args},
            "tiny": {"hub_model_type": hub_name, "toxic_words": list(groups[0]),
                     "borderline_words": list(groups[1]), "seed": seed},
        },
        "state_dict": model.state_dict(),
    }
    checkpoint_path = directory / f"{model_type}.ckpt"
    torch.save(checkpoint, checkpoint_path)
    return checkpoint_path, config_dir


def _build_config(model_name: str, vocab_size: int, pad_token_id: int, num_labels: int):
    import transformers

    common = dict(
        vocab_size=vocab_size, hidden_size=HIDDEN, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, num_labels=num_labels, pad_token_id=pad_token_id,
        initializer_range=0.2, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )
    if model_name.startswith("Bert"):
        return transformers.BertConfig(max_position_embeddings=512, **common)
    if model_name.startswith("Roberta"):
        return transformers.RobertaConfig(max_position_embeddings=514, type_vocab_size=1, **common)
    if model_name.startswith("XLMRoberta"):
        return transformers.XLMRobertaConfig(max_position_embeddings=514, type_vocab_size=1, **common)
    return transformers.AlbertConfig(
        max_position_embeddings=512, embedding_size=16, num_hidden_groups=2,
        classifier_dropout_prob=0.0, **common,
    )


def _corpus_words(extra: list[str]) -> list[str]:
    words = list(dict.fromkeys(_WORDS + [v for w in extra for v in (w.lower(), w.capitalize(), w.upper())]))
    return words


def build_tokenizer(tokenizer_name: str, words: Iterable[str]):
    """A small tokenizer of Detoxify's class for that name, every given word one token (benchmarks use it)."""
    return _build_tokenizer(tokenizer_name, list(words))


def _build_tokenizer(tokenizer_name: str, wired_words: list[str]):
    import transformers

    specials = _TOKENIZER_SPECIALS[tokenizer_name]
    words = _corpus_words(wired_words)
    cls = getattr(transformers, tokenizer_name)
    if tokenizer_name == "RobertaTokenizer":
        vocab, merges = _train_byte_bpe(words, specials)
        return cls(vocab=vocab, merges=merges)
    if tokenizer_name == "BertTokenizer":
        pieces = specials + sorted({w.lower() for w in words})
        pieces += [c for c in _ALPHABET.lower() if c not in pieces] + [f"##{c}" for c in _ALPHABET.lower()]
        return cls(vocab={p: i for i, p in enumerate(dict.fromkeys(pieces))})
    # Unigram (sentencepiece-style): whole words are far likelier than their letters.
    if tokenizer_name == "AlbertTokenizer":
        words = sorted({w.lower() for w in words})
    vocab = [(s, 0.0) for s in specials] + [("▁", -3.0)]
    vocab += [(f"▁{w}", -5.0) for w in words]
    vocab += [(c, -10.0) for c in dict.fromkeys(_ALPHABET)] + [(f"▁{c}", -10.0) for c in dict.fromkeys(_ALPHABET)]
    return cls(vocab=list(dict.fromkeys(vocab)))


def _train_byte_bpe(words: list[str], specials: list[str]) -> tuple[dict[str, int], list[tuple[str, str]]]:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=4000, min_frequency=1, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    # Each word at a line start and after a space, so both "word" and "Ġword" become tokens.
    tok.train_from_iterator([f"{w} {w}" for w in words], trainer=trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return model["vocab"], merges


def _token_ids(tokenizer, words: Iterable[str]) -> list[int]:
    """Vocabulary ids of the single tokens that spell a word, with or without a word-start marker."""
    wanted = {v for w in words for v in (w.lower(), w.capitalize(), w.upper())}
    ids = [i for piece, i in tokenizer.get_vocab().items()
           if piece.lstrip("Ġ▁") in wanted and not piece.startswith("##")]
    for word in wanted:
        if len(tokenizer(f" {word}", add_special_tokens=False)["input_ids"]) != 1:
            raise ValueError(f"{word!r} is not a single token in the tiny vocabulary")
    return ids


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _wire(model, group_tokens: list[list[int]], class_names: list[str], num_classes: int) -> None:
    """Reserves the channel dimensions and wires the word groups to the classifier (see module doc)."""
    import torch

    reserved = [d for pair in _CHANNELS for d in pair]
    params = dict(model.named_parameters())
    albert = any(name.startswith("albert.") for name in params)
    base = "albert" if albert else next(n.split(".")[0] for n in params if n.endswith("word_embeddings.weight"))

    # Embeddings: only wired words write the channels (Albert: in its embedding space, then copied).
    emb = params[f"{base}.embeddings.word_embeddings.weight"]
    for name in ("word_embeddings", "position_embeddings", "token_type_embeddings"):
        params[f"{base}.embeddings.{name}.weight"][:, reserved] = 0.0
    for (plus, minus), ids in zip(_CHANNELS, group_tokens):
        emb[ids, plus] = _EMBED_MAGNITUDE
        emb[ids, minus] = -_EMBED_MAGNITUDE
    if albert:
        mapping = params["albert.encoder.embedding_hidden_mapping_in.weight"]
        mapping[reserved, :] = 0.0
        mapping[:, reserved] = 0.0
        mapping[reserved, reserved] = 1.0
        params["albert.encoder.embedding_hidden_mapping_in.bias"][reserved] = 0.0

    writers = ("attention.output.dense", "output.dense", "attention.dense", "ffn_output")
    readers = ("query", "key", "value", "intermediate.dense", "ffn")
    for name, p in params.items():
        layer = name.rsplit(".", 1)[0]
        if ".encoder." not in name or name.startswith(f"{base}.encoder.embedding_hidden"):
            continue
        if layer.endswith(writers):
            p[reserved] = 0.0  # rows of the weight, entries of the bias
        elif name.endswith(".weight") and layer.endswith(readers):
            p[:, reserved] = 0.0
        elif "LayerNorm" in name or "layer_norm" in name:
            p[reserved] = 1.0 if name.endswith("weight") else 0.0

    # Last layer: slot j of head 0 attends to tokens of group j and copies their channel difference.
    last = sorted({n.rsplit(".attention.", 1)[0] for n in params if ".attention." in n})[-1]
    attn = f"{last}.attention" if albert else f"{last}.attention.self"
    out = f"{last}.attention.dense" if albert else f"{last}.attention.output.dense"
    for slot, (plus, minus) in enumerate(_CHANNELS):
        for proj in ("query", "key", "value"):
            params[f"{attn}.{proj}.weight"][slot] = 0.0
            params[f"{attn}.{proj}.bias"][slot] = 0.0
        params[f"{attn}.query.bias"][slot] = _QUERY_BIAS[slot]
        for proj in ("key", "value"):
            params[f"{attn}.{proj}.weight"][slot, plus] = 1.0
            params[f"{attn}.{proj}.weight"][slot, minus] = -1.0
        params[f"{out}.weight"][plus, slot] = _GATHER_GAIN
        params[f"{out}.weight"][minus, slot] = -_GATHER_GAIN

    # Head: a tanh gate per group reads the first token's channel difference.
    pooler = {"albert": "albert.pooler", "bert": "bert.pooler.dense"}.get(base, "classifier.dense")
    final = "classifier.out_proj" if pooler == "classifier.dense" else "classifier"
    gate = params[f"{pooler}.weight"]
    gate[:, reserved] = 0.0
    for slot, (plus, minus) in enumerate(_CHANNELS):
        gate[slot] = 0.0
        gate[slot, plus], gate[slot, minus] = _GATE_SLOPE, -_GATE_SLOPE
        params[f"{pooler}.bias"][slot] = -_GATE_OFFSET

    weight, bias = params[f"{final}.weight"], params[f"{final}.bias"]
    weight.mul_(0.15)  # keeps the random part of each logit small (about +-0.1)
    low = _logit(BASELINE_SCORE)
    for c in range(num_classes):
        name = class_names[c] if c < len(class_names) else None
        gains = [(_logit(t.get(name, BASELINE_SCORE)) - low) / 2 for t in (TOXIC_SCORES, BORDERLINE_SCORES)]
        weight[c, 0], weight[c, 1] = gains
        bias[c] = low + sum(gains)
    assert isinstance(weight, torch.Tensor)
