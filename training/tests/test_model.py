"""The prior's architecture and sampling."""

import functools

import numpy as np
import pytest
from conftest import requires_torch

pytestmark = requires_torch


def test_paper_parameter_count():
    import torch
    from training.rebeca.model import build_prior, count_parameters
    from training.rebeca.presets import get_preset

    with torch.no_grad():
        m = build_prior(get_preset("paper"), embedding_dim=1024, num_users=94)
    assert count_parameters(m) == 68_641_792
    assert m.user_embedding.weight.shape == (95, 4096) and m.rating_embedding.weight.shape == (3, 1024)
    assert not isinstance(m.input_projection, torch.nn.Linear)  # D == d_model: no projection
    del m


def test_forward_shapes_and_projection():
    import torch
    from training.rebeca.model import RebecaPrior, sinusoidal_embedding

    m = RebecaPrior(embedding_dim=10, num_users=3, d_model=16, layers=2, heads=2, feed_forward=32, user_tokens=2).eval()
    assert isinstance(m.input_projection, torch.nn.Linear)
    x = torch.randn(5, 10)
    out = m(x, torch.tensor([0, 1, 2, 50, 99]), torch.tensor([0, 1, 2, 3, 3]), torch.tensor([0, 1, 2, 1, 2]))
    assert out.shape == (5, 10)
    # rows are independent (batching does not change a row's output)
    one = m(x[3:4], torch.tensor([50]), torch.tensor([3]), torch.tensor([1]))
    assert torch.allclose(one, out[3:4], atol=1e-6)
    e = sinusoidal_embedding(torch.tensor([0, 7]), 16)
    assert torch.allclose(e[0], torch.cat([torch.zeros(8), torch.ones(8)]))
    assert e[1, 0].item() == pytest.approx(np.sin(7.0), abs=1e-6)


def test_guided_eps_combination():
    import torch
    from training.rebeca.model import RebecaPrior
    from training.rebeca.sampling import guided_eps

    m = RebecaPrior(8, 2, 8, 1, 2, 16, 1).eval()
    x = torch.randn(3, 8)
    u, r = torch.tensor([0, 1, 0]), torch.tensor([1, 1, 0])
    t = torch.full((3,), 5)
    cond = m(x, t, u, r)
    null = m(x, t, torch.full((3,), 2), torch.full((3,), 2))
    assert torch.allclose(guided_eps(m, x, 5, u, r, 4.0), null + 4.0 * (cond - null), atol=1e-5)
    assert torch.allclose(guided_eps(m, x, 5, u, r, 1.0), cond, atol=1e-6)


def test_sampling_runs_and_unstandardises():
    import torch
    from training.rebeca.model import RebecaPrior
    from training.rebeca.sampling import sample
    from training.rebeca.schedule import Schedule

    torch.manual_seed(0)
    m = RebecaPrior(4, 2, 8, 1, 2, 16, 1).eval()
    s = Schedule("linear", 20, 1e-3, 0.3)
    g = torch.Generator().manual_seed(0)
    a = sample(m, s, [0, 1], [1, 1], guidance_scale=3.0, method="ddpm", generator=g)
    ddim = functools.partial(
        sample, m, s, [0, 1], [1, 1], guidance_scale=3.0, method="ddim", num_inference_steps=5, eta=0.5
    )
    b = ddim(generator=torch.Generator().manual_seed(0), mean=np.full(4, 10.0), std=np.full(4, 2.0))
    c = ddim(generator=torch.Generator().manual_seed(0))
    assert a.shape == (2, 4) and b.shape == (2, 4) and torch.isfinite(a).all()
    assert torch.allclose(b, c * 2.0 + 10.0, atol=1e-5)  # un-standardised: x * std + mean
    with pytest.raises(ValueError):
        sample(m, s, [0], [1], method="euler")
