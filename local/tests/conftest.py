import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

from stack import ROOT, Stack  # noqa: E402
from vault import VAULT_BUCKET, create_vault  # noqa: E402

DEFAULT_BUCKET = "acme-cache-backups"


@pytest.fixture(scope="session")
def stack():
    with Stack(ROOT / "local" / "topologies" / "test.toml", snapshot_min_seconds=0.5, export_delay_seconds=0.3,
               default_bucket=DEFAULT_BUCKET, function_env={"VAULT_BUCKET": VAULT_BUCKET}) as s:
        s.create_backup_bucket(DEFAULT_BUCKET)
        # The vault (a second bucket, Object Lock COMPLIANCE): restores from it copy its objects to be seeded and
        # report in DEFAULT_BUCKET (VAULT_BUCKET in the functions' environment, as the module sets it).
        create_vault(s.client("s3"), VAULT_BUCKET)
        yield s
        # Whatever the tests did, no snapshot may have been deleted before its export was in S3.
        s.assert_no_unsafe_deletion()


@pytest.fixture()
def ec(stack):
    return stack.client("elasticache")


@pytest.fixture()
def s3(stack):
    return stack.client("s3")


@pytest.fixture()
def bucket(stack, s3):
    name = f"backups-{uuid.uuid4().hex[:12]}"
    stack.create_backup_bucket(name)
    return name


@pytest.fixture(autouse=True)
def _no_leftover_faults(stack):
    yield
    stack.clear_faults()
