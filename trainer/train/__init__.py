"""``bbj-coder train run``: two-stage (continued pretraining, then chat + FIM) LoRA/QLoRA.

See ``trainer/README-train.md``. torch, transformers, TRL, PEFT and Unsloth are imported only
when a run starts.
"""

from trainer.train.cli import add_run_arguments, run_command, run_command_from_args
from trainer.train.config import StageConfig, TrainConfig, load_train_config
from trainer.train.errors import TrainError

__all__ = [
    "StageConfig",
    "TrainConfig",
    "TrainError",
    "add_run_arguments",
    "load_train_config",
    "run_command",
    "run_command_from_args",
]
