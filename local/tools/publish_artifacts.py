"""Upload the Lambda zips to S3 for a module deployed with `artifacts_s3_bucket` (`make publish-artifacts`).

For every function crate under functions/ it uploads `<dir>/<function>/bootstrap.zip` to
`s3://<bucket>/<prefix><function>/bootstrap.zip`, and beside it `<...>/bootstrap.zip.base64sha256`: the zip's
SHA-256, base64-encoded (what Terraform's filebase64sha256 gives and Lambda's CodeSha256 is), as text/plain so that
Terraform's aws_s3_object data source can read it as the function's source_code_hash. A missing zip stops it
before anything is uploaded. Credentials and region come from the usual AWS environment (AWS_PROFILE, ...).
"""

import argparse
import base64
import hashlib
import sys
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))
from cargo import ROOT, target_dir  # noqa: E402


def functions() -> list[str]:
    """Every Lambda crate (functions/ holds only Lambdas)."""
    return sorted(p.parent.name for p in (ROOT / "functions").glob("*/Cargo.toml"))


def base64_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def publish(s3, bucket: str, prefix: str, artifacts: Path) -> dict[str, str]:
    """Uploads every function's zip and hash; returns {function: base64 SHA-256}. Raises SystemExit naming the
    missing zips (and `make build`) before uploading anything."""
    if prefix and (not prefix.endswith("/") or prefix.startswith("/")):
        raise SystemExit(f"PREFIX must be empty or end with / (and not start with /), got {prefix!r}")
    zips = {f: artifacts / f / "bootstrap.zip" for f in functions()}
    missing = [str(z) for z in zips.values() if not z.is_file()]
    if missing:
        raise SystemExit("missing zips (run `make build` first): " + ", ".join(missing))
    hashes = {}
    for function, zip_path in zips.items():
        key = f"{prefix}{function}/bootstrap.zip"
        hashes[function] = base64_sha256(zip_path)
        s3.upload_file(str(zip_path), bucket, key, ExtraArgs={"ContentType": "application/zip"})
        # The hash goes last: a deployment reading it finds the zip it describes already there.
        s3.put_object(Bucket=bucket, Key=key + ".base64sha256", Body=hashes[function].encode(),
                      ContentType="text/plain")
        print(f"s3://{bucket}/{key}  {hashes[function]}")
    return hashes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True, help="the module's artifacts_s3_bucket")
    parser.add_argument("--prefix", default="elasticache-backup/", help="the module's artifacts_s3_key_prefix")
    parser.add_argument("--dir", help="where `make build` wrote the zips (default: lambda/ in cargo's target directory)")
    args = parser.parse_args()
    artifacts = Path(args.dir) if args.dir else target_dir() / "lambda"
    publish(boto3.client("s3"), args.bucket, args.prefix, artifacts)
    print(f"set artifacts_s3_bucket = \"{args.bucket}\" and artifacts_s3_key_prefix = \"{args.prefix}\"")
    return 0


if __name__ == "__main__":
    sys.exit(main())
