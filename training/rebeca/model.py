"""The REBECA diffusion prior: a pre-LayerNorm transformer encoder over the tokens
``[user x U, rating, time, image x I]`` predicting the noise added to the (standardised) image embedding.

Attention is written out with plain Linear layers (same parameters as nn.MultiheadAttention: a packed
in-projection [3d, d] + bias and an out-projection) so that ONNX export never meets a fused
"fast path" kernel, on torch 1.13 and 2.x alike.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

RATING_DISLIKE, RATING_LIKE, RATING_NULL = 0, 1, 2


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """[B] integer timesteps -> [B, dim] (sin half, cos half; 10000^(-k/half) frequencies)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.to(torch.float32)[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        if d_model % heads:
            raise ValueError("d_model must be divisible by heads")
        self.heads = heads
        self.head_dim = d_model // heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.in_proj = nn.Linear(d_model, 3 * d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n = x.shape[0], x.shape[1]
        h, hd = self.heads, self.head_dim
        q, k, v = self.in_proj(x).chunk(3, dim=-1)
        q = q.reshape(b, n, h, hd).transpose(1, 2)
        k = k.reshape(b, n, h, hd).transpose(1, 2)
        v = v.reshape(b, n, h, hd).transpose(1, 2)
        att = torch.matmul(q, k.transpose(-2, -1)) * self.scale
        att = self.dropout(torch.softmax(att, dim=-1))
        y = torch.matmul(att, v).transpose(1, 2).reshape(b, n, h * hd)
        return self.out_proj(y)


class EncoderLayer(nn.Module):
    """Same computation as nn.TransformerEncoderLayer(norm_first=True, activation='gelu')."""

    def __init__(self, d_model: int, heads: int, ff: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = SelfAttention(d_model, heads, dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(d_model)
        self.linear1 = nn.Linear(d_model, ff)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ff, d_model)
        self.dropout2 = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dropout1(self.attn(self.norm1(x)))
        x = x + self.dropout2(self.linear2(self.dropout(F.gelu(self.linear1(self.norm2(x))))))
        return x


class RebecaPrior(nn.Module):
    # buffers of a taste-conditioned prior (registered in __init__)
    user_vectors: torch.Tensor
    taste_mean: torch.Tensor
    taste_std: torch.Tensor

    def __init__(
        self,
        embedding_dim: int,
        num_users: int,
        d_model: int,
        layers: int,
        heads: int,
        feed_forward: int,
        user_tokens: int,
        image_tokens: int = 1,
        dropout: float = 0.1,
        condition: str = "table",
        taste_dim: int = 0,
    ):
        super().__init__()
        if condition not in ("table", "taste"):
            raise ValueError(f"unknown user condition {condition!r} (table | taste)")
        self.condition = condition
        self.taste_dim = taste_dim
        self.embedding_dim = embedding_dim
        self.num_users = num_users
        self.null_user_row = num_users
        self.d_model = d_model
        self.user_tokens = user_tokens
        self.image_tokens = image_tokens
        if condition == "table":
            # the paper: a learned row per user, the extra row is the null user
            self.user_embedding = nn.Embedding(num_users + 1, d_model * user_tokens)
        else:
            # the user's taste vector (the verifier's [theta_u, b_u]), standardised over the training users,
            # projected into the user tokens; a learned null token set stands for "no user"
            self.taste_projection = nn.Linear(taste_dim, d_model * user_tokens)
            self.null_user_tokens = nn.Parameter(torch.zeros(d_model * user_tokens))
            nn.init.normal_(self.null_user_tokens, std=0.02)
            # the conditions of the training users by row (row num_users: unused, the null user)
            self.register_buffer("user_vectors", torch.zeros(num_users + 1, taste_dim))
            self.register_buffer("taste_mean", torch.zeros(taste_dim))
            self.register_buffer("taste_std", torch.ones(taste_dim))
        self.rating_embedding = nn.Embedding(3, d_model)
        width = d_model * image_tokens
        self.input_projection = nn.Linear(embedding_dim, width) if embedding_dim != width else nn.Identity()
        self.image_position = nn.Parameter(torch.zeros(1, image_tokens, d_model))
        nn.init.normal_(self.image_position, std=0.02)
        self.layers = nn.ModuleList(EncoderLayer(d_model, heads, feed_forward, dropout) for _ in range(layers))
        self.output = nn.Linear(width, embedding_dim)

    def forward(
        self, noisy_embedding: torch.Tensor, timestep: torch.Tensor, user_row: torch.Tensor, rating: torch.Tensor
    ) -> torch.Tensor:
        if self.condition == "table":
            users = self.user_embedding(user_row)
        else:
            present = (user_row != self.null_user_row).to(noisy_embedding.dtype)
            users = self.taste_tokens(self.user_vectors[user_row], present)
        return self.forward_tokens(noisy_embedding, timestep, users, rating)

    def taste_tokens(self, user_vector: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """[B, taste_dim] raw taste vectors and [B] presence (1 user, 0 null) -> [B, d_model * user_tokens]."""
        z = (user_vector - self.taste_mean) / self.taste_std
        p = present[:, None]
        return p * self.taste_projection(z) + (1 - p) * self.null_user_tokens[None, :]

    def forward_tokens(
        self, noisy_embedding: torch.Tensor, timestep: torch.Tensor, users: torch.Tensor, rating: torch.Tensor
    ) -> torch.Tensor:
        b = noisy_embedding.shape[0]
        d = self.d_model
        users = users.reshape(b, self.user_tokens, d)
        rating_tok = self.rating_embedding(rating).reshape(b, 1, d)
        time_tok = sinusoidal_embedding(timestep, d).reshape(b, 1, d)
        image = self.input_projection(noisy_embedding).reshape(b, self.image_tokens, d) + self.image_position
        x = torch.cat([users, rating_tok, time_tok, image], dim=1)
        for layer in self.layers:
            x = layer(x)
        out = x[:, -self.image_tokens :, :].reshape(b, self.image_tokens * d)
        return self.output(out)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def image_tokens_for(preset, embedding_dim: int) -> int:
    """The preset's image tokens, or (0 = auto) as many as make d_model * tokens >= D: full rank."""
    if preset.image_tokens > 0:
        return preset.image_tokens
    return max(1, -(-embedding_dim // preset.d_model))


def build_prior(preset, embedding_dim: int, num_users: int, taste_dim: int = 0) -> RebecaPrior:
    return RebecaPrior(
        embedding_dim=embedding_dim,
        num_users=num_users,
        d_model=preset.d_model,
        layers=preset.layers,
        heads=preset.heads,
        feed_forward=preset.feed_forward,
        user_tokens=preset.user_tokens,
        image_tokens=image_tokens_for(preset, embedding_dim),
        dropout=preset.dropout,
        condition=preset.condition,
        taste_dim=taste_dim,
    )
