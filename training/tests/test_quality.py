"""The quality measures against independent computations and the fixed case shared with TypeScript."""

import json
import os

import numpy as np
import pytest
from conftest import ROOT, requires_torch


def test_permutation_test_matches_the_shared_case():
    from training.rebeca.quality import permutation_test

    case = json.load(open(os.path.join(ROOT, "tests", "fixtures", "permutation-case.json")))
    scores = np.array(case["scores"]).T  # quality's layout: [users, samples]
    owner = np.array(case["owner"])
    r = permutation_test(scores, owner, 5000, np.random.RandomState(1))
    assert r["statistic"] == pytest.approx(case["statistic"], abs=1e-12)
    assert r["ownVsOthersGap"] == pytest.approx(case["ownVsOthersGap"], abs=1e-12)
    # the null's mean: each user's mean score over all samples, averaged (closed form)
    assert abs(r["permutationMean"] - case["nullMean"]) < 0.01
    assert r["z"] > 3 and r["pValue"] < 0.002
    flat = permutation_test(np.tile(np.arange(3)[:, None] / 10, (1, 9)), owner, 200, np.random.RandomState(2))
    assert flat["z"] is None and flat["pValue"] == 1.0


def test_frechet_distance_closed_form():
    from training.rebeca.quality import frechet_distance

    rng = np.random.RandomState(0)
    x = rng.randn(20000, 3)
    # N(0, I) against N(mu, 4 I): ||mu||^2 + tr(I + 4I - 2 * 2I) = ||mu||^2 + 3
    y = rng.randn(20000, 3) * 2 + np.array([1.0, 2.0, 0.0])
    assert frechet_distance(x, y) == pytest.approx(5.0 + 3.0, rel=0.03)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)


def test_data_range_and_checks():
    from training.rebeca.quality import data_range, in_range

    emb = np.array([[1.0, 2.0], [2.0, 1.0], [1.5, 1.5]])
    mean, std = emb.mean(0), emb.std(0)
    r = data_range(emb, mean, std)
    assert r["normMin"] == pytest.approx(np.sqrt(4.5)) and r["normMax"] == pytest.approx(np.sqrt(5))
    ok = in_range(np.array([[1.2, 1.8], [np.nan, 1.0], [30.0, 30.0], [2.1, 1.4]]), r, mean, std)
    assert ok.tolist() == [True, False, False, False]


def test_blend_never_trades_a_catalog_item_for_a_weaker_generated_one():
    from training.rebeca.quality import blend_top

    catalog = np.array([0.99, 0.97, 0.95, 0.93, 0.9])
    picked = blend_top(catalog, np.array([0.999, 0.98, 0.2]), 5, 0.4, margin=1.0)
    assert picked == [("generated", 0), ("catalog", 0), ("generated", 1), ("catalog", 1), ("catalog", 2)]
    assert all(s == "catalog" for s, _ in blend_top(catalog, np.array([0.92]), 5, 0.4, margin=1.0))
    assert all(s == "catalog" for s, _ in blend_top(catalog, np.array([0.9999]), 5, 0.0, margin=1.0))


@requires_torch
def test_clamp_keeps_samples_in_the_range_and_guidance_raises_the_verifier(trained):
    import torch
    from training.rebeca.export import load_artifact
    from training.rebeca.quality import verifier_matrix
    from training.rebeca.sampling import sample, verifier_guidance

    path, _, _ = trained
    m, model, sched, vp = load_artifact(path)
    mean, std = np.array(m["standardization"]["mean"]), np.array(m["standardization"]["std"])
    lo, hi = np.array(m["dataRange"]["lower"]), np.array(m["dataRange"]["upper"])
    rows = [0] * 32
    vrow = m["verifier"]["users"].index(m["users"][0])

    def draw(**kw):
        return sample(
            model,
            sched,
            rows,
            [1] * 32,
            guidance_scale=20.0,
            method="ddim",
            num_inference_steps=20,
            generator=torch.Generator().manual_seed(0),
            prediction_type="sample",
            **kw,
        ).numpy()

    clamped = draw(clip=(lo, hi))
    assert (clamped >= lo - 1e-5).all() and (clamped <= hi + 1e-5).all()
    plain = draw(clip=(lo, hi), mean=mean, std=std)
    guided = draw(clip=(lo, hi), mean=mean, std=std, verifier=verifier_guidance(vp, [vrow] * 32, mean, std, 0.5))
    assert verifier_matrix(vp, [vrow], guided).mean() > verifier_matrix(vp, [vrow], plain).mean() + 0.05


def test_select_diverse_prefers_the_best_under_the_floor():
    from training.rebeca.sampling import select_diverse

    # rows 0 and 1 point the same way; row 2 elsewhere; row 3 is best but not eligible
    z = np.array([[1, 0], [0.99, 0.1], [0, 1], [1, 1]], dtype=float)
    scores = np.array([0.8, 0.7, 0.5, 0.9])
    eligible = np.array([True, True, True, False])
    assert select_diverse(scores, z, 2, 0.9, eligible) == [0, 2]
    assert select_diverse(scores, z, 2, 1.0, eligible) == [0, 1]
