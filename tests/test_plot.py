"""Pictures: the figures show what the summary says (bars, names, scales, titles).

Real models are drawn - GPT-2 built from a config (never downloaded) and a
BatchNorm CNN - and saved to PNG/SVG in temporary directories; the assertions
read the figure's artists back, not only that a file exists.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("matplotlib")

from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from summaryplus import ModelStatistics, load_summary, summary
from summaryplus.examples import SmallCNN
from summaryplus.plot import plot_comparison, plot_memory, plot_summary
from summaryplus.render.plots._labels import _middle_ellipsis

REPO = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ fixtures


def _gpt2() -> Any:
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=4, n_embd=128, n_head=4, vocab_size=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.GPT2LMHeadModel(config)


@pytest.fixture(scope="module")
def gpt2() -> ModelStatistics:
    """GPT-2 with its (tied) token embedding frozen, run with gradients."""
    torch.manual_seed(0)
    model = _gpt2()
    model.transformer.wte.weight.requires_grad_(False)
    tokens = torch.zeros(2, 32, dtype=torch.long)
    return summary(model, input_data=tokens, mode="train", verbose=0)


@pytest.fixture(scope="module")
def cnn() -> ModelStatistics:
    return summary(SmallCNN(), input_size=(2, 3, 32, 32), verbose=0)


@pytest.fixture(scope="module")
def cnn_train() -> ModelStatistics:
    return summary(SmallCNN(), input_size=(2, 3, 32, 32), mode="train", verbose=0)


def bar_containers(axes: Axes) -> list[BarContainer]:
    return [c for c in axes.containers if isinstance(c, BarContainer)]


def bars_per_position(axes: Axes) -> int:
    """How many bars (positions) the chart has: every segment container has one patch each."""
    counts = {len(container.patches) for container in bar_containers(axes)}
    assert len(counts) == 1, counts
    return counts.pop()


def bar_totals(axes: Axes) -> list[float]:
    """The length of each stacked bar, in axis units, first bar first."""
    totals = [0.0] * bars_per_position(axes)
    for container in bar_containers(axes):
        for index, patch in enumerate(container.patches):
            totals[index] += patch.get_width()
    return totals


def ytick_texts(axes: Axes) -> list[str]:
    return [label.get_text() for label in axes.get_yticklabels()]


def legend_texts(axes: Axes) -> list[str]:
    legend = axes.get_legend()
    return [] if legend is None else [text.get_text() for text in legend.get_texts()]


# ------------------------------------------------------------- plot_summary


def test_gpt2_params_bars_names_split_and_title(gpt2: ModelStatistics, tmp_path: Path) -> None:
    path = tmp_path / "gpt2.png"
    fig = plot_summary(gpt2, by="params", depth=3, path=path)
    assert isinstance(fig, Figure)
    assert path.stat().st_size > 10_000 and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    axes = fig.axes[0]

    # depth 3: wte, wpe, drop, h.0..h.3, ln_f, lm_head; Dropout has no params and
    # lm_head's weight is wte's (tied, counted once), so 7 bars remain.
    assert bars_per_position(axes) == 7
    names = ytick_texts(axes)
    assert names[0] == "transformer.wte (Embedding)"  # largest first: 2000 * 128 = 256,000
    assert set(names[1:5]) == {f"transformer.h.{i} (GPT2Block)" for i in range(4)}
    assert names[-1] == "transformer.ln_f (LayerNorm)"
    # The bars add up to the model total, the tied head counted once.
    assert sum(bar_totals(axes)) == pytest.approx(gpt2.total_params)

    # Stacked trainable/frozen: wte is all frozen, the blocks all trainable.
    trainable, frozen = bar_containers(axes)
    assert trainable.get_label() == "trainable" and frozen.get_label() == "frozen"
    assert trainable.patches[0].get_width() == 0
    assert frozen.patches[0].get_width() == 256_000
    assert sum(p.get_width() for p in frozen.patches) == gpt2.non_trainable_params
    assert legend_texts(axes) == ["trainable", "frozen"]

    # 256,000 / 256 (ln_f) = 1000x > 100x: log scale, chosen automatically.
    assert axes.get_xscale() == "log"
    title = axes.get_title(loc="left")
    assert title.startswith("GPT2LMHeadModel: parameters per module (depth 3)")
    assert "1.18M params, 924k trainable, 256k frozen" in title
    assert "2 modules with 0 params not shown" in title
    # Each bar is labelled with its value and share: 256,000 / 1,180,416 = 22%.
    assert "256k (22%)" in [text.get_text() for text in axes.texts]


def test_log_scale_overridable_and_units_on_axis(gpt2: ModelStatistics) -> None:
    axes = plot_summary(gpt2, depth=3, log_scale=False).axes[0]
    assert axes.get_xscale() == "linear"
    assert axes.get_xlabel() == "Parameters (k)"  # largest bar 256,000
    axes = plot_summary(gpt2, by="memory", depth=1, log_scale=False).axes[0]
    assert axes.get_xlabel() == "Memory (MB)"
    # depth 1 GPT-2 blocks vs lm_head MACs: 109M / 32.8M < 100x -> linear.
    axes = plot_summary(gpt2, by="macs", depth=1).axes[0]
    assert axes.get_xscale() == "linear"
    assert axes.get_xlabel() == "MACs (M)"
    axes = plot_summary(gpt2, by="macs", depth=1, log_scale=True).axes[0]
    assert axes.get_xscale() == "log"
    # Log ticks carry the unit themselves.
    fig = plot_summary(gpt2, by="macs", depth=1, log_scale=True)
    fig.canvas.draw()
    ticks = [label.get_text() for label in fig.axes[0].get_xticklabels()]
    assert "1M" in ticks and "10M" in ticks


def test_cnn_macs_model_order_and_vertical(cnn: ModelStatistics, tmp_path: Path) -> None:
    fig = plot_summary(cnn, by="macs", depth=3, sort=False, path=tmp_path / "cnn.png")
    axes = fig.axes[0]
    # Only convolutions and the classifier multiply-accumulate; model order kept.
    assert ytick_texts(axes) == [
        "features.0.0 (Conv2d)",
        "features.1.0 (Conv2d)",
        "features.2.0 (Conv2d)",
        "classifier (Linear)",
    ]
    # 2 * 32*32 * 32*3*9 = 1,769,472 MACs for the first conv, 2 * 128 * 10 for the classifier.
    assert bar_totals(axes)[0] == 1_769_472
    assert bar_totals(axes)[-1] == 2_560
    assert axes.get_xscale() == "log"  # 9.4M / 2,560 > 100x
    assert axes.get_legend() is None  # one colour, nothing to explain
    assert "MACs per module (depth 3)" in axes.get_title(loc="left")
    assert "10 modules with 0 MACs not shown" in axes.get_title(loc="left")
    assert sum(bar_totals(axes)) == cnn.total_mult_adds

    axes = plot_summary(cnn, by="macs", depth=3, orientation="vertical").axes[0]
    assert axes.get_yscale() == "log" and axes.get_xscale() == "linear"
    labels = axes.get_xticklabels()
    # features.1.0 and features.2.0 tie at 9,437,184 MACs: ties keep model order.
    assert labels[0].get_text() == "features.1.0 (Conv2d)"
    assert all(label.get_rotation() == 45 for label in labels)  # long names: rotated


def test_top_k_groups_the_rest_as_other(gpt2: ModelStatistics) -> None:
    fig = plot_summary(gpt2, by="macs", depth=4, top_k=3)
    axes = fig.axes[0]
    names = ytick_texts(axes)
    assert bars_per_position(axes) == 4
    assert names[0] == "lm_head (Linear)"  # 2*32 * 128 * 2000 = 16,384,000 MACs
    assert names[-1] == "other (6 modules)"
    assert bar_containers(axes)[0].patches[-1].get_hatch() == "////"
    # Nothing is lost: the other bar holds the rest of the total.
    assert axes.get_xlabel() == "MACs (M)"
    assert sum(bar_totals(axes)) * 1e6 == pytest.approx(gpt2.total_mult_adds)
    assert "6 smallest modules merged into 'other'" in axes.get_title(loc="left")
    # Model order keeps the kept bars where they are; "other" comes last.
    names = ytick_texts(plot_summary(gpt2, by="macs", depth=4, top_k=3, sort=False).axes[0])
    assert names[-1] == "other (6 modules)" and names[-2] == "lm_head (Linear)"
    # A rest of one module keeps its name.
    names = ytick_texts(plot_summary(gpt2, by="macs", depth=4, top_k=8).axes[0])
    assert len(names) == 9 and not any(name.startswith("other") for name in names)


def test_memory_split_into_params_and_activations(cnn_train: ModelStatistics) -> None:
    axes = plot_summary(cnn_train, by="memory", depth=2, log_scale=False).axes[0]
    assert legend_texts(axes) == ["parameters", "activations saved for backward"]
    assert axes.get_xlabel() in {"Memory (kB)", "Memory (MB)"}
    scale = 1e6 if axes.get_xlabel() == "Memory (MB)" else 1e3
    total = cnn_train.total_param_bytes + cnn_train.activation_bytes
    assert sum(bar_totals(axes)) * scale == pytest.approx(total)


def test_title_and_ax_and_svg(cnn: ModelStatistics, tmp_path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure()
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    returned = plot_summary(cnn, depth=2, ax=right, title="CNN params")
    assert returned is fig
    assert right.get_title(loc="left") == "CNN params"
    assert not left.containers and bar_containers(right)

    path = tmp_path / "cnn.svg"
    plot_summary(cnn, depth=2, path=path)
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    assert "features.2 (Sequential)" in text  # names are text in the SVG


def test_long_names_are_shortened_in_the_middle_and_stay_distinct() -> None:
    assert _middle_ellipsis("encoder.layer.11.attention.output.dense", 30) == (
        "encoder…attention.output.dense"
    )
    assert _middle_ellipsis("short.name", 30) == "short.name"
    assert _middle_ellipsis("a_single_very_long_module_name_here", 12) == "a_sing…_here"

    class Deep(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = nn.ModuleDict(
                {
                    "transformer_layers": nn.ModuleList(
                        nn.ModuleDict({"self_attention_projection": nn.Linear(8, 8)})
                        for _ in range(3)
                    )
                }
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            layers: Any = self.encoder["transformer_layers"]
            for layer in layers:
                x = layer["self_attention_projection"](x)
            return x

    stats = summary(Deep(), input_size=(1, 8), verbose=0)
    names = ytick_texts(plot_summary(stats, depth=4, sort=False).axes[0])
    assert names == [f"encoder…{i}.self_attention_projection (Linear)" for i in range(3)]


def test_nothing_to_show_is_a_figure_not_an_error() -> None:
    stats = summary(nn.Sequential(nn.ReLU()), input_size=(1, 4), verbose=0)
    axes = plot_summary(stats).axes[0]
    assert not bar_containers(axes)
    assert [text.get_text() for text in axes.texts] == ["no module at depth 1 has any params"]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"by": "weights"}, ValueError, "by='weights' is not valid; accepted values: 'params'"),
        ({"top_k": -1}, ValueError, "top_k=-1 is not valid"),
        ({"top_k": 0}, ValueError, "top_k=0 is not valid"),
        ({"top_k": 2.5}, TypeError, "top_k must be an int"),
        ({"depth": -1}, ValueError, "depth=-1 is not valid"),
        ({"path": "out.jpg"}, ValueError, "accepted values: .png, .svg, .pdf"),
        ({"path": "out"}, ValueError, "'(none)' is not valid"),
        ({"orientation": "diagonal"}, ValueError, "accepted values: 'horizontal', 'vertical'"),
        ({"log_scale": "auto"}, ValueError, "log_scale='auto' is not valid"),
        ({"sort": None}, ValueError, "sort=None is not valid"),
    ],
)
def test_bad_arguments(
    cnn: ModelStatistics, tmp_path: Path, kwargs: dict[str, object], error: type, message: str
) -> None:
    if "path" in kwargs:
        kwargs = {**kwargs, "path": tmp_path / str(kwargs["path"])}
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        plot_summary(cnn, **kwargs)  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())  # checked before anything is drawn or written


def test_not_a_summary() -> None:
    with pytest.raises(TypeError, match=r"stats must be a summary \(what summary\(\) or load"):
        plot_summary(nn.Linear(2, 2))  # type: ignore[arg-type]


def test_charts_of_a_loaded_summary_equal_the_live_ones(
    cnn_train: ModelStatistics, tmp_path: Path
) -> None:
    # Views take any summary: one read back from JSON draws the same bars.
    cnn_train.to_json(tmp_path / "cnn.json")
    loaded = load_summary(tmp_path / "cnn.json")
    for by in ("params", "macs", "memory"):
        live = plot_summary(cnn_train, by=by).axes[0]
        read = plot_summary(loaded, by=by).axes[0]
        assert bar_totals(live) == bar_totals(read) and max(bar_totals(live)) > 0
        assert ytick_texts(live) == ytick_texts(read)
    memory_live = plot_memory(cnn_train).axes[0]
    memory_read = plot_memory(loaded).axes[0]
    assert bar_totals(memory_live) == bar_totals(memory_read)


def test_many_bars_suggest_top_k() -> None:
    model = nn.Sequential(*(nn.Linear(2, 2) for _ in range(61)))
    stats = summary(model, input_size=(1, 2), verbose=0)
    with pytest.warns(UserWarning, match="pass top_k"):
        plot_summary(stats)


def test_cli_call_shape(cnn: ModelStatistics, tmp_path: Path) -> None:
    # summaryplus/cli/targets.py calls exactly this for --plot FILE.
    path = tmp_path / "cli.png"
    plot_summary(cnn, path=str(path), depth=3, columns=["output_size", "num_params"], top_k=25)
    assert path.stat().st_size > 0


def _panel_titles(figure: Figure) -> list[str]:
    return [axes.get_title(loc="left").splitlines()[0] for axes in figure.get_axes()]


def test_columns_draw_one_panel_per_numeric_column(cnn: ModelStatistics) -> None:
    from summaryplus.plot import plotted_quantities

    figure = plot_summary(cnn, depth=2, columns=["output_size", "num_params", "flops", "memory"])
    assert _panel_titles(figure) == [
        "SmallCNN: parameters per module (depth 2)",
        "SmallCNN: FLOPs per module (depth 2)",
        "SmallCNN: memory per module (depth 2)",
    ]
    # one column: the one chart, as by= draws it
    single = plot_summary(cnn, depth=1, columns="mult_adds")
    assert _panel_titles(single) == ["SmallCNN: MACs per module (depth 1)"]
    assert plotted_quantities(["kernel_size", "trainable"]) == ["params"]  # no numeric column
    assert plotted_quantities(["params_percent", "num_params", "macs"]) == ["params", "macs"]
    with pytest.raises(ValueError, match="columns='parms'"):
        plot_summary(cnn, columns=["parms"])
    fig = Figure()
    with pytest.raises(ValueError, match="ax draws one panel"):
        plot_summary(cnn, columns=["num_params", "mult_adds"], ax=fig.add_subplot())


def test_cli_plot_follows_col_names_and_depth(tmp_path: Path, capsys: Any) -> None:
    from matplotlib.image import imread

    from summaryplus.cli import main

    factory = tmp_path / "factories.py"
    factory.write_text(
        "from summaryplus.examples import SmallCNN\n\ndef make():\n    return SmallCNN()\n"
    )
    path = tmp_path / "flops.png"
    code = main([f"{factory}:make", "--input-size", "1,3,32,32", "--col-names", "flops",
                 "--depth", "2", "--plot", str(path)])
    assert code == 0
    err = capsys.readouterr().err
    assert f"wrote the plot to {path} (flops per module at depth 2)" in err
    assert imread(path).shape[0] > 0
    both = tmp_path / "both.png"
    assert main([f"{factory}:make", "--input-size", "1,3,32,32", "--col-names",
                 "num_params,mult_adds", "--plot", str(both)]) == 0
    assert "(params, macs per module at depth 3)" in capsys.readouterr().err
    # two panels are taller than one
    assert imread(both).shape[0] > imread(path).shape[0]


# --------------------------------------------------------------- plot_memory


def test_plot_memory_parts_and_peak(gpt2: ModelStatistics, tmp_path: Path) -> None:
    training = gpt2.training_memory("adam")
    fig = plot_memory(gpt2, path=tmp_path / "memory.png")
    axes = fig.axes[0]
    assert ytick_texts(axes) == ["backward start", "optimizer step"]
    assert axes.get_xlabel() == "Memory (MB)"
    scale = 1e6
    # Each phase's bar is exactly its peak; the dashed line is the larger one.
    ends: dict[float, float] = {}
    for patch in axes.patches:
        assert isinstance(patch, Rectangle)
        y = round(patch.get_y() + patch.get_height() / 2)
        ends[y] = max(ends.get(y, 0.0), patch.get_x() + patch.get_width())
    assert ends[0] * scale == pytest.approx(training.backward_peak)
    assert ends[1] * scale == pytest.approx(training.step_peak)
    (peak,) = [line for line in axes.lines if line.get_gid() == "memory:peak"]
    assert float(np.asarray(peak.get_xdata())[0]) * scale == pytest.approx(training.total)
    legend = legend_texts(axes)
    assert f"optimizer state: {training.optimizer_state / 1e6:#.3g} MB" in legend
    assert any(text.startswith("activations: ") for text in legend)
    assert any(text.startswith("gradients: ") for text in legend)
    assert not any(text.startswith("master weights") for text in legend)  # 0 bytes: left out
    title = axes.get_title(loc="left")
    assert title.startswith("GPT2LMHeadModel: training-step memory (adam)")
    assert "estimated peak" in title and "(peak)" in [t.get_text()[-6:] for t in axes.texts]


def test_plot_memory_from_training_memory_and_optimizer(gpt2: ModelStatistics) -> None:
    training = gpt2.training_memory("sgd")
    axes = plot_memory(training).axes[0]
    assert axes.get_title(loc="left").startswith("Training-step memory (sgd)")
    assert not any(text.startswith("optimizer state") for text in legend_texts(axes))
    with pytest.raises(ValueError, match="differs from the TrainingMemory"):
        plot_memory(training, optimizer="adam")
    with pytest.raises(ValueError, match="optimizer='lion' is not known"):
        plot_memory(gpt2, optimizer="lion")


def test_plot_memory_needs_train_mode(cnn: ModelStatistics) -> None:
    with pytest.raises(ValueError, match=r"mode='train'"):
        plot_memory(cnn)
    with pytest.raises(TypeError, match="plot_memory takes a summary"):
        plot_memory({"params": 1})  # type: ignore[arg-type]


# ----------------------------------------------------------- plot_comparison


def test_plot_comparison_panels(
    gpt2: ModelStatistics, cnn_train: ModelStatistics, tmp_path: Path
) -> None:
    models = {"GPT-2 (4 layers)": gpt2, "SmallCNN": cnn_train}
    fig = plot_comparison(models, path=tmp_path / "compare.png")
    assert (tmp_path / "compare.png").stat().st_size > 0
    params, macs, memory = fig.axes
    assert ytick_texts(params) == ["GPT-2 (4 layers)", "SmallCNN"]
    assert bars_per_position(params) == 2
    assert params.get_title() == "Parameters (pale: frozen)"  # GPT-2's wte is frozen
    assert macs.get_title() == "MACs" and memory.get_title() == "Memory (pale: activations)"
    assert macs.get_xlabel() == "MACs (M)"
    assert sum(p.get_width() for p in bar_containers(params)[1].patches) * 1e6 == pytest.approx(
        gpt2.non_trainable_params
    )
    assert [p.get_width() * 1e6 for p in bar_containers(macs)[0].patches] == pytest.approx(
        [gpt2.total_mult_adds, cnn_train.total_mult_adds]
    )
    # The same model keeps its colour in every panel.
    assert bar_containers(params)[0].patches[1].get_facecolor() == (
        bar_containers(macs)[0].patches[1].get_facecolor()
    )
    assert fig.get_suptitle() == "Comparison of 2 models"

    fig = plot_comparison(models, metrics=("training_memory",), log_scale=True, title="Peaks")
    (axes,) = fig.axes
    assert axes.get_xscale() == "log" and fig.get_suptitle() == "Peaks"
    assert [p.get_width() for p in bar_containers(axes)[0].patches] == pytest.approx(
        [gpt2.training_memory().total, cnn_train.training_memory().total]
    )


def test_plot_comparison_bad_arguments(cnn: ModelStatistics, cnn_train: ModelStatistics) -> None:
    with pytest.raises(ValueError, match="non-empty mapping"):
        plot_comparison({})
    with pytest.raises(TypeError, match=r"models\['x'\] must be a summary"):
        plot_comparison({"x": 3})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="metrics='speed' is not valid"):
        plot_comparison({"a": cnn}, metrics=("speed",))
    with pytest.raises(ValueError, match="repeats a metric"):
        plot_comparison({"a": cnn}, metrics=("params", "params"))
    with pytest.raises(ValueError, match="non-empty sequence"):
        plot_comparison({"a": cnn}, metrics="params")
    with pytest.raises(ValueError, match="'eval' was not"):
        plot_comparison({"train": cnn_train, "eval": cnn}, metrics=("training_memory",))


# ------------------------------------------------------------ no side effects


def test_import_is_lazy_and_plotting_leaves_pyplot_alone(tmp_path: Path) -> None:
    code = f"""
import sys
import summaryplus
assert not [m for m in sys.modules if m.startswith("matplotlib")], "import loaded matplotlib"
assert callable(summaryplus.plot_summary)
import matplotlib
matplotlib.use("svg")  # the user's choice must survive
from torch import nn
stats = summaryplus.summary(nn.Linear(4, 2), input_size=(1, 4), verbose=0)
summaryplus.plot_summary(stats, path={str(tmp_path / "x.png")!r})
assert "matplotlib.pyplot" not in sys.modules, "pyplot was imported"
assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    assert (tmp_path / "x.png").stat().st_size > 0


def test_readme_pictures_are_committed_and_small() -> None:
    # The pictures moved with the "Pictures" section from README.md to docs/views.md.
    page = (REPO / "docs" / "views.md").read_text(encoding="utf-8")
    for name in ("gpt2_params.png", "cnn_macs.png", "gpt2_memory.png"):
        image = REPO / "docs" / "images" / name
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert image.stat().st_size < 150_000
        assert f"](images/{name})" in page
    assert "python docs/make_images.py" in page
