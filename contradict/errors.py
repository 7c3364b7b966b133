"""Errors the CLI turns into one-line messages and a non-zero exit."""


class ContradictError(Exception):
    """Bad input or configuration, explained in one line."""


class ModelLoadError(ContradictError):
    """A model could not be loaded (missing files, offline hub, refused remote code)."""


class InputError(ContradictError):
    """Unreadable input: binary, undecodable, too large."""
