"""bbj-coder daemon: config, backends, scheduler, HTTP API, compiler check, model store."""

__version__ = "0.1.0"
