"""Model / training presets. See training/README.md for the reasoning behind each value."""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Optional


@dataclass
class Preset:
    name: str
    # prior architecture
    d_model: int
    layers: int
    heads: int
    feed_forward: int
    user_tokens: int
    image_tokens: int = 1
    dropout: float = 0.1
    # schedule
    schedule: str = "linear"
    timesteps: int = 6000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    # training
    condition_dropout: float = 0.1
    rows_per_user: int = 80
    batch_size: int = 64
    lr: float = 1e-4
    weight_decay: float = 1e-5
    plateau_patience: int = 5
    plateau_factor: float = 0.5
    early_stop_patience: int = 20
    # relative improvement of the validation loss that resets early stopping (0: any improvement, as
    # the reference); the best checkpoint is kept on any improvement either way
    early_stop_min_delta: float = 0.0
    max_epochs: int = 1000
    val_repeats: int = 4  # each validation row is scored with this many fixed (t, noise) draws
    guidance_scale: float = 10.0
    # preprocessing
    min_likes: int = 100
    validation_per_user: int = 10
    test_per_user: int = 10
    split_seed: int = 42
    # verifier
    verifier_dim: int = 80
    verifier_lr: float = 1e-2
    verifier_max_epochs: int = 3000
    verifier_patience: int = 30
    verifier_weight_decay: float = 0.0

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


PRESETS: Dict[str, Preset] = {
    # Faithful to the reference code: 68,641,792 parameters for 94 users and D = 1024.
    "paper": Preset(
        name="paper", d_model=1024, layers=8, heads=16, feed_forward=2048, user_tokens=4,
        schedule="linear", timesteps=6000, beta_start=1e-4, beta_end=0.02,
        min_likes=100, validation_per_user=10, test_per_user=10, verifier_dim=80,
        guidance_scale=10.0,
    ),
    # Trains to early stopping on the demo world on 2 CPU cores in a few minutes.
    # 1000 linear steps (Ho et al.'s schedule): alphas_cumprod[T-1] = 4e-5, i.e. pure noise at T,
    # and 6x fewer ancestral steps than the paper's 6000 at serving time.
    "small": Preset(
        name="small", d_model=128, layers=4, heads=4, feed_forward=256, user_tokens=2,
        schedule="linear", timesteps=1000, beta_start=1e-4, beta_end=0.02,
        rows_per_user=80, batch_size=64, lr=3e-4, max_epochs=400, early_stop_min_delta=1e-3,
        min_likes=20, validation_per_user=5, test_per_user=5, verifier_dim=16,
        guidance_scale=5.0,
    ),
    # Tests and the committed fixture: trains in seconds. 100 linear steps with the betas scaled by
    # 1000/T (Nichol & Dhariwal) so that x_T is still (almost) pure noise: acp[T-1] = 4.5e-5.
    "tiny": Preset(
        name="tiny", d_model=32, layers=2, heads=2, feed_forward=64, user_tokens=2,
        schedule="linear", timesteps=100, beta_start=1e-3, beta_end=0.2,
        rows_per_user=32, batch_size=64, lr=1e-3, max_epochs=30, early_stop_patience=10,
        plateau_patience=3,
        min_likes=5, validation_per_user=2, test_per_user=2, verifier_dim=4,
        verifier_max_epochs=1500, guidance_scale=3.0,
    ),
}


def get_preset(name: str, **overrides: Optional[Any]) -> Preset:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    p = copy.deepcopy(PRESETS[name])
    for k, v in overrides.items():
        if v is None:
            continue
        if not hasattr(p, k):
            raise ValueError(f"unknown preset field {k!r}")
        setattr(p, k, v)
    return p
