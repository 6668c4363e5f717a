"""ParameterMonitor and the Lightning / Hugging Face callbacks, on real training.

Scenarios: a BERT classifier whose backbone is frozen then unfrozen layer by
layer, a head replaced, a network grown inside a real training loop, dtype and
device moves, tied weights; then a real Lightning ``Trainer.fit`` and a real
``transformers.Trainer.train`` on CPU where a layer is unfrozen mid-training.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import torch
from models import bert_classifier
from torch import nn

import summaryplus.monitor as monitor_module
from summaryplus import Change, ParameterMonitor, count_parameters


def kinds(changes: list[Change]) -> list[str]:
    return [change.kind for change in changes]


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="summaryplus")
    return caplog


def summaryplus_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name.startswith("summaryplus")]


# ---------------------------------------------------------------- the monitor
def test_freezing_then_unfreezing_a_bert_backbone(records: pytest.LogCaptureFixture) -> None:
    model = bert_classifier()
    monitor = ParameterMonitor(model)
    total = count_parameters(model)
    assert monitor.total_params == monitor.trainable_params == total
    assert monitor.check(step=0) == []

    model.bert.requires_grad_(False)
    changes = monitor.check(step=1)
    assert kinds(changes) == ["trainable", "frozen"]
    head = count_parameters(model.classifier)  # 32 * 2 + 2 = 66
    assert (changes[0].before, changes[0].after, changes[0].delta) == (total, head, head - total)
    frozen = changes[1]
    assert frozen.names == tuple(name for name, _ in model.named_parameters() if "bert." in name)
    assert frozen.before == frozen.after == count_parameters(model.bert)
    assert monitor.trainable_params == count_parameters(model, trainable_only=True) == head
    assert summaryplus_lines(records) == [
        f"step 1: trainable params {total:,} -> 66 ({head - total:+,})",
        f"step 1: frozen {len(frozen.names)} tensor(s), {frozen.before:,} params: "
        + ", ".join(frozen.names[:5])
        + f" and {len(frozen.names) - 5} more",
    ]

    # Progressive unfreezing: the last encoder layer first.
    records.clear()
    model.bert.encoder.layer[1].requires_grad_(True)
    changes = monitor.check(step=2)
    assert kinds(changes) == ["trainable", "unfrozen"]
    layer = count_parameters(model.bert.encoder.layer[1])
    assert changes[0].delta == layer
    assert all(name.startswith("bert.encoder.layer.1.") for name in changes[1].names)
    assert len(summaryplus_lines(records)) == 2
    assert monitor.check(step=3) == []
    assert monitor.history == [*monitor.history[:2], *changes]


def test_nothing_changed_logs_nothing_and_skips_the_slow_path(
    records: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = bert_classifier()
    monitor = ParameterMonitor(model)
    snapshots = []
    real = monitor_module._snapshot

    def counting(module: nn.Module) -> Any:
        snapshots.append(module)
        return real(module)

    monkeypatch.setattr(monitor_module, "_snapshot", counting)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    ids = torch.randint(0, 500, (2, 8))
    for step in range(3):  # weights change in place: that is not a change
        loss = model(input_ids=ids, labels=torch.tensor([0, 1])).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        assert monitor.check(step) == []
    for _ in range(100):
        monitor.check()
    assert snapshots == []  # the fingerprint alone answered every call
    assert summaryplus_lines(records) == []
    model.classifier.weight.requires_grad_(False)
    assert kinds(monitor.check()) == ["trainable", "frozen"]
    assert len(snapshots) == 1


def test_replacing_the_classifier_head() -> None:
    model = bert_classifier()
    monitor = ParameterMonitor(model, logger="tests.monitor")
    model.classifier = nn.Linear(32, 5)
    changes = monitor.check(step=10)
    assert kinds(changes) == ["params", "trainable", "resized"]
    # 32 * 2 + 2 = 66 -> 32 * 5 + 5 = 165
    assert (changes[0].before, changes[0].after) == (
        count_parameters(model) - 99,
        count_parameters(model),
    )
    assert changes[2].names == ("classifier.weight", "classifier.bias")
    assert (changes[2].before, changes[2].after) == (66, 165)
    assert (
        str(changes[2])
        == "step 10: resized 2 tensor(s), 66 -> 165 params: classifier.weight, classifier.bias"
    )

    model.classifier = nn.Sequential(nn.Linear(32, 16), nn.Linear(16, 5))
    changes = monitor.check(step=11)
    assert kinds(changes) == ["params", "trainable", "added", "removed"]
    added, removed = changes[2], changes[3]
    assert added.names == (
        "classifier.0.weight",
        "classifier.0.bias",
        "classifier.1.weight",
        "classifier.1.bias",
    )
    assert added.after == 32 * 16 + 16 + 16 * 5 + 5
    assert removed.names == ("classifier.weight", "classifier.bias") and removed.before == 165


def test_growing_a_layer_inside_a_training_loop(records: pytest.LogCaptureFixture) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16))
    head = nn.Linear(16, 1)
    monitor = ParameterMonitor(model, logger=logging.getLogger("summaryplus.train"))
    optimizer = torch.optim.Adam([*model.parameters(), *head.parameters()], lr=1e-2)
    seen: dict[int, list[str]] = {}
    for step in range(6):
        if step == 3:  # architecture search adds a block; the optimizer learns of it
            model.append(nn.Linear(16, 16))
            optimizer.add_param_group({"params": model[-1].parameters()})
        x = torch.randn(4, 8)
        loss = head(model(x)).pow(2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        changes = monitor.check(step=step)
        if changes:
            seen[step] = kinds(changes)
    assert seen == {3: ["params", "trainable", "added"]}
    added = monitor.history[-1]
    assert added.names == ("3.weight", "3.bias") and added.after == 16 * 16 + 16
    lines = summaryplus_lines(records)
    assert lines[0] == "step 3: params 416 -> 688 (+272)"  # 8*16+16 + 16*16+16 = 416
    assert lines[2] == "step 3: added 2 tensor(s), 272 params: 3.weight, 3.bias"


def test_inserting_a_layer_renames_the_ones_after_it() -> None:
    model = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    monitor = ParameterMonitor(model)
    model.insert(2, nn.Linear(8, 8))  # the old head is now "3", not a new tensor
    changes = monitor.check(step=4)
    assert [(c.kind, c.before, c.after, c.names) for c in changes] == [
        ("params", 81, 153, ()),
        ("trainable", 81, 153, ()),
        ("added", 0, 72, ("2.weight", "2.bias")),
        ("moved", 9, 9, ("3.weight", "3.bias")),
    ]
    assert changes[3].previous_names == ("2.weight", "2.bias")
    assert (
        str(changes[3])
        == "step 4: moved 2 tensor(s), 9 params: 2.weight -> 3.weight, 2.bias -> 3.bias"
    )


def test_dtype_and_device_moves() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    monitor = ParameterMonitor(model)
    model[0].to(torch.bfloat16)
    changes = monitor.check(step=5)
    assert [(c.kind, c.before, c.after, c.names) for c in changes] == [
        ("dtype", "float32", "bfloat16", ("0.weight", "0.bias"))
    ]
    assert changes[0].delta is None
    assert str(changes[0]) == "step 5: dtype float32 -> bfloat16 for 2 tensor(s): 0.weight, 0.bias"
    model.to("meta")
    changes = monitor.check()
    assert [(c.kind, c.before, c.after, len(c.names)) for c in changes] == [
        ("device", "cpu", "meta", 4)
    ]
    assert monitor.total_params == 4 * 4 + 4 + 4 + 4


def test_tied_weights_count_once() -> None:
    model = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 10, bias=False))
    monitor = ParameterMonitor(model)
    assert monitor.total_params == 80
    model[1].weight = model[0].weight  # tie, as language models do
    changes = monitor.check()
    assert [(c.kind, c.before, c.after) for c in changes] == [
        ("params", 80, 40),
        ("trainable", 80, 40),
        ("tied", 40, 40),
    ]
    assert changes[2].names == ("1.weight",)
    assert monitor.total_params == count_parameters(model) == 40


def test_lazy_module_materialized() -> None:
    model = nn.Sequential(nn.LazyLinear(4), nn.Linear(4, 2))
    monitor = ParameterMonitor(model)
    assert monitor.total_params == 10  # the lazy one counts 0 until it runs
    model(torch.randn(1, 3))
    changes = monitor.check()
    assert [(c.kind, c.before, c.after) for c in changes] == [
        ("params", 10, 26),
        ("trainable", 10, 26),
        ("resized", 0, 16),  # 3 * 4 + 4
    ]
    assert monitor.check() == []


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="model must be"):
        ParameterMonitor("bert")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="logger must be"):
        ParameterMonitor(nn.Linear(2, 2), logger=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="level must be"):
        ParameterMonitor(nn.Linear(2, 2), level="INFO")  # type: ignore[arg-type]


# ---------------------------------------------------------------- integrations
def test_lightning_callback_logs_summary_and_unfreezing(
    records: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    pl = pytest.importorskip("lightning.pytorch")
    from summaryplus.integrations.lightning import SummaryPlusCallback

    class Module(pl.LightningModule):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.Linear(8, 16)
            self.head = nn.Linear(16, 1)
            self.encoder.requires_grad_(False)
            self.example_input_array = torch.zeros(2, 8)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(torch.relu(self.encoder(x)))

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            if batch_idx == 2:  # unfreeze the encoder mid-epoch
                self.encoder.requires_grad_(True)
            x, y = batch
            return nn.functional.mse_loss(self(x), y)

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(12, 8), torch.randn(12, 1))
    loader = torch.utils.data.DataLoader(data, batch_size=2)
    callback = SummaryPlusCallback(col_names=("output_size", "num_params"))
    trainer = pl.Trainer(
        max_steps=5,
        accelerator="cpu",
        devices=1,
        callbacks=[callback],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(Module(), loader)

    lines = summaryplus_lines(records)
    assert any(line.startswith("Total params: 161") for line in lines)  # 8*16+16 + 16+1
    assert any("[2, 1]" in line for line in lines)  # the example input ran
    # batch_idx 2 ends at global step 3.
    assert [(c.kind, c.step) for c in callback.changes] == [("trainable", 3), ("unfrozen", 3)]
    assert "step 3: trainable params 17 -> 161 (+144)" in lines
    assert "step 3: unfrozen 2 tensor(s), 144 params: encoder.weight, encoder.bias" in lines


def test_hf_trainer_callback_logs_summary_and_unfreezing(
    records: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    from summaryplus.integrations.hf import SummaryPlusTrainerCallback

    class Unfreeze(transformers.TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.global_step == 2:
                kwargs["model"].bert.encoder.layer[1].requires_grad_(True)

    class Data(torch.utils.data.Dataset[dict[str, torch.Tensor]]):
        def __len__(self) -> int:
            return 16

        def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
            generator = torch.Generator().manual_seed(index)
            return {
                "input_ids": torch.randint(0, 500, (8,), generator=generator),
                "labels": torch.tensor(index % 2),
            }

    model = bert_classifier()
    model.bert.requires_grad_(False)
    callback = SummaryPlusTrainerCallback(depth=1)
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=4,
        per_device_train_batch_size=4,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=Data(), callbacks=[Unfreeze(), callback]
    )
    trainer.train()

    lines = summaryplus_lines(records)
    assert any(line.startswith("BertForSequenceClassification") for line in lines)
    assert f"Trainable params: {count_parameters(model.classifier)}" in lines  # at the start
    layer = count_parameters(model.bert.encoder.layer[1])
    assert [(c.kind, c.step) for c in callback.changes] == [("trainable", 2), ("unfrozen", 2)]
    assert callback.changes[0].delta == layer
    assert any(line.startswith("step 2: unfrozen 16 tensor(s)") for line in lines)
