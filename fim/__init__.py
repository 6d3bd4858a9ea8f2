"""Pure FIM logic shared by the daemon and the trainer: formats, context assembly, post-processing.

Nothing in this package does I/O or imports any other bbj-coder package.
"""

from fim.formats import (
    CODELLAMA,
    DEEPSEEK_CODER,
    FORMATS,
    QWEN25_CODER,
    STARCODER2,
    ContextFile,
    FimFormat,
    UnknownFimFormatError,
    detect_format,
    format_by_name,
)

__all__ = [
    "CODELLAMA",
    "DEEPSEEK_CODER",
    "FORMATS",
    "QWEN25_CODER",
    "STARCODER2",
    "ContextFile",
    "FimFormat",
    "UnknownFimFormatError",
    "detect_format",
    "format_by_name",
]
