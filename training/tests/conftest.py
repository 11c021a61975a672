import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

try:
    import torch  # noqa: F401

    HAS_TORCH = True
except ImportError:  # pragma: no cover
    HAS_TORCH = False
    if os.environ.get("CI"):
        raise RuntimeError("PyTorch is not installed but CI is set: the training tests must run in CI") from None

requires_torch = pytest.mark.skipif(
    not HAS_TORCH, reason="PyTorch is not installed for this Python (use /usr/bin/python3; with CI set this fails)"
)


@pytest.fixture(scope="session")
def snapshot_dir(tmp_path_factory):
    from training.rebeca.synthetic import write_snapshot

    return write_snapshot(str(tmp_path_factory.mktemp("snap") / "snapshot"))


@pytest.fixture(scope="session")
def trained(tmp_path_factory, snapshot_dir):
    """One tiny training run shared by the artifact tests: (artifact path, stdout lines, stderr)."""
    if not HAS_TORCH:
        pytest.skip("PyTorch is not installed")
    import contextlib
    import io

    from training.rebeca.train import main

    out = str(tmp_path_factory.mktemp("art") / "model")
    so, se = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(so), contextlib.redirect_stderr(se):
        rc = main(
            [
                "--data",
                snapshot_dir,
                "--out",
                out,
                "--preset",
                "tiny",
                "--seed",
                "0",
                "--device",
                "cpu",
                "--max-epochs",
                "20",
            ]
        )
    assert rc == 0, se.getvalue()
    return out, so.getvalue().strip().splitlines(), se.getvalue()
