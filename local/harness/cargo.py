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


# The local S3 stand-in for GB-sized objects: a workspace of its own (its own Cargo.lock; see its Cargo.toml), built
# into this workspace's target directory, release profile (it serves GBs).
LOCAL_S3_MANIFEST = ROOT / "local" / "standins" / "s3-fs" / "Cargo.toml"


def build_local_s3() -> Path:
    """Builds local/standins/s3-fs (`cargo build --release`, a no-op when it is up to date) into the workspace's
    target directory and returns the `local-s3` binary."""
    cargo = os.environ.get("CARGO", "cargo")
    subprocess.run([cargo, "build", "--release", "--quiet", "--manifest-path", str(LOCAL_S3_MANIFEST),
                    "--target-dir", str(target_dir())], cwd=ROOT, check=True)
    return binary("local-s3", "release")
