"""Models on disk: the store and its manifest, GGUF reading and writing, the catalogue,
downloads, and the tiny demo/test model."""
