"""A summary displayed in a real Jupyter notebook: ``_repr_html_`` end to end.

The notebook is built with nbformat and executed by nbclient on an ipykernel
started from this interpreter (a kernel spec written into a temporary folder),
so the test needs no kernel installed beforehand and works from a clean venv.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch

from summaryplus import summary

transformers = pytest.importorskip("transformers")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
kernelspec = pytest.importorskip("jupyter_client.kernelspec")
jupyter_manager = pytest.importorskip("jupyter_client.manager")

REPO = Path(__file__).resolve().parent.parent
KERNEL = "summaryplus-test"

BUILD = """\
import torch, transformers
from summaryplus import summary

config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=2, vocab_size=1000, n_positions=64)
model = transformers.GPT2LMHeadModel(config)
stats = summary(model, input_size=(1, 16), dtypes=[torch.long])
"""


def _kernel_manager(tmp_path: Path) -> object:
    """A kernel manager for this interpreter, with summaryplus importable."""
    spec_dir = tmp_path / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    python_path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "summaryplus test",
        "language": "python",
        "env": {"PYTHONPATH": python_path, "IPYTHONDIR": str(tmp_path / "ipython")},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = kernelspec.KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    return jupyter_manager.KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)


def test_notebook_displays_the_summary_as_html(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Connection files and runtime state go to the temporary folder, not $HOME.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(BUILD),
        nbformat.v4.new_code_cell("stats"),
        nbformat.v4.new_code_cell("stats.group_by(1)[-1].macs"),
    ]
    client = nbclient.NotebookClient(
        notebook,
        km=_kernel_manager(tmp_path),
        timeout=300,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()

    build, shown, query = notebook.cells
    # verbose defaults to quiet in a notebook: the result displays itself instead
    printed = [out.text for out in build.outputs if out.get("name") == "stdout"]
    assert not printed, printed
    (result,) = [out for out in shown.outputs if out.output_type == "execute_result"]
    page = result.data["text/html"]

    config = transformers.GPT2Config(
        n_layer=2, n_embd=64, n_head=2, vocab_size=1000, n_positions=64
    )
    expected = summary(
        transformers.GPT2LMHeadModel(config),
        input_size=(1, 16),
        dtypes=[torch.long],
        verbose=0,
    )
    assert page == expected._repr_html_()
    for name in ("GPT2LMHeadModel", "GPT2Model: 1-1", "GPT2Block: 3-2", "Linear: 1-2"):
        assert name in page
    assert "Total params" in page and "168,192" in page
    assert "Total mult-adds" in page and "2.66M" in page
    assert result.data["text/markdown"] == expected._repr_markdown_()
    assert "Layer (type:depth-idx)" in result.data["text/plain"]
    # lm_head: 16 x 64 x 1000 MACs
    assert query.outputs[0].data["text/plain"] == "1024000"
