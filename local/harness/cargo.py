"""Where cargo puts what it builds: the workspace's target directory, as cargo itself reports it.

`cargo metadata` answers with the `target_directory` that honours CARGO_TARGET_DIR, `build.target-dir` in
.cargo/config.toml and `--config`, so the harness, the demo and the tools find the binaries wherever the build wrote
them (./target only when nothing says otherwise).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def target_dir() -> Path:
    """The workspace's target directory (cached: call `target_dir.cache_clear()` after changing the environment)."""
    cargo = os.environ.get("CARGO", "cargo")
    try:
        out = subprocess.run([cargo, "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        detail = getattr(e, "stderr", None) or e
        raise RuntimeError(f"cannot ask cargo for the target directory (`cargo metadata` in {ROOT}): {detail}") from e
    return Path(json.loads(out)["target_directory"])


def binary(name: str, profile: str = "debug") -> Path:
    """A binary of the workspace as `cargo build` (`profile="release"`: `cargo build --release`) leaves it."""
    return target_dir() / profile / name
