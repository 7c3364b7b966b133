"""The self-contained HTML report."""
from .html import render_html, script_hash, write_html

__all__ = ["render_html", "script_hash", "write_html"]
