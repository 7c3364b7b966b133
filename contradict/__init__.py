"""contradict: find contradictions inside a text or between texts (multilingual, Romanian first).

    import contradict
    det = contradict.Detector()            # embedded offline model
    for c in det.find(text):
        print(c.score, c.a.text, "<->", c.b.text, c.kinds)
"""
from .detector import Detector, ScanStats, find
from .errors import ContradictError, InputError, ModelLoadError
from .presets import PRESETS
from .ranking import Contradiction
from .scoring import LABELS, NLIScorer
from .statements import Document, Statement, segment

__version__ = "0.1.0"
__all__ = ["Detector", "find", "segment", "Statement", "Document", "Contradiction", "NLIScorer", "LABELS",
           "PRESETS", "ScanStats", "ContradictError", "InputError", "ModelLoadError", "__version__"]
