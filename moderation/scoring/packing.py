"""Packed forward passes: a batch's texts laid end to end as one sequence, attention kept per text.

Padding a batch to its longest text costs as much as text does, and comments' lengths vary
several-fold, so padded batches of comments gain little or nothing on a CPU. But nearly all
of an encoder's work is in its linear layers, which treat every token alike: they can run on
the batch's real tokens laid end to end, with no padding at all, and only attention needs to
know where each text starts and ends. So the texts go in as one sequence of their tokens, each
text with its own positions (0.. for BERT and ALBERT, after the padding index for RoBERTa),
attention runs text by text through `scaled_dot_product_attention` (registered with
transformers' attention interface, which every supported architecture calls), and the
classification head reads each text's first token. The scores are the padded pass's: equal
within 1e-6 at fp32 for every Detoxify architecture (tests/scoring/test_packing.py).

Written here rather than taken from a library: transformers packs sequences only for
flash-attention kernels (CUDA), and nested tensors do not run these models; what is needed is
one attention function and each architecture's head, about sixty lines.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ATTENTION = "moderation_packed"
# config.model_type -> how positions start and how the head reads the first token
_ROBERTA_LIKE = {"roberta", "xlm-roberta"}
SUPPORTED = {"bert", "albert", *_ROBERTA_LIKE}
_registered = False


def _attention(module: Any, query: Any, key: Any, value: Any, attention_mask: Any, scaling: float | None = None,
               dropout: float = 0.0, **kwargs: Any) -> tuple[Any, None]:
    """Attention within each text of a packed sequence (query: [1, heads, tokens, head size])."""
    import torch
    from torch.nn.functional import scaled_dot_product_attention

    bounds = kwargs.get("packed_bounds")
    if bounds is None:
        raise RuntimeError("packed attention called without packed_bounds (use packing.logits)")
    parts = [scaled_dot_product_attention(query[:, :, start:end], key[:, :, start:end], value[:, :, start:end],
                                          scale=scaling)
             for start, end in zip(bounds, bounds[1:])]
    output = parts[0] if len(parts) == 1 else torch.cat(parts, dim=2)
    return output.transpose(1, 2).contiguous(), None


def supports(model: Any) -> bool:
    return getattr(model.config, "model_type", None) in SUPPORTED and hasattr(model, model.base_model_prefix)


def prepare(model: Any) -> Any:
    """Makes `model` attend per text of a packed sequence (only `logits` calls it afterwards)."""
    global _registered
    if not _registered:
        from transformers import AttentionInterface

        AttentionInterface.register(ATTENTION, _attention)
        _registered = True
    model.config._attn_implementation = ATTENTION
    return model


def logits(model: Any, sequences: Sequence[Sequence[int]]) -> Any:
    """The classification logits of each token-id sequence, in one packed forward pass."""
    import torch

    config = model.config
    first = config.pad_token_id + 1 if config.model_type in _ROBERTA_LIKE else 0
    bounds = [0]
    for ids in sequences:
        bounds.append(bounds[-1] + len(ids))
    device = model.device
    input_ids = torch.tensor([[token for ids in sequences for token in ids]], device=device)
    positions = torch.cat([torch.arange(first, first + len(ids)) for ids in sequences]).unsqueeze(0).to(device)
    base = getattr(model, model.base_model_prefix)
    # A 4-D mask is passed through untouched by transformers' mask preparation; the packed
    # attention ignores it (the bounds say what each token may attend to).
    unused_mask = torch.zeros(1, 1, 1, 1, device=device)
    hidden = base(input_ids=input_ids, attention_mask=unused_mask, token_type_ids=torch.zeros_like(input_ids),
                  position_ids=positions, packed_bounds=bounds).last_hidden_state
    heads = hidden[0, bounds[:-1]].unsqueeze(1)  # each text's first token: [texts, 1, hidden]
    if config.model_type in _ROBERTA_LIKE:
        return model.classifier(heads)  # RobertaClassificationHead reads [:, 0] itself
    if config.model_type == "bert":
        pooled = base.pooler(heads)
    else:  # albert
        pooled = base.pooler_activation(base.pooler(heads[:, 0]))
    return model.classifier(model.dropout(pooled))
