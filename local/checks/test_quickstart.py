"""The module README's quick start blocks are valid as written: each `hcl` block of terraform/README.md is put in a
root module of its own (its `source` pointed at this checkout's terraform/), initialised and `terraform validate`d.
The plan-time refusal of a missing zip is proven by terraform/tests (a_missing_zip_fails_at_plan_naming_make_build)
and its message by test_terraform_messages.py."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "terraform" / "README.md"
ROOT_MODULE = """terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.32, < 7" }
  }
}

provider "aws" {
  region = "ap-northeast-2"
}
"""


def plugin_dir():
    """The offline provider mirror (the directory holding registry.terraform.io/), as the Makefile finds it."""
    if os.environ.get("TF_PLUGIN_DIR"):
        return os.environ["TF_PLUGIN_DIR"]
    for base in ("/opt", "/usr/share", "/usr/local/share", str(Path.home())):
        for found in Path(base).glob("**/registry.terraform.io/hashicorp/aws") if Path(base).is_dir() else []:
            return str(found.parents[2])
    return None


def blocks():
    found = re.findall(r"```hcl\n(.*?)```", README.read_text(), re.S)
    assert len(found) >= 2, "terraform/README.md should show both ways to deploy"
    return found


@pytest.mark.parametrize("index", range(2))
def test_a_quick_start_block_validates_as_written(index, tmp_path):
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not installed (make deps-checks checks for it)")
    block = blocks()[index]
    assert re.search(r'^\s*source\s*=\s*"[^"]+"', block, re.M), block
    local = re.sub(r'^(\s*source\s*=\s*)"[^"]+"', lambda m: f'{m.group(1)}"{ROOT / "terraform"}"', block, count=1,
                   flags=re.M)
    (tmp_path / "main.tf").write_text(ROOT_MODULE + "\n" + local)
    mirror = plugin_dir()
    init = ["terraform", "init", "-input=false", "-backend=false"] + ([f"-plugin-dir={mirror}"] if mirror else [])
    for cmd in (init, ["terraform", "validate", "-no-color"]):
        out = subprocess.run(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=600)
        assert out.returncode == 0, f"{' '.join(cmd)} failed for block {index}:\n{block}\n{out.stdout[-3000:]}"
