"""Noise schedules and scheduler steps against closed forms (numpy only)."""

import math

import numpy as np
import pytest
from training.rebeca.schedule import Schedule, make_betas


def test_linear_closed_form():
    s = Schedule("linear", 6000, 1e-4, 0.02)
    assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    k = 1234
    assert s.betas[k] == pytest.approx(1e-4 + k * (0.02 - 1e-4) / 5999, rel=1e-12)
    assert s.alphas_cumprod[10] == pytest.approx(np.prod(1 - s.betas[:11]), rel=1e-12)
    assert s.alphas_cumprod[-1] < 1e-20  # 6000 steps: pure noise


def test_cosine_closed_form():
    T = 1000
    s = Schedule("cosine", T)
    f = lambda t: math.cos((t / T + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    for t in (0, 10, 500, 900):
        # alphas_cumprod[t] = f(t + 1) / f(0) (before the 0.999 cap bites)
        assert s.alphas_cumprod[t] == pytest.approx(f(t + 1) / f(0), rel=1e-9)
    assert s.betas.max() <= 0.999 and s.betas[-1] == pytest.approx(0.999)


def test_unknown_schedule():
    with pytest.raises(ValueError):
        make_betas("quadratic", 10)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_ddpm_step_matches_ho_et_al(kind):
    s = Schedule(kind, 1000)
    rng = np.random.RandomState(0)
    x, eps, z = rng.randn(3, 8)
    for t in (999, 500, 1):
        beta, acp = s.betas[t], s.alphas_cumprod[t]
        mean = (x - beta / math.sqrt(1 - acp) * eps) / math.sqrt(1 - beta)  # Ho et al. eq. 11
        var = (1 - s.alphas_cumprod[t - 1]) / (1 - acp) * beta  # beta tilde
        assert np.allclose(s.ddpm_step(x, eps, t, noise=z), mean + math.sqrt(var) * z, atol=1e-10)
    # t = 0: the posterior mean is x0 itself, no noise
    x0 = (x - math.sqrt(1 - s.alphas_cumprod[0]) * eps) / math.sqrt(s.alphas_cumprod[0])
    assert np.allclose(s.ddpm_step(x, eps, 0), x0)


def test_ddim_with_true_noise_is_exact():
    s = Schedule("linear", 1000)
    rng = np.random.RandomState(1)
    x0, eps = rng.randn(2, 8)
    for t, prev in ((999, 899), (400, 300), (100, 0), (50, -50)):
        xt = s.add_noise(x0, eps, t)
        a_prev = s.alphas_cumprod[prev] if prev >= 0 else 1.0
        want = math.sqrt(a_prev) * x0 + math.sqrt(1 - a_prev) * eps
        assert np.allclose(s.ddim_step(xt, eps, t, prev, eta=0.0), want, atol=1e-9)


def test_ddim_eta_one_matches_ddpm_variance():
    s = Schedule("linear", 1000)
    rng = np.random.RandomState(2)
    x, eps, z = rng.randn(3, 8)
    t = 600
    a = s.ddim_step(x, eps, t, t - 1, eta=1.0, noise=z) - s.ddim_step(x, eps, t, t - 1, eta=1.0, noise=0 * z)
    b = s.ddpm_step(x, eps, t, noise=z) - s.ddpm_step(x, eps, t, noise=0 * z)
    assert np.allclose(a, b)


def test_ddim_timesteps_leading():
    s = Schedule("linear", 1000)
    assert s.ddim_timesteps(10) == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    assert s.ddim_prev(900, 10) == 800
    assert Schedule("linear", 100, 1e-3, 0.2).ddim_timesteps(3) == [66, 33, 0]
