"""An Ollama Modelfile: the GGUF, ChatML for chat, Qwen2.5-Coder FIM when a suffix is sent.

``ollama create NAME -f Modelfile`` in the export folder registers it. The template renders
FIM exactly as ``fim.QWEN25_CODER`` does and chat exactly as the daemon's ChatML.
"""

from __future__ import annotations

from fim.formats import QWEN25_CODER

TEMPLATE = (
    "{{- if .Suffix }}"
    f"{QWEN25_CODER.prefix_token}{{{{ .Prompt }}}}"
    f"{QWEN25_CODER.suffix_token}{{{{ .Suffix }}}}{QWEN25_CODER.middle_token}"
    "{{- else }}"
    "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    '{{- range .Messages }}{{- if ne .Role "system" }}'
    "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}{{- end }}"
    "<|im_start|>assistant\n"
    "{{ end }}"
)


def modelfile(gguf_name: str, system_prompt: str, context_length: int) -> str:
    stops = dict.fromkeys(("<|im_end|>", "<|im_start|>", *QWEN25_CODER.stop_tokens))
    lines = [
        f"FROM ./{gguf_name}",
        f'TEMPLATE """{TEMPLATE}"""',
        f'SYSTEM """{system_prompt}"""',
        *(f'PARAMETER stop "{stop}"' for stop in stops),
        f"PARAMETER num_ctx {min(context_length, 8192)}",
        "PARAMETER temperature 0.2",
    ]
    return "\n".join(lines) + "\n"
