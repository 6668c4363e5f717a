"""Fixture models shared by the tests (plain torch, small), and small transformers
models built from tiny configs (transformers is imported only by those builders)."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest
import torch
from torch import nn

if TYPE_CHECKING:
    import transformers


def _transformers() -> ModuleType:
    """transformers, quiet; a test that builds one of these models skips without it."""
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    return transformers


class SingleInputNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d(0.3)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(torch.max_pool2d(self.conv1(x), 2))
        x = torch.relu(torch.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = torch.relu(self.fc1(x))
        return torch.log_softmax(self.fc2(x), dim=1)


class NestedNet(nn.Module):
    """Sequentials inside Sequentials, a ModuleList container that is never called
    itself, and a frozen layer."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.stages = nn.ModuleList(
            nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, groups=2), nn.ReLU()) for _ in range(2)
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(8 * 8 * 8, 10))
        self.head[1].requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.head(x)


class RecursiveNet(nn.Module):
    """The same Linear called three times."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.out = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(3):
            x = torch.relu(self.fc(x))
        return self.out(x)


class LSTMNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(100, 16)
        self.lstm = nn.LSTM(16, 32, num_layers=2, batch_first=True)
        self.fc = nn.Linear(32, 5)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(tokens))
        return self.fc(out[:, -1])


class TiedNet(nn.Module):
    """Embedding and output layer share one weight; a block is shared by two parents."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 12)
        shared = nn.Linear(12, 12)
        self.left = nn.Sequential(shared, nn.ReLU())
        self.right = nn.Sequential(shared, nn.Tanh())
        self.unused = nn.Linear(12, 3)  # never called: still counted
        self.head = nn.Linear(12, 50, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        return self.head(self.left(x) + self.right(x))


def gpt2(width: int = 64, layers: int = 2, **config: Any) -> transformers.GPT2LMHeadModel:
    """A seeded GPT-2 LM with 2 heads, a 1,000-token vocabulary and 64 positions."""
    transformers = _transformers()

    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(
        transformers.GPT2Config(
            n_layer=layers, n_embd=width, n_head=2, vocab_size=1000, n_positions=64, **config
        )
    )


def bert_config(**config: Any) -> transformers.BertConfig:
    """Hidden size 32, 2 layers of 2 heads, a 500-token vocabulary, 64 positions."""
    transformers = _transformers()

    return transformers.BertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        vocab_size=500,
        max_position_embeddings=64,
        **config,
    )


def bert() -> transformers.BertModel:
    """A seeded BERT encoder from ``bert_config()``."""
    transformers = _transformers()

    torch.manual_seed(0)
    return transformers.BertModel(bert_config())


def bert_classifier(num_labels: int = 2) -> transformers.BertForSequenceClassification:
    """A seeded BERT sequence classifier from ``bert_config()``."""
    transformers = _transformers()

    torch.manual_seed(0)
    return transformers.BertForSequenceClassification(bert_config(num_labels=num_labels))
