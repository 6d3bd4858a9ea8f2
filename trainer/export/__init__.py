"""``bbj-coder train export``: merge the adapter, write GGUF (own converter), quantise, and
describe the result (Modelfile, model card, catalogue). Works offline."""

from trainer.export.cli import add_export_arguments, export_command_from_args

__all__ = ["add_export_arguments", "export_command_from_args"]
