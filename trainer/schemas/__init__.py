"""JSON Schemas shipped with the trainer (package data, loaded with importlib.resources)."""
