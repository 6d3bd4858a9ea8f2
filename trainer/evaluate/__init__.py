"""``bbj-coder train eval``: compile@k on held-out chat prompts and FIM exact match, edit
similarity and compile rate on held-out FIM samples, for GGUF files and HF directories."""

from trainer.evaluate.cli import add_eval_arguments, eval_command_from_args

__all__ = ["add_eval_arguments", "eval_command_from_args"]
