"""Built-in example models, written in plain torch, for ``summaryplus demo``.

They show the features a real model exercises: convolutions with BatchNorm,
a ModuleList of blocks, attention through ``scaled_dot_product_attention``, and
an output head tied to the embedding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    """A 3-stage CNN classifier for 3x32x32 images."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            _conv_block(3, 32),
            _conv_block(32, 64),
            _conv_block(64, 128),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(128, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.pool(self.features(images)).flatten(1)
        output: torch.Tensor = self.classifier(features)
        return output


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class SelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, dim = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        mixed = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        output: torch.Tensor = self.proj(mixed.transpose(1, 2).reshape(batch, length, dim))
        return output


class Block(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        output: torch.Tensor = x + self.mlp(self.norm2(x))
        return output


class TinyGPT(nn.Module):
    """A decoder-only transformer whose output head shares the embedding weight."""

    def __init__(
        self,
        vocab_size: int = 1000,
        dim: int = 128,
        depth: int = 2,
        heads: int = 4,
        max_length: int = 256,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.position = nn.Embedding(max_length, dim)
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab_size, bias=False)
        self.head.weight = self.embed.weight  # tied: counted once

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.embed(tokens) + self.position(positions)
        for block in self.blocks:
            x = block(x)
        logits: torch.Tensor = self.head(self.norm(x))
        return logits


class ChainLink(nn.Module):
    """One level of a deeply nested model: a small Linear, then everything below."""

    def __init__(self, inner: nn.Module | None) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc(x)
        if self.inner is None:
            return x
        output: torch.Tensor = self.inner(x)
        return output


def deep_chain(depth: int, tied: bool = False) -> nn.Module:
    """``depth`` nested ChainLinks on (..., 4) inputs, the stress case for nesting.

    ``tied``: the innermost Linear shares its weight with the outermost one, as
    tied embeddings do; the model then holds one tensor under two names.
    """
    links = [ChainLink(None)]
    for _ in range(depth - 1):
        links.append(ChainLink(links[-1]))
    if tied:
        links[0].fc.weight = links[-1].fc.weight
    return links[-1]
