"""`contradict serve`: a local web page and JSON API with the model loaded once.

Needs the `serve` extra (FastAPI, uvicorn, python-multipart).  Nothing in the library imports this
package; `contradict.cli.serve` registers the sub-command without importing the server itself.
"""
