"""The HTTP server: the app and its routes, the runtime every request sees, model loading, hot
reload, security and metrics."""
