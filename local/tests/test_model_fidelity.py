"""Every emulated answer checked against AWS's model (issue 22, item 7).

The spec is botocore's ElastiCache service model, `elasticache/2015-02-02/service-2.json`, read with botocore's
loader. For every ElastiCache action the project's Rust code calls (derived below from the `.client.<operation>()`
calls in crates/aws-adapters/src/elasticache.rs) and every other action the emulator serves:

- boto3 sends the requests the project sends, and each refusal the emulator implements, with client-side parameter
  validation on (so every request is one the model allows; the few refusals boto3 would not even send go as a plain
  Query form POST);
- the raw XML of every answer (captured by a botocore `after-call` hook, before any parsing) is validated against
  the operation's output shape: the `<Action>Response>/<Action>Result` wrapper and `ResponseMetadata/RequestId` of
  the Query protocol, every element a member of its shape (list members by the model's `locationName`), no member
  twice, every required member present, enum members holding a model enum value, timestamps, booleans, integers
  and doubles parsing;
- every error answer is the Query protocol's `ErrorResponse/Error{Type,Code,Message}` + `RequestId`, its `Code` one
  the model lists for the operation (each error shape's `error.code`) or one of the API Reference's Common Errors,
  with the model's `error.httpStatusCode`;
- the emulator's own table of the error codes it can answer per action (`GET /_emulator/errors`, src/errors.rs, kept
  complete by a unit test that reads the emulator's sources) is checked the same way, so a code added to the
  emulator that the model does not list fails here; an error answered outside that table is journaled
  (`UnlistedError`) and fails here too.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.utils import parse_timestamp

from stack import ELASTICACHE_CANONICAL_USER, REGION, ROOT

MODEL = ServiceModel(Loader().load_service_model("elasticache", "service-2"), "elasticache")
NS = "{" + MODEL.metadata["xmlNamespace"] + "}"
RUST_CLIENT = ROOT / "crates" / "aws-adapters" / "src" / "elasticache.rs"

# Amazon ElastiCache API Reference, "Common Errors" (errors common to every action), with their HTTP statuses:
# https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/CommonErrors.html. `Throttling` is the code
# ElastiCache answers on the wire for API throttling (AWS re:Post knowledge center, "elasticache-fix-status-code-400":
# "Rate exceeded (Service: AmazonElastiCache; Status Code: 400; Error Code: Throttling)").
COMMON_ERRORS = {
    "AccessDeniedException": 400,
    "IncompleteSignature": 400,
    "InternalFailure": 500,
    "InvalidAction": 400,
    "InvalidClientTokenId": 403,
    "InvalidParameterCombination": 400,
    "InvalidParameterValue": 400,
    "InvalidQueryParameter": 400,
    "MalformedQueryString": 404,
    "MissingAction": 400,
    "MissingAuthenticationToken": 403,
    "MissingParameter": 400,
    "NotAuthorized": 400,
    "OptInRequired": 403,
    "RequestExpired": 400,
    "ServiceUnavailable": 503,
    "Throttling": 400,
    "ThrottlingException": 400,
    "ValidationError": 400,
}

# Codes the emulator answers that the model does not list for the action, in files this test's authors do not own
# (restore.rs): reported (issue 22), kept visible here. Strict: an entry the emulator no longer answers, or that the
# model now lists, fails `test_the_error_table_is_the_models` until it is removed.
KNOWN_DISCREPANCIES = {
    ("CreateReplicationGroup", "SnapshotNotFoundFault"):
        "restore.rs answers it for a SnapshotName that does not exist; the model lists no snapshot error for "
        "CreateReplicationGroup, and what AWS answers is not documented",
    ("CreateReplicationGroup", "InvalidSnapshotState"):
        "restore.rs answers it for a SnapshotName that is not available; not in the model's list for "
        "CreateReplicationGroup",
}


def project_operations() -> list[str]:
    """The ElastiCache operations the project's Rust code calls: `.client.<snake_case>(` in the AWS adapter, mapped to
    the model's operation names."""
    source = RUST_CLIENT.read_text()
    calls = dict.fromkeys(re.findall(r"\.client\s*\.\s*([a-z][a-z0-9_]*)\s*\(", source))
    by_snake = {xform_name(op): op for op in MODEL.operation_names}
    unknown = [c for c in calls if c not in by_snake]
    assert not unknown, f"{RUST_CLIENT} calls {unknown}, which are not ElastiCache operations in the model"
    return [by_snake[c] for c in calls]


def model_errors(operation: str) -> dict[str, int | None]:
    """Wire code → HTTP status of every error the model lists for `operation`."""
    out = {}
    for shape in MODEL.operation_model(operation).error_shapes:
        error = shape.metadata.get("error", {})
        out[error.get("code", shape.name)] = error.get("httpStatusCode")
    return out


def allowed_status(operation: str, code: str) -> tuple[bool, int | None]:
    """Whether `code` may answer `operation`, and the status it must have (None: not checked)."""
    modeled = model_errors(operation) if operation in MODEL.operation_names else {}
    if code in modeled:
        return True, modeled[code]
    if code in COMMON_ERRORS:
        return True, COMMON_ERRORS[code]
    if (operation, code) in KNOWN_DISCREPANCIES:
        return True, None
    return False, None


# -- validation of raw answers -----------------------------------------------------------------------------------

ISO8601 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def local(tag: str) -> str:
    return tag[len(NS):] if tag.startswith(NS) else f"(wrong namespace){tag}"


def validate(elem: ET.Element, shape, path: str, problems: list[str]) -> None:
    """Checks one element against its shape, recursively (Query protocol XML serialization rules)."""
    kind = shape.type_name
    children = list(elem)
    text = (elem.text or "").strip()
    if kind == "structure":
        if text:
            problems.append(f"{path}: text {text!r} in a structure")
        members = {m.serialization.get("name", name): m for name, m in shape.members.items()}
        seen = Counter()
        for child in children:
            tag = local(child.tag)
            if tag not in members:
                problems.append(f"{path}/{tag}: not a member of {shape.name}")
                continue
            seen[tag] += 1
            validate(child, members[tag], f"{path}/{tag}", problems)
        problems.extend(f"{path}/{t}: {n} times" for t, n in seen.items() if n > 1)
        for name in shape.required_members:
            wire = shape.members[name].serialization.get("name", name)
            if wire not in seen:
                problems.append(f"{path}: required member {wire} of {shape.name} missing")
    elif kind == "list":
        if shape.serialization.get("flattened"):
            problems.append(f"{path}: flattened lists are not used by this model")
        item = shape.member.serialization.get("name", "member")
        if text:
            problems.append(f"{path}: text {text!r} in a list")
        for i, child in enumerate(children, 1):
            tag = local(child.tag)
            if tag != item:
                problems.append(f"{path}/{tag}: list {shape.name} holds <{item}> elements")
                continue
            validate(child, shape.member, f"{path}/{tag}[{i}]", problems)
    elif kind == "map":
        for entry in children:
            if local(entry.tag) != "entry":
                problems.append(f"{path}/{local(entry.tag)}: map entries are <entry>")
                continue
            key, value = entry.find(NS + "key"), entry.find(NS + "value")
            if key is None or value is None:
                problems.append(f"{path}/entry: needs key and value")
                continue
            validate(key, shape.key, f"{path}/entry/key", problems)
            validate(value, shape.value, f"{path}/entry/value", problems)
    else:
        if children:
            problems.append(f"{path}: {kind} {shape.name} has child elements")
            return
        raw = elem.text or ""
        if kind == "string":
            if shape.enum and raw not in shape.enum:
                problems.append(f"{path}: {raw!r} is not one of {shape.name}'s {list(shape.enum)}")
        elif kind in ("integer", "long"):
            if not re.fullmatch(r"-?\d+", raw):
                problems.append(f"{path}: {raw!r} is not an {kind}")
        elif kind == "boolean":
            if raw not in ("true", "false"):
                problems.append(f"{path}: {raw!r} is not a boolean")
        elif kind in ("double", "float"):
            try:
                float(raw)
            except ValueError:
                problems.append(f"{path}: {raw!r} is not a {kind}")
        elif kind == "timestamp":
            try:
                parse_timestamp(raw)
            except (ValueError, TypeError):
                problems.append(f"{path}: {raw!r} does not parse as a timestamp")
            if not ISO8601.match(raw):
                problems.append(f"{path}: {raw!r} is not ISO 8601 (the Query protocol's timestamp format)")
        elif kind == "blob":
            try:
                base64.b64decode(raw, validate=True)
            except binascii.Error:
                problems.append(f"{path}: not base64")


@dataclass
class Exchange:
    operation: str
    status: int
    body: bytes


def check_exchange(x: Exchange) -> list[str]:
    """Problems with one answer, against the model."""
    problems: list[str] = []
    where = f"{x.operation} ({x.status})"
    try:
        root = ET.fromstring(x.body)
    except ET.ParseError as e:
        return [f"{where}: not XML: {e}: {x.body[:200]!r}"]
    if x.status < 300:
        op = MODEL.operation_model(x.operation)
        if root.tag != f"{NS}{x.operation}Response":
            return [f"{where}: root <{root.tag}>, expected <{x.operation}Response> in {NS}"]
        wrapper = op.output_shape.serialization.get("resultWrapper") if op.output_shape else None
        tags = [local(c.tag) for c in root]
        expected = ([wrapper] if wrapper else []) + ["ResponseMetadata"]
        if tags != expected:
            problems.append(f"children {tags}, expected {expected}")
        if not (root.findtext(f"{NS}ResponseMetadata/{NS}RequestId") or "").strip():
            problems.append("no ResponseMetadata/RequestId")
        result = root.find(NS + wrapper) if wrapper else None
        if result is not None:
            validate(result, op.output_shape, wrapper, problems)
        return [f"{where}: {p}" for p in problems]
    # An error: the Query protocol's ErrorResponse.
    if root.tag != f"{NS}ErrorResponse":
        return [f"{where}: error root <{root.tag}>, expected <ErrorResponse> in {NS}"]
    tags = [local(c.tag) for c in root]
    if tags != ["Error", "RequestId"]:
        problems.append(f"{where}: ErrorResponse children {tags}, expected ['Error', 'RequestId']")
    error = root.find(NS + "Error")
    if error is None:
        return problems + [f"{where}: no Error"]
    fields = [local(c.tag) for c in error]
    if not set(fields) <= {"Type", "Code", "Message"} or "Code" not in fields:
        problems.append(f"{where}: Error has {fields}")
    kind = error.findtext(NS + "Type")
    if kind != ("Sender" if x.status < 500 else "Receiver"):
        problems.append(f"{where}: Error/Type {kind!r} for HTTP {x.status}")
    code = error.findtext(NS + "Code") or ""
    ok, status = allowed_status(x.operation, code)
    if not ok:
        problems.append(f"{where}: {code} is neither an error the model lists for {x.operation} "
                        f"({sorted(model_errors(x.operation)) if x.operation in MODEL.operation_names else '-'}) "
                        f"nor a common error")
    elif status is not None and status != x.status:
        problems.append(f"{where}: {code} answered with HTTP {x.status}, the model says {status}")
    return problems


def test_the_validator_finds_what_it_should():
    """The checker itself, on hand-made answers."""
    ok = (f'<DescribeEventsResponse xmlns="{MODEL.metadata["xmlNamespace"]}"><DescribeEventsResult><Events><Event>'
          "<SourceIdentifier>a</SourceIdentifier><SourceType>cache-cluster</SourceType><Message>m</Message>"
          "<Date>2026-12-03T12:00:00.123Z</Date></Event></Events></DescribeEventsResult><ResponseMetadata>"
          "<RequestId>r</RequestId></ResponseMetadata></DescribeEventsResponse>")
    assert check_exchange(Exchange("DescribeEvents", 200, ok.encode())) == []
    bad = (ok.replace("cache-cluster", "snapshot").replace("<Message>m</Message>", "<Message>m</Message><Extra/>")
           .replace("2026-12-03T12:00:00.123Z", "yesterday"))
    problems = check_exchange(Exchange("DescribeEvents", 200, bad.encode()))
    assert len(problems) == 4, problems  # enum, unknown member, timestamp twice (parse and format)
    err = (f'<ErrorResponse xmlns="{MODEL.metadata["xmlNamespace"]}"><Error><Type>Sender</Type>'
           "<Code>{code}</Code><Message>m</Message></Error><RequestId>r</RequestId></ErrorResponse>")
    assert check_exchange(Exchange("DescribeSnapshots", 404, err.format(code="SnapshotNotFoundFault").encode())) == []
    assert check_exchange(Exchange("DescribeSnapshots", 400, err.format(code="SnapshotNotFoundFault").encode()))
    assert check_exchange(Exchange("DescribeEvents", 404, err.format(code="SnapshotNotFoundFault").encode()))
    assert check_exchange(Exchange("CreateSnapshot", 400, err.format(code="Throttling").encode())) == []


# -- the world the requests run in --------------------------------------------------------------------------------

@dataclass
class World:
    stack: object
    ec: object
    s3: object
    bucket: str
    node_snapshot: str
    group_snapshot: str
    exchanges: list[Exchange] = field(default_factory=list)
    observed: set = field(default_factory=set)
    serverless_snapshot: str = ""

    def call(self, operation: str, _expect: str | None = None, **kwargs):
        """One boto3 call (validated client-side by botocore); `_expect`: the error code it must answer."""
        method = getattr(self.ec, xform_name(operation))
        try:
            out = method(**kwargs)
        except ClientError as e:
            code = e.response["Error"]["Code"]
            self.observed.add((operation, code))
            assert code == _expect, f"{operation}({kwargs}) answered {code}: {e}; expected {_expect or 'success'}"
            return None
        assert _expect is None, f"{operation}({kwargs}) succeeded; expected {_expect}"
        return out

    def pages(self, operation: str, **kwargs) -> list[dict]:
        return list(self.ec.get_paginator(xform_name(operation)).paginate(**kwargs))

    def raw(self, action: str, params: dict, expect: str) -> None:
        """A Query form POST boto3 would refuse to send (a missing required parameter): the refusal is checked too."""
        data = urllib.parse.urlencode({"Action": action, "Version": MODEL.api_version, **params}).encode()
        req = urllib.request.Request(self.stack.elasticache_endpoint + "/", data=data,
                                     headers={"content-type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        self.exchanges.append(Exchange(action, status, body))
        code = ET.fromstring(body).findtext(f"{NS}Error/{NS}Code") if status >= 300 else None
        self.observed.add((action, code))
        assert code == expect, f"{action} {params}: {status} {body[:300]!r}"

    def wait(self, name: str, wanted: str = "available", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.ec.describe_snapshots(SnapshotName=name)["Snapshots"][0]["SnapshotStatus"]
            if status == wanted:
                return
            time.sleep(0.1)
        raise AssertionError(f"snapshot {name} never {wanted}")

    def wait_group(self, group: str, wanted: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            try:
                status = self.ec.describe_replication_groups(ReplicationGroupId=group)["ReplicationGroups"][0]["Status"]
            except ClientError as e:
                status = e.response["Error"]["Code"]
            if status == wanted:
                return
            if status == "create-failed":
                break
            time.sleep(0.1)
        why = [e for e in self.stack.emulator_state()["journal"]
               if e["event"] == "ReplicationGroupCreateFailed" and e.get("replicationGroupId") == group]
        raise AssertionError(f"group {group} is {status}, never {wanted} {why}")

    def wait_serverless(self, name: str, wanted: str = "available", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            status = self.ec.describe_serverless_cache_snapshots(ServerlessCacheSnapshotName=name)[
                "ServerlessCacheSnapshots"][0]["Status"]
            if status == wanted:
                return
            time.sleep(0.1)
        raise AssertionError(f"serverless snapshot {name} is {status}, never {wanted}")

    def wait_serverless_cache(self, name: str, wanted: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            try:
                status = self.ec.describe_serverless_caches(ServerlessCacheName=name)["ServerlessCaches"][0]["Status"]
            except ClientError as e:
                status = e.response["Error"]["Code"]
            if status == wanted:
                return
            time.sleep(0.1)
        raise AssertionError(f"serverless cache {name} is {status}, never {wanted}")

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:elasticache:{REGION}:123456789012:{kind}:{name}"


def unique(prefix: str = "mf") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def world(stack):
    exchanges: list[Exchange] = []

    def record(http_response, model, **_):
        exchanges.append(Exchange(model.name, http_response.status_code, http_response.content))

    ec = boto3.client("elasticache", endpoint_url=stack.elasticache_endpoint, region_name=REGION,
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(parameter_validation=True,
                                    retries={"mode": "standard", "total_max_attempts": 1}))
    ec.meta.events.register("after-call.elasticache", record)
    bucket = f"fidelity-{uuid.uuid4().hex[:10]}"
    stack.create_backup_bucket(bucket)
    node, group = unique("mf-node"), unique("mf-group")
    w = World(stack, ec, stack.client("s3"), bucket, node, group, exchanges)
    ec.create_snapshot(SnapshotName=node, CacheClusterId="fidelity-002")
    w.wait(node)
    ec.create_snapshot(SnapshotName=group, ReplicationGroupId="sessions")
    w.wait(group)
    w.serverless_snapshot = unique("mf-serverless")
    ec.create_serverless_cache_snapshot(ServerlessCacheSnapshotName=w.serverless_snapshot,
                                        ServerlessCacheName="sls-three")
    w.wait_serverless(w.serverless_snapshot)
    yield w
    for name in (node, group):
        w.wait(name)
        ec.delete_snapshot(SnapshotName=name)
    w.wait_serverless(w.serverless_snapshot)
    ec.delete_serverless_cache_snapshot(ServerlessCacheSnapshotName=w.serverless_snapshot)


# -- representative requests, per operation ------------------------------------------------------------------------
# What the project sends (crates/aws-adapters/src/elasticache.rs), then each refusal the emulator implements.

def describe_replication_groups(w: World) -> None:
    w.call("DescribeReplicationGroups", ReplicationGroupId="fidelity")
    w.call("DescribeReplicationGroups", ReplicationGroupId="sessions")
    w.pages("DescribeReplicationGroups", PaginationConfig={"PageSize": 20})
    w.call("DescribeReplicationGroups", "ReplicationGroupNotFoundFault", ReplicationGroupId="nope")
    w.call("DescribeReplicationGroups", "InvalidParameterValue", MaxRecords=5)
    w.call("DescribeReplicationGroups", "InvalidParameterValue", Marker="not-a-marker")
    # A busy group and one with a snapshot in progress (SnapshottingClusterId) answer other statuses.
    w.stack.inject({"kind": "busy", "target": "carts", "reads": 1})
    w.call("DescribeReplicationGroups", ReplicationGroupId="carts")
    name = unique()
    w.call("CreateSnapshot", SnapshotName=name, ReplicationGroupId="carts")
    w.call("DescribeReplicationGroups", ReplicationGroupId="carts")
    w.wait(name)
    w.call("DeleteSnapshot", SnapshotName=name)


def describe_cache_clusters(w: World) -> None:
    w.call("DescribeCacheClusters", CacheClusterId="fidelity-002", ShowCacheNodeInfo=True)
    w.call("DescribeCacheClusters", CacheClusterId="sessions-0001-001", ShowCacheNodeInfo=True)
    w.call("DescribeCacheClusters", CacheClusterId="memo", ShowCacheNodeInfo=True)
    w.pages("DescribeCacheClusters", ShowCacheClustersNotInReplicationGroups=True)
    w.pages("DescribeCacheClusters", PaginationConfig={"PageSize": 20})
    w.call("DescribeCacheClusters", "CacheClusterNotFound", CacheClusterId="nope")
    w.call("DescribeCacheClusters", "InvalidParameterValue", MaxRecords=101)


def create_snapshot(w: World) -> None:
    tags = [{"Key": "ecb:execution", "Value": "x"}, {"Key": "ecb:target", "Value": "fidelity"}]
    node = unique()
    w.call("CreateSnapshot", SnapshotName=node, CacheClusterId="fidelity-002", Tags=tags)
    # While it is being created: the node and its group are busy, the name is taken.
    w.call("CreateSnapshot", "InvalidCacheClusterState", SnapshotName=unique(), CacheClusterId="fidelity-001")
    w.call("CreateSnapshot", "InvalidReplicationGroupState", SnapshotName=unique(), ReplicationGroupId="fidelity")
    w.call("CreateSnapshot", "SnapshotAlreadyExistsFault", SnapshotName=node, CacheClusterId="solo")
    group = unique()
    w.call("CreateSnapshot", SnapshotName=group, ReplicationGroupId="orders", Tags=tags)
    solo = unique()
    w.call("CreateSnapshot", SnapshotName=solo, CacheClusterId="solo")
    w.call("CreateSnapshot", "InvalidParameterCombination", SnapshotName=unique(), CacheClusterId="fidelity-001",
           ReplicationGroupId="fidelity")
    w.call("CreateSnapshot", "InvalidParameterCombination", SnapshotName=unique())
    w.call("CreateSnapshot", "InvalidParameterCombination", SnapshotName=unique(), CacheClusterId="sessions-0001-001")
    w.call("CreateSnapshot", "ReplicationGroupNotFoundFault", SnapshotName=unique(), ReplicationGroupId="nope")
    w.call("CreateSnapshot", "CacheClusterNotFound", SnapshotName=unique(), CacheClusterId="nope")
    w.call("CreateSnapshot", "SnapshotFeatureNotSupportedFault", SnapshotName=unique(), CacheClusterId="memo")
    w.raw("CreateSnapshot", {"CacheClusterId": "solo"}, "InvalidParameterValue")  # SnapshotName is required
    for name in (node, group, solo):
        w.wait(name)
        w.call("DeleteSnapshot", SnapshotName=name)


def describe_snapshots(w: World) -> None:
    w.call("DescribeSnapshots", SnapshotName=w.node_snapshot)
    w.call("DescribeSnapshots", SnapshotName=w.group_snapshot, ShowNodeGroupConfig=True)
    w.call("DescribeSnapshots", ReplicationGroupId="sessions")
    w.call("DescribeSnapshots", CacheClusterId="fidelity-002")
    w.pages("DescribeSnapshots", SnapshotSource="user", PaginationConfig={"PageSize": 20})
    w.call("DescribeSnapshots", SnapshotSource="system")
    w.call("DescribeSnapshots", "SnapshotNotFoundFault", SnapshotName="nope")
    w.call("DescribeSnapshots", "CacheClusterNotFound", CacheClusterId="nope")
    w.call("DescribeSnapshots", "InvalidParameterValue", SnapshotSource="automatic")
    w.call("DescribeSnapshots", "InvalidParameterValue", MaxRecords=51)


def copy_snapshot(w: World) -> None:
    target = unique("mf-export")
    w.call("CopySnapshot", SourceSnapshotName=w.group_snapshot, TargetSnapshotName=target, TargetBucket=w.bucket)
    w.call("CopySnapshot", "InvalidSnapshotState", SourceSnapshotName=w.group_snapshot,
           TargetSnapshotName=unique(), TargetBucket=w.bucket)  # still copying
    w.wait(w.group_snapshot)
    w.call("CopySnapshot", "InvalidParameterValue", SourceSnapshotName=w.group_snapshot, TargetSnapshotName=target,
           TargetBucket=w.bucket)  # the bucket already holds the key
    w.call("CopySnapshot", "InvalidParameterValue", SourceSnapshotName=w.group_snapshot,
           TargetSnapshotName=unique(), TargetBucket=f"missing-{uuid.uuid4().hex[:8]}")
    copy = unique("mf-copy")
    w.call("CopySnapshot", SourceSnapshotName=w.node_snapshot, TargetSnapshotName=copy)
    w.call("CopySnapshot", "SnapshotAlreadyExistsFault", SourceSnapshotName=w.node_snapshot, TargetSnapshotName=copy)
    w.call("DeleteSnapshot", SnapshotName=copy)
    w.call("CopySnapshot", "SnapshotNotFoundFault", SourceSnapshotName="nope", TargetSnapshotName=unique(),
           TargetBucket=w.bucket)
    tiered = unique()
    w.call("CreateSnapshot", SnapshotName=tiered, ReplicationGroupId="tiered")
    w.wait(tiered)
    w.call("CopySnapshot", "InvalidParameterValue", SourceSnapshotName=tiered, TargetSnapshotName=unique(),
           TargetBucket=w.bucket)  # data tiering: export not supported
    w.call("DeleteSnapshot", SnapshotName=tiered)
    w.raw("CopySnapshot", {"SourceSnapshotName": w.node_snapshot}, "InvalidParameterValue")


def delete_snapshot(w: World) -> None:
    name = unique()
    w.call("CreateSnapshot", SnapshotName=name, CacheClusterId="solo")
    w.call("DeleteSnapshot", "InvalidSnapshotState", SnapshotName=name)  # still creating
    w.wait(name)
    w.call("DeleteSnapshot", SnapshotName=name)
    w.call("DeleteSnapshot", "SnapshotNotFoundFault", SnapshotName=name)
    w.stack.inject({"kind": "failSnapshot", "target": "solo"})
    failed = unique()
    w.call("CreateSnapshot", SnapshotName=failed, CacheClusterId="solo")
    w.wait(failed, "failed")
    w.call("DeleteSnapshot", SnapshotName=failed)
    w.raw("DeleteSnapshot", {}, "InvalidParameterValue")


def create_replication_group(w: World) -> None:
    tags = [{"Key": "ecb:restore", "Value": "x"}]
    # Cluster mode disabled, from a kept snapshot, as the project's restore sends it.
    cmd = unique()
    w.call("CreateReplicationGroup", ReplicationGroupId=cmd, ReplicationGroupDescription="restore", Engine="redis",
           CacheNodeType="cache.r7g.large", SnapshotName=w.node_snapshot, ReplicasPerNodeGroup=1, Tags=tags)
    # Cluster mode enabled, from the exported objects, with each shard's slots and automatic failover.
    export = unique("mf-seed")
    w.call("CopySnapshot", SourceSnapshotName=w.group_snapshot, TargetSnapshotName=export, TargetBucket=w.bucket)
    w.wait(w.group_snapshot, "available")
    sessions = w.call("DescribeReplicationGroups", ReplicationGroupId="sessions")["ReplicationGroups"][0]
    config = [{"NodeGroupId": ng["NodeGroupId"], "Slots": ng["Slots"], "ReplicaCount": 1}
              for ng in sessions["NodeGroups"]]
    arns = [f"arn:aws:s3:::{w.bucket}/{export}-{i:04}.rdb" for i in range(1, len(config) + 1)]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and w.s3.list_objects_v2(Bucket=w.bucket, Prefix=export)["KeyCount"] < 3:
        time.sleep(0.1)
    for arn in arns:  # the default regions' seeding route: an object ACL for ElastiCache's canonical user
        w.s3.put_object_acl(Bucket=w.bucket, Key=arn.split("/", 1)[1], GrantRead=f"id={ELASTICACHE_CANONICAL_USER}",
                            GrantReadACP=f"id={ELASTICACHE_CANONICAL_USER}")
    cme = unique()
    w.call("CreateReplicationGroup", ReplicationGroupId=cme, ReplicationGroupDescription="restore", Engine="redis",
           ClusterMode="enabled", AutomaticFailoverEnabled=True, MultiAZEnabled=True, NumNodeGroups=len(config),
           NodeGroupConfiguration=config, SnapshotArns=arns, Tags=tags)
    # Refusals.
    w.call("CreateReplicationGroup", "ReplicationGroupAlreadyExists", ReplicationGroupId="orders",
           ReplicationGroupDescription="d")
    w.call("CreateReplicationGroup", "InvalidParameterCombination", ReplicationGroupId=unique(),
           ReplicationGroupDescription="d", SnapshotName=w.node_snapshot, SnapshotArns=arns[:1])
    w.call("CreateReplicationGroup", "InvalidParameterValue", ReplicationGroupId=unique(),
           ReplicationGroupDescription="d", SnapshotArns=[w.arn("snapshot", w.node_snapshot)])
    w.call("CreateReplicationGroup", "InvalidParameterCombination", ReplicationGroupId=unique(),
           ReplicationGroupDescription="d", NumNodeGroups=3, AutomaticFailoverEnabled=True, SnapshotArns=arns)
    w.call("CreateReplicationGroup", "InvalidParameterValue", ReplicationGroupId=unique(),
           ReplicationGroupDescription="d", ClusterMode="enabled", NumNodeGroups=3, NodeGroupConfiguration=config,
           SnapshotArns=arns)  # cluster mode enabled without automatic failover
    w.call("CreateReplicationGroup", "SnapshotNotFoundFault", ReplicationGroupId=unique(),
           ReplicationGroupDescription="d", SnapshotName="nope")
    w.raw("CreateReplicationGroup", {"ReplicationGroupId": unique()}, "InvalidParameterValue")
    for group in (cmd, cme):
        w.wait_group(group, "available")
        w.call("DeleteReplicationGroup", ReplicationGroupId=group)
    for group in (cmd, cme):
        w.wait_group(group, "ReplicationGroupNotFoundFault")


def delete_replication_group(w: World) -> None:
    group = unique()
    w.call("CreateReplicationGroup", ReplicationGroupId=group, ReplicationGroupDescription="d",
           SnapshotName=w.node_snapshot)
    w.call("DeleteReplicationGroup", "InvalidReplicationGroupState", ReplicationGroupId=group)  # still creating
    w.wait_group(group, "available")
    w.call("DeleteReplicationGroup", ReplicationGroupId=group)
    w.wait_group(group, "ReplicationGroupNotFoundFault")
    w.call("DeleteReplicationGroup", "ReplicationGroupNotFoundFault", ReplicationGroupId=group)
    w.raw("DeleteReplicationGroup", {}, "InvalidParameterValue")


def list_tags_for_resource(w: World) -> None:
    w.call("ListTagsForResource", ResourceName=w.arn("replicationgroup", "fidelity"))
    w.call("ListTagsForResource", ResourceName=w.arn("snapshot", w.node_snapshot))
    w.call("ListTagsForResource", ResourceName=w.arn("cluster", "solo"))
    w.call("ListTagsForResource", ResourceName=w.arn("cluster", "fidelity-001"))
    w.call("ListTagsForResource", "ReplicationGroupNotFoundFault", ResourceName=w.arn("replicationgroup", "nope"))
    w.call("ListTagsForResource", "SnapshotNotFoundFault", ResourceName=w.arn("snapshot", "nope"))
    w.call("ListTagsForResource", "CacheClusterNotFound", ResourceName=w.arn("cluster", "nope"))
    w.call("ListTagsForResource", "InvalidARN", ResourceName="not-an-arn")
    w.call("ListTagsForResource", ResourceName=w.arn("serverlesscache", "sls-one"))
    w.call("ListTagsForResource", ResourceName=w.arn("serverlesscachesnapshot", w.serverless_snapshot))
    w.call("ListTagsForResource", "ServerlessCacheNotFoundFault", ResourceName=w.arn("serverlesscache", "nope"))
    w.call("ListTagsForResource", "ServerlessCacheSnapshotNotFoundFault",
           ResourceName=w.arn("serverlesscachesnapshot", "nope"))
    w.raw("ListTagsForResource", {}, "InvalidParameterValue")


def add_tags_to_resource(w: World) -> None:
    arn = w.arn("snapshot", w.node_snapshot)
    w.call("AddTagsToResource", ResourceName=arn, Tags=[{"Key": "ecb:verdict", "Value": "verified"}])
    w.call("AddTagsToResource", "MissingParameter", ResourceName=arn, Tags=[])
    w.call("AddTagsToResource", "InvalidARN", ResourceName=w.arn("cluster", "fidelity-001"),
           Tags=[{"Key": "k", "Value": "v"}])
    w.call("AddTagsToResource", "InvalidARN", ResourceName="not-an-arn", Tags=[{"Key": "k", "Value": "v"}])
    w.call("AddTagsToResource", "SnapshotNotFoundFault", ResourceName=w.arn("snapshot", "nope"),
           Tags=[{"Key": "k", "Value": "v"}])
    w.call("AddTagsToResource", "ReplicationGroupNotFoundFault", ResourceName=w.arn("replicationgroup", "nope"),
           Tags=[{"Key": "k", "Value": "v"}])
    w.call("AddTagsToResource", "CacheClusterNotFound", ResourceName=w.arn("cluster", "nope"),
           Tags=[{"Key": "k", "Value": "v"}])
    w.call("AddTagsToResource", "TagQuotaPerResourceExceeded", ResourceName=arn,
           Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    w.call("AddTagsToResource", ResourceName=w.arn("serverlesscachesnapshot", w.serverless_snapshot),
           Tags=[{"Key": "ecb:verdict", "Value": "verified"}])
    w.call("AddTagsToResource", ResourceName=w.arn("serverlesscache", "sls-three"), Tags=[{"Key": "k", "Value": "v"}])
    w.call("AddTagsToResource", "ServerlessCacheNotFoundFault", ResourceName=w.arn("serverlesscache", "nope"),
           Tags=[{"Key": "k", "Value": "v"}])
    w.call("AddTagsToResource", "ServerlessCacheSnapshotNotFoundFault",
           ResourceName=w.arn("serverlesscachesnapshot", "nope"), Tags=[{"Key": "k", "Value": "v"}])
    w.raw("AddTagsToResource", {"Tags.Tag.1.Key": "k"}, "InvalidParameterValue")  # ResourceName is required


def describe_events(w: World) -> None:
    since = datetime.now(timezone.utc) - timedelta(minutes=30)
    w.call("DescribeEvents")
    # What CheckExport sends: the source's events since the export started.
    w.call("DescribeEvents", SourceType="replication-group", SourceIdentifier="sessions", StartTime=since)
    w.call("DescribeEvents", SourceType="cache-cluster", SourceIdentifier="fidelity-002", StartTime=since)
    w.pages("DescribeEvents", Duration=60, PaginationConfig={"PageSize": 20})
    w.call("DescribeEvents", StartTime=since, EndTime=datetime.now(timezone.utc))
    w.call("DescribeEvents", SourceType="serverless-cache-snapshot", SourceIdentifier=w.serverless_snapshot,
           StartTime=since)
    w.call("DescribeEvents", SourceType="serverless-cache", StartTime=since)
    w.call("DescribeEvents", "InvalidParameterValue", MaxRecords=19)
    w.call("DescribeEvents", "InvalidParameterValue", SourceType="snapshot")
    w.call("DescribeEvents", "InvalidParameterValue", Marker="not-a-marker")
    w.call("DescribeEvents", "InvalidParameterCombination", StartTime=since, EndTime=since - timedelta(minutes=1))
    w.call("DescribeEvents", "InvalidParameterCombination", StartTime=since, EndTime=since + timedelta(minutes=1),
           Duration=5)


def describe_cache_parameters(w: World) -> None:
    # What `ecb doctor` sends: a group's reserved-memory-percent (default and user-set groups).
    w.call("DescribeCacheParameters", CacheParameterGroupName="default.redis7")
    w.call("DescribeCacheParameters", CacheParameterGroupName="fidelity-params", Source="user")
    w.pages("DescribeCacheParameters", CacheParameterGroupName="default.redis7", PaginationConfig={"PageSize": 20})
    w.call("DescribeCacheParameters", "CacheParameterGroupNotFound", CacheParameterGroupName="nope")
    w.call("DescribeCacheParameters", "InvalidParameterValue", CacheParameterGroupName="default.redis7", MaxRecords=19)
    w.raw("DescribeCacheParameters", {}, "InvalidParameterValue")


def describe_cache_subnet_groups(w: World) -> None:
    # What `ecb doctor` sends: the VPC of a target's subnet group.
    w.call("DescribeCacheSubnetGroups")
    w.call("DescribeCacheSubnetGroups", CacheSubnetGroupName="fidelity-subnets")
    w.call("DescribeCacheSubnetGroups", "CacheSubnetGroupNotFoundFault", CacheSubnetGroupName="nope")


def describe_serverless_caches(w: World) -> None:
    w.call("DescribeServerlessCaches")
    w.call("DescribeServerlessCaches", ServerlessCacheName="sls-one")
    w.call("DescribeServerlessCaches", ServerlessCacheName="sls-memo")
    w.pages("DescribeServerlessCaches", PaginationConfig={"PageSize": 1})
    w.stack.inject({"kind": "busy", "target": "sls-three", "reads": 1})
    w.call("DescribeServerlessCaches", ServerlessCacheName="sls-three")  # modifying
    w.call("DescribeServerlessCaches", "ServerlessCacheNotFoundFault", ServerlessCacheName="nope")
    w.call("DescribeServerlessCaches", "InvalidParameterValue", MaxResults=0)
    w.call("DescribeServerlessCaches", "InvalidParameterValue", NextToken="not-a-token")


def create_serverless_cache_snapshot(w: World) -> None:
    tags = [{"Key": "ecb:execution", "Value": "x"}]
    name = unique()
    w.call("CreateServerlessCacheSnapshot", ServerlessCacheSnapshotName=name, ServerlessCacheName="sls-three",
           KmsKeyId="alias/k", Tags=tags)
    w.call("CreateServerlessCacheSnapshot", "InvalidServerlessCacheStateFault", ServerlessCacheSnapshotName=unique(),
           ServerlessCacheName="sls-three")  # one is being taken
    w.call("CreateServerlessCacheSnapshot", "ServerlessCacheSnapshotAlreadyExistsFault",
           ServerlessCacheSnapshotName=name, ServerlessCacheName="sls-one")
    w.call("CreateServerlessCacheSnapshot", "ServerlessCacheNotFoundFault", ServerlessCacheSnapshotName=unique(),
           ServerlessCacheName="nope")
    w.call("CreateServerlessCacheSnapshot", "TagQuotaPerResourceExceeded", ServerlessCacheSnapshotName=unique(),
           ServerlessCacheName="sls-one", Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    w.stack.inject({"kind": "busy", "target": "sls-one", "reads": 1})
    w.call("CreateServerlessCacheSnapshot", "InvalidServerlessCacheStateFault", ServerlessCacheSnapshotName=unique(),
           ServerlessCacheName="sls-one")
    w.raw("CreateServerlessCacheSnapshot", {"ServerlessCacheName": "sls-one"}, "InvalidParameterValue")
    w.wait_serverless(name)
    w.call("DeleteServerlessCacheSnapshot", ServerlessCacheSnapshotName=name)


def describe_serverless_cache_snapshots(w: World) -> None:
    w.call("DescribeServerlessCacheSnapshots", ServerlessCacheSnapshotName=w.serverless_snapshot)
    w.call("DescribeServerlessCacheSnapshots", ServerlessCacheName="sls-three", SnapshotType="manual")
    w.pages("DescribeServerlessCacheSnapshots", PaginationConfig={"PageSize": 1})
    w.call("DescribeServerlessCacheSnapshots", "ServerlessCacheSnapshotNotFoundFault",
           ServerlessCacheSnapshotName="nope")
    w.call("DescribeServerlessCacheSnapshots", "ServerlessCacheNotFoundFault", ServerlessCacheName="nope")
    w.call("DescribeServerlessCacheSnapshots", "InvalidParameterValue", SnapshotType="weekly")
    w.call("DescribeServerlessCacheSnapshots", "InvalidParameterValue", MaxResults=51)


def export_serverless_cache_snapshot(w: World) -> None:
    name = w.serverless_snapshot
    w.call("ExportServerlessCacheSnapshot", ServerlessCacheSnapshotName=name, S3BucketName=w.bucket)
    w.call("ExportServerlessCacheSnapshot", "InvalidServerlessCacheSnapshotStateFault",
           ServerlessCacheSnapshotName=name, S3BucketName=w.bucket)  # exporting
    w.wait_serverless(name)
    w.call("ExportServerlessCacheSnapshot", "InvalidParameterValue", ServerlessCacheSnapshotName=name,
           S3BucketName=w.bucket)  # the bucket already holds the objects
    w.call("ExportServerlessCacheSnapshot", "InvalidParameterValue", ServerlessCacheSnapshotName=name,
           S3BucketName=f"missing-{uuid.uuid4().hex[:8]}")
    w.call("ExportServerlessCacheSnapshot", "ServerlessCacheSnapshotNotFoundFault",
           ServerlessCacheSnapshotName="nope", S3BucketName=w.bucket)
    memo = unique()
    w.call("CreateServerlessCacheSnapshot", ServerlessCacheSnapshotName=memo, ServerlessCacheName="sls-memo")
    w.wait_serverless(memo)
    w.call("ExportServerlessCacheSnapshot", "InvalidParameterValue", ServerlessCacheSnapshotName=memo,
           S3BucketName=w.bucket)  # Valkey and Redis OSS only
    w.call("DeleteServerlessCacheSnapshot", ServerlessCacheSnapshotName=memo)
    w.raw("ExportServerlessCacheSnapshot", {"ServerlessCacheSnapshotName": name}, "InvalidParameterValue")


def delete_serverless_cache_snapshot(w: World) -> None:
    name = unique()
    w.call("CreateServerlessCacheSnapshot", ServerlessCacheSnapshotName=name, ServerlessCacheName="sls-one")
    w.call("DeleteServerlessCacheSnapshot", "InvalidServerlessCacheSnapshotStateFault",
           ServerlessCacheSnapshotName=name)  # still creating
    w.wait_serverless(name)
    w.call("DeleteServerlessCacheSnapshot", ServerlessCacheSnapshotName=name)
    w.call("DeleteServerlessCacheSnapshot", "ServerlessCacheSnapshotNotFoundFault", ServerlessCacheSnapshotName=name)
    w.raw("DeleteServerlessCacheSnapshot", {}, "InvalidParameterValue")


def create_serverless_cache(w: World) -> None:
    tags = [{"Key": "ecb:restore", "Value": "x"}]
    from_serverless, from_node, memo = unique(), unique(), unique()
    w.call("CreateServerlessCache", ServerlessCacheName=from_serverless, Engine="redis", MajorEngineVersion="7",
           Description="restore", SnapshotArnsToRestore=[w.arn("serverlesscachesnapshot", w.serverless_snapshot)],
           Tags=tags, SecurityGroupIds=["sg-1"], SubnetIds=["subnet-1", "subnet-2"], KmsKeyId="alias/k",
           DailySnapshotTime="04:00", SnapshotRetentionLimit=1,
           CacheUsageLimits={"DataStorage": {"Maximum": 10, "Minimum": 1, "Unit": "GB"},
                             "ECPUPerSecond": {"Maximum": 5000, "Minimum": 1000}})
    w.call("CreateServerlessCache", ServerlessCacheName=from_node, Engine="valkey",
           SnapshotArnsToRestore=[w.arn("snapshot", w.node_snapshot)])
    w.call("CreateServerlessCache", ServerlessCacheName=memo, Engine="memcached")
    w.call("CreateServerlessCache", "ServerlessCacheAlreadyExistsFault", ServerlessCacheName="sls-one",
           Engine="redis")
    w.call("CreateServerlessCache", "InvalidParameterValue", ServerlessCacheName=unique(), Engine="redis",
           SnapshotArnsToRestore=[w.arn("replicationgroup", "orders")])
    w.call("CreateServerlessCache", "InvalidParameterValue", ServerlessCacheName=unique(), Engine="redis",
           SnapshotArnsToRestore=[w.arn("serverlesscachesnapshot", "nope")])
    w.call("CreateServerlessCache", "InvalidParameterCombination", ServerlessCacheName=unique(), Engine="memcached",
           UserGroupId="g")
    w.call("CreateServerlessCache", "TagQuotaPerResourceExceeded", ServerlessCacheName=unique(), Engine="redis",
           Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    w.raw("CreateServerlessCache", {"ServerlessCacheName": unique()}, "InvalidParameterValue")  # Engine is required
    for name in (from_serverless, from_node, memo):
        w.wait_serverless_cache(name, "available")
        w.call("DescribeServerlessCaches", ServerlessCacheName=name)
        w.call("DeleteServerlessCache", ServerlessCacheName=name)
    for name in (from_serverless, from_node, memo):
        w.wait_serverless_cache(name, "ServerlessCacheNotFoundFault")


def delete_serverless_cache(w: World) -> None:
    name, final = unique(), unique()
    w.call("CreateServerlessCache", ServerlessCacheName=name, Engine="redis")
    w.call("DeleteServerlessCache", "InvalidServerlessCacheStateFault", ServerlessCacheName=name)  # creating
    w.wait_serverless_cache(name, "available")
    w.call("DeleteServerlessCache", "ServerlessCacheSnapshotAlreadyExistsFault", ServerlessCacheName=name,
           FinalSnapshotName=w.serverless_snapshot)
    w.call("DeleteServerlessCache", ServerlessCacheName=name, FinalSnapshotName=final)
    w.call("DeleteServerlessCache", "ServerlessCacheNotFoundFault", ServerlessCacheName="nope")
    w.raw("DeleteServerlessCache", {}, "InvalidParameterValue")
    w.wait_serverless_cache(name, "ServerlessCacheNotFoundFault")
    w.wait_serverless(final)
    w.call("DeleteServerlessCacheSnapshot", ServerlessCacheSnapshotName=final)


SCENARIOS = {
    "DescribeReplicationGroups": describe_replication_groups,
    "DescribeCacheClusters": describe_cache_clusters,
    "CreateSnapshot": create_snapshot,
    "DescribeSnapshots": describe_snapshots,
    "CopySnapshot": copy_snapshot,
    "DeleteSnapshot": delete_snapshot,
    "CreateReplicationGroup": create_replication_group,
    "DeleteReplicationGroup": delete_replication_group,
    "ListTagsForResource": list_tags_for_resource,
    "AddTagsToResource": add_tags_to_resource,
    "DescribeEvents": describe_events,
    "DescribeCacheParameters": describe_cache_parameters,
    "DescribeCacheSubnetGroups": describe_cache_subnet_groups,
    "DescribeServerlessCaches": describe_serverless_caches,
    "CreateServerlessCacheSnapshot": create_serverless_cache_snapshot,
    "DescribeServerlessCacheSnapshots": describe_serverless_cache_snapshots,
    "ExportServerlessCacheSnapshot": export_serverless_cache_snapshot,
    "DeleteServerlessCacheSnapshot": delete_serverless_cache_snapshot,
    "CreateServerlessCache": create_serverless_cache,
    "DeleteServerlessCache": delete_serverless_cache,
}


# -- the tests ----------------------------------------------------------------------------------------------------

def error_table(stack) -> dict[str, list[dict]]:
    with urllib.request.urlopen(stack.elasticache_endpoint + "/_emulator/errors", timeout=10) as r:
        return json.loads(r.read())


def test_the_project_calls_operations_and_each_has_representative_requests():
    ops = project_operations()
    assert ops, f"no `.client.<operation>()` call found in {RUST_CLIENT}"
    missing = [op for op in ops if op not in SCENARIOS]
    assert not missing, f"the project calls {missing}: add their representative requests to SCENARIOS"


def test_every_action_the_emulator_serves_is_exercised(stack):
    served = {a for a in error_table(stack) if a != "*"}
    assert served == set(SCENARIOS), f"served {sorted(served)}, exercised {sorted(SCENARIOS)}"


def test_request_validation_is_on(world):
    with pytest.raises(ParamValidationError):
        world.ec.create_snapshot(CacheClusterId="solo")  # SnapshotName is required
    with pytest.raises(ParamValidationError):
        world.ec.describe_events(MaxRecords="many")


def test_the_error_table_is_the_models(stack):
    """Each code the emulator can answer, per action, is one the model lists for the action (or a common error),
    with the model's HTTP status."""
    table = error_table(stack)
    problems = []
    for action, rows in table.items():
        for row in rows:
            code, status = row["code"], row["status"]
            if action == "*":
                ok, want = code in COMMON_ERRORS, COMMON_ERRORS.get(code)
            else:
                if action not in MODEL.operation_names:
                    problems.append(f"{action}: not an ElastiCache operation")
                    continue
                ok, want = allowed_status(action, code)
            if not ok:
                problems.append(f"{action}: {code} is not in the model's errors for it nor a common error")
            elif want is not None and want != status:
                problems.append(f"{action}: {code} with HTTP {status}, the model says {want}")
    for (action, code), why in KNOWN_DISCREPANCIES.items():
        if code in model_errors(action):
            problems.append(f"KNOWN_DISCREPANCIES {action}/{code}: the model lists it now; remove the entry")
        if code not in [r["code"] for r in table.get(action, [])]:
            problems.append(f"KNOWN_DISCREPANCIES {action}/{code}: the emulator no longer answers it; remove it")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("operation", list(SCENARIOS))
def test_answers_match_the_model(world, operation):
    start = len(world.exchanges)
    SCENARIOS[operation](world)
    exchanges = world.exchanges[start:]
    mine = [x for x in exchanges if x.operation == operation]
    assert any(x.status < 300 for x in mine), f"the emulator never answered {operation} with success"
    assert not any(b"<Code>InvalidAction</Code>" in x.body for x in mine), f"{operation} is not served"
    problems = [p for x in exchanges for p in check_exchange(x)]
    assert not problems, "\n".join(problems)


def test_no_error_was_answered_outside_the_table(stack, world):
    """The run-time half of the table's check: the emulator journals any error it answers that its table does not
    list for the action (injected faults aside)."""
    unlisted = [e for e in stack.emulator_state()["journal"] if e["event"] == "UnlistedError"]
    assert not unlisted, unlisted
    table = error_table(stack)
    listed = {(a, r["code"]) for a, rows in table.items() for r in rows}
    exercised = {(a, c) for a, c in world.observed if c}
    never = sorted(p for p in listed if p not in exercised and p[0] != "*")
    # Reported, not failed: some refusals need states a test cannot reach cheaply.
    print(f"error codes in the table this module did not trigger: {never}")
