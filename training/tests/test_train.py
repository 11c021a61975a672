"""End to end on the synthetic snapshot: training, verifier, artifact + golden.json, CLI behaviour."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, requires_torch

pytestmark = requires_torch

# The verifier's held-out (test) AUC on the synthetic world must beat chance by this margin.
AUC_MARGIN = 0.15


def test_loss_falls(trained):
    path, _, _ = trained
    hist = json.load(open(os.path.join(path, "history.json")))
    assert len(hist) >= 5
    assert hist[-1]["trainLoss"] < 0.8 * hist[0]["trainLoss"]
    m = json.load(open(os.path.join(path, "manifest.json")))
    assert m["metrics"]["bestValidationLoss"] < 0.8 * hist[0]["valLoss"]


def test_progress_lines_and_artifact_line(trained):
    path, out_lines, err = trained
    assert out_lines[-1] == f"ARTIFACT {os.path.abspath(path)}"
    epoch_lines = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert len(epoch_lines) >= 5
    for key in ("train_loss", "val_loss", "lr", "elapsed", "eta"):
        assert key in epoch_lines[0]
    # nothing half-written left beside the artifact
    assert [n for n in os.listdir(os.path.dirname(path)) if n.startswith(".")] == []


def test_verifier_beats_chance(trained):
    path, _, _ = trained
    vm = json.load(open(os.path.join(path, "manifest.json")))["verifier"]["metrics"]
    print(f"verifier AUC: validation {vm['validationAuc']:.3f}, test {vm['testAuc']:.3f}")
    assert vm["validationAuc"] > 0.5 + AUC_MARGIN
    assert vm["testAuc"] > 0.5 + AUC_MARGIN


def test_manifest_and_files(trained):
    path, _, _ = trained
    m = json.load(open(os.path.join(path, "manifest.json")))
    for k in (
        "formatVersion",
        "kind",
        "createdAt",
        "preset",
        "embeddingDim",
        "datasetHash",
        "seed",
        "architecture",
        "schedule",
        "guidance",
        "users",
        "nullUserRow",
        "ratings",
        "standardization",
        "verifier",
        "preprocessing",
        "metrics",
    ):
        assert k in m, k
    assert m["kind"] == "rebeca-model" and m["formatVersion"] == 1 and m["preset"] == "tiny"
    D = m["embeddingDim"]
    assert D == 16 and m["nullUserRow"] == len(m["users"]) == 12
    assert m["ratings"] == {"dislike": 0, "like": 1, "null": 2}
    assert len(m["standardization"]["mean"]) == D and min(m["standardization"]["std"]) > 0
    # the measured choices: clean-sample prediction on a cosine schedule, a taste-conditioned prior
    assert m["schedule"]["kind"] == "cosine" and m["schedule"]["predictionType"] == "sample"
    assert m["conditioning"] == {"kind": "taste", "tasteDim": m["verifier"]["dim"] + 1}
    r = m["dataRange"]
    assert len(r["lower"]) == D and len(r["upper"]) == D and 0 < r["normMin"] <= r["normMean"] <= r["normMax"]
    assert all(lo < 0 < hi for lo, hi in zip(r["lower"], r["upper"]))
    assert m["health"]["passed"] is True and m["health"]["reasons"] == []
    for k in ("normRatio", "inRange", "frechet", "verifier", "nearestCatalogCosine"):
        assert k in m["health"], k
    assert m["guidance"]["candidates"] >= 1 and m["guidance"]["verifierScale"] >= 0
    for k in ("dModel", "layers", "heads", "feedForward", "userTokens", "dropout", "parameters"):
        assert k in m["architecture"]
    pp = m["preprocessing"]
    assert pp["keptUsers"] == 12 and pp["droppedRatings"] == 12 and pp["splitSeed"] == 42
    assert set(pp["droppedUsers"]) == {"u12", "u13"} and all(v < pp["minLikes"] for v in pp["droppedUsers"].values())
    v = m["verifier"]
    assert len(v["users"]) == 14  # verifier: all users, including the 2 the prior dropped
    U, d = len(v["users"]), v["dim"]
    shapes = {"itemProjection": (D, d), "itemBias": (D,), "userVectors": (U, d), "userBias": (U,)}
    for key, shape in shapes.items():
        a = np.load(os.path.join(path, v["files"][key]))
        assert a.dtype == np.dtype("<f4") and a.shape == shape
    assert os.path.getsize(os.path.join(path, "prior.onnx")) > 1000
    onnx = open(os.path.join(path, "prior.onnx"), "rb").read()
    for name in (b"noisy_embedding", b"timestep", b"user_vector", b"user_present", b"rating", b"predicted_noise"):
        assert name in onnx
    assert open(os.path.join(path, "loss.svg")).read().lstrip().startswith("<?xml")
    splits = json.load(open(os.path.join(path, "splits.json")))
    assert len(splits["test"]) == 12 * 2


def test_golden_is_consistent(trained):
    import torch
    from training.rebeca.export import load_artifact
    from training.rebeca.verifier import verifier_prob

    path, _, _ = trained
    g = json.load(open(os.path.join(path, "golden.json")))
    m, model, sched, vp = load_artifact(path)
    T = m["schedule"]["timesteps"]
    assert len(g["schedule"]["betas"]) == T and np.allclose(g["schedule"]["alphasCumprod"], sched.alphas_cumprod)
    inp = g["prior"]["inputs"]
    assert len(inp["timestep"]) == 4 and set(inp["rating"]) == {0, 1, 2} and inp["userPresent"].count(0.0) == 1
    with torch.no_grad():
        tokens = model.taste_tokens(
            torch.tensor(inp["userVector"], dtype=torch.float32), torch.tensor(inp["userPresent"], dtype=torch.float32)
        )
        out = model.forward_tokens(
            torch.tensor(inp["noisyEmbedding"], dtype=torch.float32),
            torch.tensor(inp["timestep"]),
            tokens,
            torch.tensor(inp["rating"]),
        ).numpy()
    assert np.allclose(out, g["prior"]["outputs"]["predictedNoise"], atol=1e-5)
    conv = g["conversions"]
    for c in conv["cases"]:
        x0, eps = sched.split_output(
            np.array(c["sample"]),
            np.array(c["output"]),
            c["t"],
            c["predictionType"],
            clip=(np.array(conv["lower"]), np.array(conv["upper"])),
        )
        assert np.allclose(x0, c["clampedX0"]) and np.allclose(eps, c["clampedEps"])
        assert (x0 >= np.array(conv["lower"]) - 1e-12).all() and (x0 <= np.array(conv["upper"]) + 1e-12).all()
    for st in g["ddpmSteps"]:
        noise = None if st["noise"] is None else np.array(st["noise"])
        assert np.allclose(
            sched.ddpm_step(np.array(st["sample"]), np.array(st["eps"]), st["t"], st["prevT"], noise),
            st["prevSample"],
            atol=1e-12,
        )
    for st in g["ddimSteps"]:
        noise = None if st["noise"] is None else np.array(st["noise"])
        assert np.allclose(
            sched.ddim_step(np.array(st["sample"]), np.array(st["eps"]), st["t"], st["prevT"], st["eta"], noise),
            st["prevSample"],
            atol=1e-12,
        )
    assert any(st["prevT"] < 0 for st in g["ddimSteps"]) and any(st["t"] == 0 for st in g["ddpmSteps"])
    for pair in g["verifier"]:
        assert verifier_prob(vp, pair["userRow"], np.array(pair["embedding"])) == pytest.approx(pair["probability"])
    gs = g["guidedSample"]
    raw = np.array(gs["standardized"]) * np.array(m["standardization"]["std"]) + np.array(m["standardization"]["mean"])
    assert np.allclose(raw, gs["raw"], atol=1e-5)


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "training.rebeca.train", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_cli_bad_input(tmp_path, snapshot_dir):
    r = _cli("--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--preset", "tiny")
    assert r.returncode == 2 and "error: dataset snapshot folder not found" in r.stderr
    r = _cli("--data", snapshot_dir, "--out", str(tmp_path / "o"), "--preset", "tiny", "--min-likes", "100000")
    assert r.returncode == 2 and "lower --min-likes" in r.stderr
    assert not os.path.exists(tmp_path / "o")


def test_cli_torch_missing_message(tmp_path):
    # a sitecustomize that hides torch: the entry point must say so clearly
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nclass _B:\n    def find_spec(self, name, *a, **k):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n            raise ImportError('hidden')\n"
        "sys.meta_path.insert(0, _B())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    r = _cli("--data", "x", "--out", "y", env=env)
    assert r.returncode == 3 and "PyTorch is not installed" in r.stderr


def test_health_gate_refuses_a_broken_prior(snapshot_dir):
    """A prior whose outputs are blown up (what an untrained or rank-deficient one does) fails the gate."""
    import torch
    from training.rebeca.presets import get_preset
    from training.rebeca.train import fit, health_check

    preset = get_preset("tiny", max_epochs=3)
    f = fit(snapshot_dir, preset, torch.device("cpu"), seed=0, log=lambda _m: None)
    ok = health_check(f, torch.device("cpu"), samples_per_user=4, steps=10)
    assert ok["inRange"] > 0.5 and np.isfinite(ok["normRatio"])
    with torch.no_grad():
        f.prior.model.output.weight.mul_(1000.0)
        f.prior.model.output.bias.add_(50.0)
    bad = health_check(f, torch.device("cpu"), samples_per_user=4, steps=10)
    assert bad["passed"] is False
    assert any("catalog's range" in r or "mean norm" in r for r in bad["reasons"])
