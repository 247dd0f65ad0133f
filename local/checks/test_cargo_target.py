"""The harness and the tools run the binaries cargo built, in the target directory cargo reports (CARGO_TARGET_DIR,
.cargo/config's build.target-dir), not a hard-coded ./target."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
import cargo  # noqa: E402
import stack  # noqa: E402


@pytest.fixture
def cargo_target_dir(tmp_path, monkeypatch):
    """CARGO_TARGET_DIR set to an empty directory, the lookup's cache cleared before and after."""
    monkeypatch.setenv("CARGO_TARGET_DIR", str(tmp_path))
    cargo.target_dir.cache_clear()
    yield tmp_path
    cargo.target_dir.cache_clear()


def test_binaries_are_looked_up_in_cargo_target_dir(cargo_target_dir):
    assert cargo.target_dir() == cargo_target_dir
    assert stack.emulator_binary() == cargo_target_dir / "debug" / "elasticache-emulator"
    assert cargo.binary("rdb-check", "release") == cargo_target_dir / "release" / "rdb-check"


def test_a_stack_without_the_emulator_names_where_cargo_would_have_put_it(cargo_target_dir):
    # Refused before any server starts: nothing to stop.
    local = stack.Stack(cargo.ROOT / "local" / "topologies" / "test.toml")
    try:
        with pytest.raises(RuntimeError, match="is missing") as refused:
            local.start()
    finally:
        shutil.rmtree(local.workdir)
    assert str(cargo_target_dir / "debug" / "elasticache-emulator") in str(refused.value)

