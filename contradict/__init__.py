"""contradict: find contradictions inside a text or between texts (multilingual, Romanian first).

    import contradict
    det = contradict.Detector()            # embedded offline model
    for c in det.find(text):
        print(c.score, c.a.text, "<->", c.b.text, c.kinds)
"""
from .errors import ContradictError, InputError, ModelLoadError
from .labels import LABELS
from .nli.hf import set_threads
from .nli.presets import PRESETS
from .nli.scorer import NLIScorer
from .pipeline.detector import Detector, Findings, ScanStats, find
from .pipeline.ranking import Contradiction
from .pipeline.statements import Document, Statement, segment

__version__ = "0.2.0"
__all__ = ["Detector", "find", "segment", "Statement", "Document", "Contradiction", "Findings", "ScanStats",
           "NLIScorer", "LABELS", "PRESETS", "set_threads", "ContradictError", "InputError", "ModelLoadError",
           "__version__"]
