"""Which engine runs, and why; the embedding learning rate; the progress line."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

pytest.importorskip("torch", reason="the [train] extra is not installed")

from trainer.train import TrainError
from trainer.train import engine as engines

QWEN_LIKE = {
    "hidden_size": 256,
    "intermediate_size": 512,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


REALLY_INSTALLED = engines.installed


def installed_except(*missing: str):
    return lambda module: module not in missing and REALLY_INSTALLED(module)


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_auto_on_cpu_uses_4bit_when_bitsandbytes_is_there(no_gpu, monkeypatch) -> None:
    if not REALLY_INSTALLED("bitsandbytes"):
        pytest.skip("bitsandbytes is not installed")
    monkeypatch.setattr(engines, "installed", installed_except("unsloth"))
    chosen = engines.choose_engine("auto", "auto", QWEN_LIKE)
    assert (chosen.name, chosen.device, chosen.precision) == ("qlora", "cpu", "fp32")
    assert "bitsandbytes NF4 4-bit base on the CPU" in chosen.reason


def test_auto_falls_back_to_lora_without_bitsandbytes(no_gpu, monkeypatch) -> None:
    monkeypatch.setattr(engines, "installed", installed_except("unsloth", "bitsandbytes"))
    chosen = engines.choose_engine("auto", "auto", QWEN_LIKE)
    assert chosen.name == "lora" and "bitsandbytes is not installed" in chosen.reason


def test_auto_falls_back_to_lora_for_layers_too_narrow_for_4bit(no_gpu, monkeypatch) -> None:
    monkeypatch.setattr(engines, "installed", lambda module: module == "bitsandbytes")
    narrow = {**QWEN_LIKE, "hidden_size": 32, "intermediate_size": 64}
    chosen = engines.choose_engine("auto", "auto", narrow)
    assert chosen.name == "lora" and "too narrow" in chosen.reason


def test_unsloth_without_a_gpu_is_explained(no_gpu, monkeypatch) -> None:
    monkeypatch.setattr(engines, "installed", lambda module: True)
    assert "needs a CUDA GPU" in engines.choose_engine("auto", "auto", QWEN_LIKE).reason
    with pytest.raises(TrainError, match="needs a CUDA GPU"):
        engines.choose_engine("unsloth", "auto", QWEN_LIKE)


def test_forcing_unsloth_when_it_is_missing(no_gpu, monkeypatch) -> None:
    monkeypatch.setattr(engines, "installed", installed_except("unsloth"))
    with pytest.raises(TrainError, match="Unsloth is not installed"):
        engines.choose_engine("unsloth", "auto", QWEN_LIKE)


def test_half_precision_on_cpu_is_refused(no_gpu) -> None:
    with pytest.raises(TrainError, match="needs a GPU"):
        engines.choose_engine("lora", "bf16", QWEN_LIKE)


def test_unsloth_is_chosen_on_a_gpu() -> None:
    pytest.importorskip("unsloth", reason="Unsloth ([train-gpu]) is not installed")
    import torch

    if not torch.cuda.is_available():
        pytest.skip("Unsloth needs a CUDA GPU")
    assert engines.choose_engine("auto", "auto", QWEN_LIKE).name == "unsloth"


def test_embeddings_get_their_own_learning_rate() -> None:
    import torch

    from trainer.train.stage import parameter_groups

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed_tokens = torch.nn.Embedding(4, 2)
            self.q_proj = torch.nn.Linear(2, 2)
            self.lm_head = torch.nn.Linear(2, 4)
            self.frozen = torch.nn.Linear(2, 2)
            self.frozen.requires_grad_(False)

    groups = parameter_groups(Tiny(), SimpleNamespace(weight_decay=0.1), 1e-5)
    assert len(groups) == 2
    assert len(groups[0]["params"]) == 2 and "lr" not in groups[0]  # q_proj weight and bias
    assert groups[1]["lr"] == 1e-5 and len(groups[1]["params"]) == 3


def test_the_progress_line_shows_step_losses_speed_and_eta() -> None:
    from trainer.train.progress import ProgressLine

    stream = io.StringIO()
    line = ProgressLine("sft", stream=stream)
    state = SimpleNamespace(global_step=0, max_steps=100)
    line.on_train_begin(None, state, None)
    line.on_log(None, state, None, logs={"num_tokens": 0})
    state.global_step = 10
    line.on_log(None, state, None, logs={"loss": 1.5, "num_tokens": 5000})
    line.on_log(None, state, None, logs={"eval_loss": 1.25})
    text = line.line(state)
    assert text.startswith("[sft] step 10/100 | loss 1.5000 | eval 1.2500 | ")
    assert "tok/s" in text and "ETA" in text
    assert stream.getvalue().count("\n") == 2  # not a terminal: one line per log event


QWEN_05B = {
    "hidden_size": 896,
    "intermediate_size": 4864,
    "num_hidden_layers": 24,
    "num_attention_heads": 14,
    "num_key_value_heads": 2,
    "vocab_size": 151936,
    "tie_word_embeddings": True,
}
QWEN_15B = {
    **QWEN_05B,
    "hidden_size": 1536,
    "intermediate_size": 8960,
    "num_hidden_layers": 28,
    "num_attention_heads": 12,
}


def test_parameter_counts_match_the_published_sizes() -> None:
    assert 0.48e9 < engines.parameter_count(QWEN_05B) < 0.51e9  # Qwen2.5-Coder-0.5B: 494M
    assert 1.5e9 < engines.parameter_count(QWEN_15B) < 1.6e9  # Qwen2.5-Coder-1.5B: 1.54B


def test_auto_refuses_a_big_model_on_the_cpu_and_says_why(no_gpu, monkeypatch) -> None:
    import torch

    def old_driver() -> None:
        raise RuntimeError("The NVIDIA driver on your system is too old (found version 11040).")

    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.cuda, "init", old_driver)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with pytest.raises(TrainError) as caught:
        engines.choose_engine("auto", "auto", QWEN_15B)
    message = str(caught.value)
    assert "No usable CUDA device" in message and "driver on your system is too old" in message
    assert "1.5B-parameter model on the CPU" in message and "--engine" in message
    assert engines.choose_engine("auto", "auto", QWEN_05B).device == "cpu"
    monkeypatch.setattr(engines, "installed", installed_except("unsloth", "bitsandbytes"))
    forced = engines.choose_engine("lora", "auto", QWEN_15B)
    assert (forced.name, forced.device) == ("lora", "cpu")


def test_a_cpu_only_torch_is_named(no_gpu, monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.version, "cuda", None)
    assert "CPU-only build" in engines.why_no_cuda()


def test_defaults_keep_unsloths_fast_lora_on() -> None:
    from trainer.train.config import TrainConfig

    assert TrainConfig().lora_dropout == 0.0
