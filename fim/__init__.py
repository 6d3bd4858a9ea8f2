"""Pure FIM logic shared by the daemon and the trainer: formats, context assembly, post-processing.

Nothing in this package does I/O or imports any other bbj-coder package.
"""

from fim.context import AssembledPrompt, assemble_prompt
from fim.errors import BbjCoderError
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
from fim.generation import GenerationReport, describe_generation, detect_generation
from fim.postprocess import DEFAULT_CHAIN, FimContext, apply_chain, early_stop_index
from fim.ring import ContextRing
from fim.templated import TemplatedPrompt, extract_snippet_context, parse_templated_prompt

__all__ = [
    "CODELLAMA",
    "DEEPSEEK_CODER",
    "DEFAULT_CHAIN",
    "FORMATS",
    "QWEN25_CODER",
    "STARCODER2",
    "AssembledPrompt",
    "BbjCoderError",
    "ContextFile",
    "ContextRing",
    "FimContext",
    "FimFormat",
    "GenerationReport",
    "TemplatedPrompt",
    "UnknownFimFormatError",
    "apply_chain",
    "assemble_prompt",
    "describe_generation",
    "detect_format",
    "detect_generation",
    "early_stop_index",
    "extract_snippet_context",
    "format_by_name",
    "parse_templated_prompt",
]
