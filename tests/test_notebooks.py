"""Every notebook in eval/ runs headless with the tiny model on a small sample."""
import pytest
from conftest import ROOT

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOKS = sorted((ROOT / "eval").glob("*.ipynb"))
CELL_TIMEOUT_S = 300


def _execute(path, cwd):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()  # raises CellExecutionError, with the failing cell, on any error
    return notebook


def _outputs_text(notebook) -> str:
    return "\n".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                     for out in cell.get("outputs", []))


@pytest.fixture
def notebook_env(monkeypatch, tiny_model):
    for name, value in {"CONTRADICT_NB_MODEL": tiny_model, "CONTRADICT_NB_MODEL_B": tiny_model,
                        "CONTRADICT_NB_SAMPLE": "30", "CONTRADICT_NB_THREADS": "1", "OMP_NUM_THREADS": "1",
                        "TOKENIZERS_PARALLELISM": "false"}.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_the_three_notebooks_exist():
    assert {p.name for p in NOTEBOOKS} >= {"quality_report.ipynb", "romanian_walkthrough.ipynb",
                                           "compare_models.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_headless(path, notebook_env, tmp_path):
    notebook = _execute(path, tmp_path)
    assert all(cell.get("execution_count") for cell in notebook.cells if cell.cell_type == "code")


def test_data_sections_are_skipped_without_labelled_data(notebook_env, tmp_path):
    notebook_env.setenv("CONTRADICT_NB_DATA", str(tmp_path / "no-data"))
    text = _outputs_text(_execute(ROOT / "eval" / "quality_report.ipynb", tmp_path))
    assert "skipped xnli" in text and "no labelled data found" in text
