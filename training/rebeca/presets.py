"""Model / training presets. See training/README.md for the reasoning behind each value."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, replace
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
    # image tokens the embedding is split across; 0 = ceil(D / d_model), so that no layer between the
    # model and the embedding has a rank below D (a Linear(d_model < D, D) output cannot predict all of it)
    image_tokens: int = 0
    dropout: float = 0.1
    # schedule
    schedule: str = "linear"
    timesteps: int = 6000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    # what the prior predicts: epsilon (the paper), sample (x0, the authors' later code) or v_prediction
    prediction_type: str = "epsilon"
    # how the prior knows the user: `table` (the paper: a learned row per training user) or `taste` (the
    # verifier's vector of the user, so any user with a vector can be conditioned on)
    condition: str = "table"
    # taste conditioning: Gaussian noise added to the (standardised) taste vectors during training, so that
    # the prior also reads vectors fitted at request time, which sit near the training users' but not on them
    taste_noise: float = 0.1
    # training
    # classifier-free guidance dropout: user AND rating together (the paper) ...
    condition_dropout: float = 0.1
    # ... and each on its own (the authors' later code: 0.15 each)
    user_dropout: float = 0.0
    rating_dropout: float = 0.0
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
    # measured sampling defaults written to the manifest (the gateway's generate uses them)
    verifier_scale: float = 0.0
    candidates: int = 1
    max_cosine: float = 0.9
    # the health gate's least permutation z (by the verifier) of the prior alone; 0: not required
    health_min_z: float = 2.0
    # widen the transformer for wide embeddings: d_model at least D / 4 (feed-forward twice d_model). At
    # D = 1024 the small preset at d_model 128 left 45% of its samples outside the catalog's range; at 256,
    # 1-2% (BENCHMARKS.md, "Generation quality")
    scale_with_dim: bool = False

    def for_dim(self, embedding_dim: int) -> Preset:
        """This preset for embeddings of width D (a copy; unchanged unless scale_with_dim)."""
        if not self.scale_with_dim:
            return self
        step = self.heads * 8
        width = max(self.d_model, -(-(embedding_dim // 4) // step) * step)
        if width == self.d_model:
            return self
        return replace(self, d_model=width, feed_forward=max(self.feed_forward, 2 * width))

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


# What the generation-quality measurements chose (BENCHMARKS.md, "Generation quality"): the prior predicts
# the clean sample on a cosine schedule of 1000 steps, conditions on the user's taste vector and drops user
# and rating independently (the authors' later code); every embedding width gets full-rank image tokens.
_MEASURED: Dict[str, Any] = dict(
    prediction_type="sample",
    schedule="cosine",
    timesteps=1000,
    condition="taste",
    condition_dropout=0.0,
    user_dropout=0.15,
    rating_dropout=0.15,
)

PRESETS: Dict[str, Preset] = {
    # Faithful to the reference code (68,641,792 parameters for 94 users and D = 1024): table-conditioned,
    # epsilon on 6000 linear steps, joint dropout. Kept for comparison; the health gate refuses it on the
    # taste worlds (see BENCHMARKS.md).
    "paper": Preset(
        name="paper",
        d_model=1024,
        layers=8,
        heads=16,
        feed_forward=2048,
        user_tokens=4,
        schedule="linear",
        timesteps=6000,
        beta_start=1e-4,
        beta_end=0.02,
        min_likes=100,
        validation_per_user=10,
        test_per_user=10,
        verifier_dim=80,
        guidance_scale=10.0,
    ),
    # The default: trains on 2 CPU cores in minutes (D = 64) to an hour (D = 1024).
    "small": Preset(
        name="small",
        d_model=128,
        layers=4,
        heads=4,
        feed_forward=256,
        user_tokens=2,
        **_MEASURED,
        rows_per_user=80,
        batch_size=64,
        lr=3e-4,
        max_epochs=400,
        early_stop_min_delta=1e-3,
        min_likes=20,
        validation_per_user=5,
        test_per_user=5,
        verifier_dim=16,
        guidance_scale=3.0,
        verifier_scale=0.2,
        candidates=4,
        scale_with_dim=True,
    ),
    # Tests and the committed fixture: trains in seconds. 100 cosine steps.
    "tiny": Preset(
        name="tiny",
        d_model=32,
        layers=2,
        heads=2,
        feed_forward=64,
        user_tokens=2,
        **dict(_MEASURED, timesteps=100),
        rows_per_user=32,
        batch_size=64,
        lr=1e-3,
        max_epochs=30,
        early_stop_patience=10,
        plateau_patience=3,
        min_likes=5,
        validation_per_user=2,
        test_per_user=2,
        verifier_dim=4,
        verifier_max_epochs=1500,
        guidance_scale=3.0,
        candidates=2,
        health_min_z=0.0,
    ),
}

# The paper's transformer size with the measured choices: for a GPU.
PRESETS["large"] = replace(
    PRESETS["small"], name="large", d_model=512, layers=8, heads=8, feed_forward=2048, user_tokens=4, verifier_dim=32
)
# The paper's table-conditioned prior at the tiny size: tests of the table path (user rows).
PRESETS["tiny-table"] = replace(PRESETS["tiny"], name="tiny-table", condition="table")


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
