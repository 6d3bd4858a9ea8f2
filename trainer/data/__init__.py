"""``bbj-coder train data``: examples, ChatML and source trees in; clean, split chat, FIM and
pretraining data out, in a versioned directory with a report and a manifest.

See ``trainer/data/README.md``. Heavy libraries (tokenizers, matplotlib, jsonschema, yaml,
tqdm) are imported only when a build runs.
"""

from trainer.data.cli import add_data_arguments, data_command_from_args, run_data_command
from trainer.data.config import DataConfig, load_data_config
from trainer.data.records import DataError

__all__ = [
    "DataConfig",
    "DataError",
    "add_data_arguments",
    "data_command_from_args",
    "load_data_config",
    "run_data_command",
]
