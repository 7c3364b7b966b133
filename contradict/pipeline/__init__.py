"""The detection pipeline: statements and their sources, candidate pairs, scoring both ways, ranking."""
