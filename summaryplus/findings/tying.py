"""Tied weights: a config that says tied where the embedding and the output
head are different tensors (or the reverse), and a same-shaped embedding and
output head left untied where no config chose it."""

from __future__ import annotations

from collections.abc import Iterator

from torch import nn

from .context import Context, mb, module_of
from .registry import Finding, rule


def _embedding_and_head(context: Context) -> tuple[str, nn.Module, str, nn.Module] | None:
    """(path, module) of the input embedding and of the output head: the
    model's own answer (transformers' get_input/output_embeddings), else an
    ``nn.Embedding`` whose weight has the shape of the last ``nn.Linear`` that ran."""
    model = context.model
    assert model is not None
    paths = {id(module): path for path, module in context.tree.named_paths()}
    getters = getattr(model, "get_input_embeddings", None), getattr(
        model, "get_output_embeddings", None
    )
    if callable(getters[0]) and callable(getters[1]):
        try:
            embedding, head = getters[0](), getters[1]()
        except (NotImplementedError, AttributeError):
            embedding = head = None
        if isinstance(embedding, nn.Module) and isinstance(head, nn.Module):
            return paths.get(id(embedding), ""), embedding, paths.get(id(head), ""), head
    heads = [
        module
        for row in context.rows
        if row.executed and isinstance(module := module_of(row), nn.Linear)
    ]
    if not heads:
        return None
    head = heads[-1]
    for path, module in context.tree.named_paths():
        if isinstance(module, nn.Embedding) and module.weight.shape == head.weight.shape:
            return path, module, paths.get(id(head), ""), head
    return None


@rule("tied-weights", title="embedding and output head tied or not", needs_model=True)
def tied_weights(context: Context) -> Iterator[Finding]:
    if context.model is None:
        return
    found = _embedding_and_head(context)
    if found is None:
        return
    embed_path, embedding, head_path, head = found
    weight, head_weight = embedding._parameters.get("weight"), head._parameters.get("weight")
    if weight is None or head_weight is None:
        return
    tied = weight is head_weight
    config = getattr(context.model, "config", None)
    says = getattr(config, "tie_word_embeddings", None)
    rows = (embed_path, head_path)
    evidence = {
        "embedding_shape": list(weight.shape),
        "head_shape": list(head_weight.shape),
        "tied": tied,
        "config_tie_word_embeddings": says,
    }
    if says is True and not tied:
        yield Finding(
            "tied-weights",
            "warning",
            f"the config says tie_word_embeddings=True but {embed_path}.weight and "
            f"{head_path}.weight are different tensors ({mb(head_weight.nbytes)} more "
            "than tied, and trained apart)",
            "call model.tie_weights() after building or loading it, or set "
            "tie_word_embeddings=False if they are meant to differ",
            rows=rows,
            params=(f"{embed_path}.weight", f"{head_path}.weight"),
            evidence={**evidence, "bytes_if_tied": head_weight.nbytes},
        )
    elif says is False and tied:
        yield Finding(
            "tied-weights",
            "warning",
            f"the config says tie_word_embeddings=False but {head_path}.weight is "
            f"{embed_path}.weight (one tensor)",
            "untie them (a copy of the weight for the head), or set tie_word_embeddings=True",
            rows=rows,
            params=(f"{embed_path}.weight",),
            evidence=evidence,
        )
    elif (
        says is None
        and not tied
        and weight.shape == head_weight.shape
        and weight.dtype == head_weight.dtype
    ):
        yield Finding(
            "tied-weights",
            "note",
            f"{embed_path}.weight and {head_path}.weight have the same shape "
            f"{list(weight.shape)} and are not tied: tying saves {mb(head_weight.nbytes)} "
            "of parameters (and their gradients and optimizer state)",
            f"tie them ({head_path}.weight = {embed_path}.weight) if the model allows it",
            rows=rows,
            params=(f"{embed_path}.weight", f"{head_path}.weight"),
            evidence={**evidence, "bytes_saved_if_tied": head_weight.nbytes},
        )
