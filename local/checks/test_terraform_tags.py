"""The module's `tags` reach every resource that can carry tags: for each resource block in terraform/*.tf and
terraform/modules/*/*.tf (which are given the root's tags as var.tags) whose
type has a `tags` argument in the AWS provider's schema (`terraform providers schema -json`), the block sets
`tags = var.tags` (types without tags — policies, dashboards, schedules — are exempt by the schema itself)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

TERRAFORM = Path(__file__).resolve().parents[2] / "terraform"
RESOURCE = re.compile(r'^resource "(\w+)" "(\w+)" \{\n(.*?)^\}', re.S | re.M)


def taggable_types() -> set[str]:
    if shutil.which("terraform") is None or not (TERRAFORM / ".terraform").is_dir():
        pytest.fail("needs terraform and an initialised terraform/ (run `make tf-test` first)")
    out = subprocess.run(["terraform", "providers", "schema", "-json"], cwd=TERRAFORM, capture_output=True,
                         text=True, timeout=300, check=True)
    schemas = json.loads(out.stdout)["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"]
    return {t for t, s in schemas.items() if "tags" in s["block"].get("attributes", {})}


def test_every_taggable_resource_takes_the_modules_tags():
    taggable = taggable_types()
    assert {"aws_lambda_function", "aws_s3_bucket", "aws_iam_role"} <= taggable
    resources = [(f.relative_to(TERRAFORM), *m.groups()) for f in sorted([*TERRAFORM.glob("*.tf"), *TERRAFORM.glob("modules/*/*.tf")]) for m in RESOURCE.finditer(f.read_text())]
    assert len(resources) > 50, "resource blocks are not where this test reads them"
    untagged = [f"{f}: {t}.{n}" for f, t, n, body in resources
                if t in taggable and not re.search(r"^\s*tags\s*=\s*var\.tags\s*$", body, re.M)]
    assert not untagged, f"set tags = var.tags on {untagged}"
