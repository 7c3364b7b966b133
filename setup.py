"""Build hook: the embedded model's weights live in models/ in git and travel inside the wheel."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

WEIGHTS = Path(__file__).resolve().parent / "models" / "e5-small-nli"
SHIPPED = ("model.safetensors", "calibration.json", "ranker.json", "training.json", "metrics.json", "README.md")


class BuildWithWeights(build_py):
    """Copies models/e5-small-nli into contradict/nli/weights/ of the build, so one copy stays in git."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads models/ of the checkout
            return
        target = Path(self.build_lib) / "contradict" / "nli" / "weights" / WEIGHTS.name
        target.mkdir(parents=True, exist_ok=True)
        for name in SHIPPED:
            if (WEIGHTS / name).is_file():
                shutil.copy2(WEIGHTS / name, target / name)


setup(cmdclass={"build_py": BuildWithWeights})
