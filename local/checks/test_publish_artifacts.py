"""`make publish-artifacts`: the zips and the hashes Terraform reads (against moto's in-process S3)."""

import base64
import hashlib
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import publish_artifacts  # noqa: E402


@pytest.fixture
def s3(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "ap-northeast-2"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        client = boto3.client("s3", region_name="ap-northeast-2")
        client.create_bucket(Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-2"})
        yield client


def zips(tmp_path, skip=()):
    for i, f in enumerate(publish_artifacts.functions()):
        if f not in skip:
            (tmp_path / f).mkdir()
            (tmp_path / f / "bootstrap.zip").write_bytes(b"zip of " + f.encode() + bytes([i]) * 100)
    return tmp_path


def test_every_zip_is_uploaded_with_the_hash_terraform_reads(s3, tmp_path):
    hashes = publish_artifacts.publish(s3, "artifacts", "elasticache-backup/v1/", zips(tmp_path))
    assert set(hashes) == set(publish_artifacts.functions()) and len(hashes) >= 13  # every function crate
    for f, h in hashes.items():
        body = (tmp_path / f / "bootstrap.zip").read_bytes()
        key = f"elasticache-backup/v1/{f}/bootstrap.zip"
        assert s3.get_object(Bucket="artifacts", Key=key)["Body"].read() == body
        published = s3.get_object(Bucket="artifacts", Key=key + ".base64sha256")
        # Terraform's filebase64sha256 and Lambda's CodeSha256: base64 of the raw SHA-256.
        assert published["Body"].read().decode() == base64.b64encode(hashlib.sha256(body).digest()).decode() == h
        assert published["ContentType"] == "text/plain"  # aws_s3_object returns the body only for text types


def test_a_missing_zip_uploads_nothing(s3, tmp_path):
    with pytest.raises(SystemExit, match=r"missing zips \(run `make build` first\): .*verify-export/bootstrap.zip"):
        publish_artifacts.publish(s3, "artifacts", "p/", zips(tmp_path, skip={"verify-export"}))
    assert s3.list_objects_v2(Bucket="artifacts").get("KeyCount") == 0


def test_a_prefix_without_a_slash_is_refused(s3, tmp_path):
    with pytest.raises(SystemExit, match="PREFIX must be empty or end with /"):
        publish_artifacts.publish(s3, "artifacts", "releases", zips(tmp_path))
