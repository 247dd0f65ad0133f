"""The local stand-in for AWS: moto (S3 and the other AWS services; or, with `Stack(s3="fast")`, S3 objects in
local-s3, the s3s-fs stand-in of local/standins/s3-fs), the ElastiCache emulator (real redis-server nodes), cargo-lambda's
runtime emulator serving the Rust handlers and the local Step Functions endpoint (local/standins/sfn/server.mjs), all
on free 127.0.0.1 ports, stopped on exit (also on failure).

Used by `make demo` (local/harness/demo.py) and the end-to-end tests (local/tests). Executions run either through
local/standins/sfn/run.mjs, one process each (`start_execution` / `finish`), or through the Step Functions API of
server.mjs (`start_api_execution` / `finish_api_execution`); both interpret terraform/*.asl.json themselves. The
functions' AWS_ENDPOINT_URL_SFN is the endpoint, so notify reads the history of an execution started through the API;
a run.mjs execution is unknown to it (ExecutionDoesNotExist) and notify alerts from the event alone. The binaries are
cargo's, found in the target directory cargo reports (local/harness/cargo.py: CARGO_TARGET_DIR and .cargo/config are
honoured).
"""

from __future__ import annotations

import atexit
import http.server
import json
import os
import threading
import uuid
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

from cargo import ROOT, binary, build_local_s3

SFN_DIR = ROOT / "local" / "standins" / "sfn"
NODE = SFN_DIR / "node_modules" / ".bin" / "node"
REGION = "us-east-1"
# The deployed names of the state machines (run.mjs's ARNs; notify tells them apart by ARN).
MACHINE_NAMES = {"backup": "elasticache-backup", "restore": "elasticache-backup-restore",
                 "fleet": "elasticache-backup-fleet"}
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": REGION}


def emulator_binary() -> Path:
    """The ElastiCache emulator binary, where `cargo build` put it."""
    return binary("elasticache-emulator")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {proc.returncode}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what}: not ready after {timeout:.0f} s")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Stack:
    """Starts the local stack for one topology file; use as a context manager. `function_env` adds variables to every
    function (as Terraform sets them: `{"FLEET_INLINE_MAX_TARGETS": "8"}`). `sfn_wait_ms` / `sfn_retry_ms`: how long
    every Wait state and Retry interval of an execution started through the Step Functions endpoint takes (None: as
    the definition says), as `start_execution`'s wait_ms / retry_ms.

    `s3`: which S3 the functions, the emulator, the executions and `client("s3")` use. "moto" (the default): moto,
    like every other AWS service of the stack; it has everything the tests rely on (policies and ACLs as stored
    documents, versioning and delete markers, Object Lock, tagging, conditional requests) but serves ranged GETs at
    tens of MB/s at best, slower the larger the object (it copies the object for each). "fast": local-s3
    (local/standins/s3-fs: the s3s project's s3s-fs, filesystem-backed; ~1 GB/s) keeps the objects, and passes
    bucket-level configuration (policies, ACLs, ownership controls, versioning and Object Lock settings, tagging) to
    this stack's moto, so CreateSnapshot's preflight reads the stored policy document as it does on moto. It has no
    object-level Object Lock (PutObjectRetention), object ACLs, versions or delete markers, and ignores If-Match on
    GetObject: backups with `objectLock`, restores seeded by the object-ACL route (the stack's default) and the
    tests of versions stay on moto. Every other service stays on moto in both cases (`moto_endpoint`)."""

    def __init__(self, topology: Path, *, snapshot_min_seconds: float = 1.0, export_delay_seconds: float = 0.5,
                 default_bucket: str | None = None, function_env: dict | None = None,
                 sfn_wait_ms: int | None = 200, sfn_retry_ms: int | None = 200, log=print,
                 serverless_export_key: str | None = None, s3: str = "moto"):
        """`serverless_export_key`: the emulator's template for a serverless export's object keys
        (`--serverless-export-key`; default `{snapshot}-{shard}.rdb`): AWS does not document them."""
        if s3 not in ("moto", "fast"):
            raise ValueError(f"s3 must be 'moto' or 'fast', not {s3!r}")
        self.s3 = s3
        self.topology = Path(topology)
        self.serverless_export_key = serverless_export_key
        self.snapshot_min_seconds = snapshot_min_seconds
        self.export_delay_seconds = export_delay_seconds
        self.default_bucket = default_bucket
        self.function_env = dict(function_env or {})
        self.sfn_wait_ms = sfn_wait_ms
        self.sfn_retry_ms = sfn_retry_ms
        self.log = log
        self.workdir = Path(tempfile.mkdtemp(prefix="ecb-stack-"))
        self.procs: list[tuple[str, subprocess.Popen]] = []
        self.s3_endpoint = ""
        self.moto_endpoint = ""
        self.elasticache_endpoint = ""
        self.lambda_endpoint = ""
        self.sfn_endpoint = ""
        self.topology_info: dict = {}

    # -- lifecycle -------------------------------------------------------------------------------------------------
    def __enter__(self) -> "Stack":
        atexit.register(self.stop)
        previous = {}
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._on_signal)
        self._previous_signals = previous
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        for sig, handler in getattr(self, "_previous_signals", {}).items():
            signal.signal(sig, handler)

    def _on_signal(self, signum, _frame):
        self.stop()
        raise SystemExit(128 + signum)

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> subprocess.Popen:
        out = open(self.workdir / f"{name}.log", "wb")
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, cwd=ROOT, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def start(self) -> None:
        emulator_path = emulator_binary()
        if not emulator_path.exists():
            raise RuntimeError(f"{emulator_path} is missing: run `cargo build --workspace --bins` first")
        t0 = time.monotonic()
        # S3 and the other AWS services: moto server.
        s3_port = free_port()
        moto = self._spawn("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)])
        self.moto_endpoint = self.s3_endpoint = f"http://127.0.0.1:{s3_port}"
        wait_until(lambda: port_open(s3_port), 30, "moto server", moto)
        if self.s3 == "fast":
            # S3 objects: local-s3 (s3s-fs), bucket configuration passed on to moto.
            local_s3 = build_local_s3()
            s3_ready = self.workdir / "s3.json"
            fast = self._spawn("local-s3", [
                str(local_s3), "--root", str(self.workdir / "s3"), "--port", "0", "--ready-file", str(s3_ready),
                "--bucket-config-endpoint", self.moto_endpoint,
            ])
            wait_until(s3_ready.exists, 30, "local-s3", fast)
            self.s3_endpoint = json.loads(s3_ready.read_text())["endpoint"]

        # ElastiCache: our emulator, with real redis-server nodes.
        ready = self.workdir / "elasticache.json"
        emulator = self._spawn("elasticache-emulator", [
            str(emulator_path), "--topology", str(self.topology), "--ready-file", str(ready),
            "--state-dir", str(self.workdir / "elasticache"),
            "--snapshot-min-seconds", str(self.snapshot_min_seconds),
            "--export-delay-seconds", str(self.export_delay_seconds),
            *(["--serverless-export-key", self.serverless_export_key] if self.serverless_export_key else []),
        ], env={**CREDENTIALS, "AWS_ENDPOINT_URL_S3": self.s3_endpoint, "RUST_LOG": "info"})
        wait_until(ready.exists, 90, "ElastiCache emulator", emulator)
        self.topology_info = json.loads(ready.read_text())
        self.elasticache_endpoint = self.topology_info["endpoint"]

        # Lambda: cargo lambda watch serving the handlers, configured only through standard variables.
        lambda_port = free_port()
        self.lambda_endpoint = f"http://127.0.0.1:{lambda_port}"

        # Step Functions: the local endpoint, first, so that the functions (notify) can be pointed at it; it calls
        # the handlers at the Lambda port chosen above.
        sfn_ready = self.workdir / "sfn.json"
        sfn_args = [str(NODE), str(SFN_DIR / "server.mjs"), "--port", "0", "--ready-file", str(sfn_ready),
                    "--lambda-endpoint", self.lambda_endpoint]
        if self.sfn_wait_ms is not None:
            sfn_args += ["--wait-ms", str(self.sfn_wait_ms)]
        if self.sfn_retry_ms is not None:
            sfn_args += ["--retry-ms", str(self.sfn_retry_ms)]
        sfn = self._spawn("sfn-server", sfn_args, env={**CREDENTIALS, "AWS_ENDPOINT_URL_S3": self.s3_endpoint})
        wait_until(sfn_ready.exists, 30, "Step Functions endpoint", sfn)
        self.sfn_endpoint = json.loads(sfn_ready.read_text())["endpoint"]
        env_file = self.workdir / "functions.env"
        env = {**CREDENTIALS, "AWS_ENDPOINT_URL_ELASTICACHE": self.elasticache_endpoint,
               "AWS_ENDPOINT_URL_S3": self.s3_endpoint, "RUST_LOG": "info", "AWS_LAMBDA_LOG_FORMAT": "json"}
        if self.s3 == "moto":
            # 1 MiB parts (default 8): VerifyExport reads the local exports in several ranged GetObject requests.
            env["VERIFY_PART_MIB"] = "1"
        if self.default_bucket:
            env["BACKUP_BUCKET"] = self.default_bucket
        # Restores seed by the object-ACL route, as in a default region (us-east-1): copies in a bucket with ACLs
        # enabled, each granting ElastiCache's canonical user READ and READ_ACP (Terraform's seed bucket).
        s3 = boto3.client("s3", endpoint_url=self.s3_endpoint, region_name=REGION,
                          aws_access_key_id="test", aws_secret_access_key="test")
        s3.create_bucket(Bucket=SEED_BUCKET)
        s3.put_bucket_ownership_controls(
            Bucket=SEED_BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
        env.update({"SEEDING_MODE": "object-acl", "SEED_BUCKET": SEED_BUCKET})
        # notify: its secrets in moto's Secrets Manager, its sinks a local recorder (AlertSink); execution histories
        # from the local Step Functions endpoint (which knows only the executions started through it).
        self.sink = AlertSink()
        self.sink.start()
        secrets = boto3.client("secretsmanager", endpoint_url=self.moto_endpoint, region_name=REGION,
                               aws_access_key_id="test", aws_secret_access_key="test")
        secrets.create_secret(Name="ecb-local/slack", SecretString=f"{self.sink.url}/slack/T000/B000/XXXX")
        secrets.create_secret(Name="ecb-local/pagerduty", SecretString="R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12")
        env.update({"SLACK_WEBHOOK_SECRET_ARN": "ecb-local/slack",
                    "PAGERDUTY_ROUTING_KEY_SECRET_ARN": "ecb-local/pagerduty",
                    "PAGERDUTY_EVENTS_URL": f"{self.sink.url}/v2/enqueue",
                    "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.moto_endpoint,
                    "AWS_ENDPOINT_URL_SFN": self.sfn_endpoint,
                    "RESTORE_STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:123456789012:stateMachine:{MACHINE_NAMES['restore']}",
                    "FLEET_STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:123456789012:stateMachine:{MACHINE_NAMES['fleet']}"})
        env.update(self.function_env)
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        watch = self._spawn("cargo-lambda-watch", [
            "cargo", "lambda", "watch", "--ignore-changes",
            "-A", "127.0.0.1", "-P", str(lambda_port), "--env-file", str(env_file),
        ])
        wait_until(lambda: port_open(lambda_port), 120, "cargo lambda watch", watch)
        self.log(f"local stack up in {time.monotonic() - t0:.1f} s: S3 ({self.s3}) {self.s3_endpoint}, "
                 f"ElastiCache {self.elasticache_endpoint}, Lambda {self.lambda_endpoint}, "
                 f"Step Functions {self.sfn_endpoint} (logs in {self.workdir})")

    def stop(self) -> None:
        if getattr(self, "sink", None):
            self.sink.stop()
        procs, self.procs = self.procs, []
        for _, proc in reversed(procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for _, proc in reversed(procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)

    # -- clients ---------------------------------------------------------------------------------------------------
    def client(self, service: str):
        endpoint = {"s3": self.s3_endpoint, "elasticache": self.elasticache_endpoint,
                    "stepfunctions": self.sfn_endpoint}[service]
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                            aws_secret_access_key="test", config=Config(retries={"mode": "standard", "total_max_attempts": 1}))

    def nodes(self, group: str) -> list[dict]:
        return [n for shard in self.topology_info["groups"][group]["shards"] for n in shard["nodes"]]

    def primary_port(self, group: str) -> int:
        return next(n["port"] for n in self.nodes(group) if n["role"] == "primary")

    def serverless_ports(self, cache: str) -> list[int]:
        """The redis-server ports of a serverless cache of the topology, one per shard (none for Memcached)."""
        return self.topology_info["serverlessCaches"][cache]["ports"]

    # -- emulator control ------------------------------------------------------------------------------------------
    def _control(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.elasticache_endpoint + path, data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return json.loads(raw) if raw else None

    def create_backup_bucket(self, bucket: str) -> None:
        """A bucket as this project's Terraform makes it: ElastiCache may write exports to it and seed from it."""
        s3 = self.client("s3")
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(bucket_policy(bucket, REGION)))

    def allow_elasticache_seeding(self, bucket: str) -> None:
        """The bucket policy this project's Terraform writes for restores: ElastiCache may read the objects."""
        self.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(bucket_policy(bucket, REGION)))

    def inject(self, fault: dict) -> None:
        self._control("POST", "/_emulator/faults", fault)

    def clear_faults(self) -> None:
        self._control("DELETE", "/_emulator/faults")

    def emulator_state(self) -> dict:
        return self._control("GET", "/_emulator/state")

    # -- executions ------------------------------------------------------------------------------------------------
    def start_execution(self, execution_input: dict, *, name: str | None = None, wait_ms: int | None = 200,
                        retry_ms: int | None = 200, quiet: bool = True,
                        state_machine: str | None = None, machines: dict | None = None) -> subprocess.Popen:
        """Starts one execution of the real ASL (`terraform/<state_machine>.asl.json`: "backup", "restore" or
        "fleet") in the background; collect it with `finish`. Without `state_machine`, an input with `selector` or
        `targets` runs the fleet state machine (child executions of the backup one), any other the backup.
        `machines` replaces the definition of a child state machine (`{"backup": path}`), as run.mjs's --machine."""
        if state_machine is None:
            state_machine = "fleet" if "selector" in execution_input or "targets" in execution_input else "backup"
        result_file = self.workdir / f"result-{time.monotonic_ns()}.json"
        definition = ROOT / "terraform" / f"{state_machine}.asl.json"
        args = [str(NODE), str(SFN_DIR / "run.mjs"), "--lambda-endpoint", self.lambda_endpoint,
                "--definition", str(definition), "--machine-name", MACHINE_NAMES[state_machine],
                "--input", json.dumps(execution_input), "--result-file", str(result_file)]
        for key, path in (machines or {}).items():
            args += ["--machine", f"{key}={path}"]
        if name:
            args += ["--name", name]
        if wait_ms is not None:
            args += ["--wait-ms", str(wait_ms)]
        if retry_ms is not None:
            args += ["--retry-ms", str(retry_ms)]
        if quiet:
            args.append("--quiet")
        # A Distributed Map reads its items from, and writes its results to, the local S3.
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **CREDENTIALS, "AWS_REGION": REGION,
                                                     "AWS_ENDPOINT_URL_S3": self.s3_endpoint},
                                stdout=None if not quiet else subprocess.PIPE, stderr=subprocess.STDOUT)
        proc.result_file = result_file  # type: ignore[attr-defined]
        return proc

    @staticmethod
    def finish(proc: subprocess.Popen, timeout: float = 300) -> dict:
        out, _ = proc.communicate(timeout=timeout)
        if proc.returncode not in (0, 1):
            raise RuntimeError(f"run.mjs failed ({proc.returncode}): {(out or b'').decode(errors='replace')}")
        return json.loads(Path(proc.result_file).read_text())  # type: ignore[attr-defined]

    def run_execution(self, execution_input: dict, **kwargs) -> dict:
        return self.finish(self.start_execution(execution_input, **kwargs))

    @staticmethod
    def state_machine_arn(state_machine: str) -> str:
        """The local ARN of "backup", "restore" or "fleet"."""
        return f"arn:aws:states:{REGION}:123456789012:stateMachine:{MACHINE_NAMES[state_machine]}"

    def start_api_execution(self, execution_input: dict, *, name: str | None = None,
                            state_machine: str | None = None) -> str:
        """Starts an execution through the local Step Functions endpoint (StartExecution); returns its ARN. The state
        machine is chosen as `start_execution` chooses it; Wait states and retries take the stack's sfn_wait_ms /
        sfn_retry_ms."""
        if state_machine is None:
            state_machine = "fleet" if "selector" in execution_input or "targets" in execution_input else "backup"
        request = {"stateMachineArn": self.state_machine_arn(state_machine), "input": json.dumps(execution_input)}
        if name:
            request["name"] = name
        return self.client("stepfunctions").start_execution(**request)["executionArn"]

    def finish_api_execution(self, execution_arn: str, timeout: float = 300) -> dict:
        """Polls DescribeExecution until the execution ends; returns what `finish` returns, where the API says it:
        name, executionArn, status, error, cause, input, output (parsed), startDate, stopDate (ISO 8601)."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while (d := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout:.0f} s")
            time.sleep(0.2)
        return {"name": d["name"], "executionArn": d["executionArn"], "status": d["status"],
                "error": d.get("error"), "cause": d.get("cause"), "input": json.loads(d["input"]),
                "output": json.loads(d["output"]) if "output" in d else None,
                "startDate": d["startDate"].isoformat(), "stopDate": d["stopDate"].isoformat()}

    def run_api_execution(self, execution_input: dict, *, timeout: float = 300, **kwargs) -> dict:
        return self.finish_api_execution(self.start_api_execution(execution_input, **kwargs), timeout)

    def notify(self, result: dict, execution_input: dict) -> list[dict]:
        """Feeds the execution's final status as EventBridge delivers it ("Step Functions Execution Status Change")
        through notify's real code, served by cargo lambda watch; returns what notify sent (Slack and PagerDuty
        bodies, recorded by the local sink)."""
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Step Functions Execution Status Change",
                 "source": "aws.states", "account": "123456789012", "region": REGION,
                 "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "resources": [result["executionArn"]],
                 "detail": {"executionArn": result["executionArn"], "name": result["name"],
                            "stateMachineArn": result["executionArn"].rsplit(":", 1)[0].replace(":execution:", ":stateMachine:"),
                            "status": result["status"], "input": json.dumps(execution_input),
                            "output": json.dumps(result["output"]) if result.get("output") is not None else None,
                            "error": result.get("error"), "cause": result.get("cause")}}
        if not getattr(self, "_notify_warm", False):
            # cargo lambda watch builds the function inside its first invocation, which would eat that
            # invocation's time budget: warm it with an event it acknowledges without sending.
            self._invoke("notify", {"source": "local.warmup", "detail-type": "warm-up", "detail": {}})
            self._notify_warm = True
        start = len(self.sink.received)
        answer = self._invoke("notify", event)
        if isinstance(answer, dict) and answer.get("errorType"):
            raise RuntimeError(f"notify failed: {answer}")
        return self.sink.received[start:]

    def _invoke(self, function: str, payload: dict):
        req = urllib.request.Request(f"{self.lambda_endpoint}/2015-03-31/functions/{function}/invocations",
                                     data=json.dumps(payload).encode(), method="POST",
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return json.loads(e.read() or b"null")

    # -- the operator's CLI ----------------------------------------------------------------------------------------
    def ecb_env(self, bucket: str, **outputs) -> dict:
        """The environment `ecb` runs in against this stack: every service's endpoint (Step Functions at the local
        endpoint, ElastiCache at the emulator, S3 at the stack's S3, the rest in moto, Lambda's Invoke at cargo lambda watch) and a
        `terraform output -json` document naming this deployment (`bucket` as bucket_name; `outputs` add or replace
        outputs), passed as ECB_TERRAFORM_OUTPUT."""
        values = {
            "state_machine_arn": self.state_machine_arn("backup"),
            "restore_state_machine_arn": self.state_machine_arn("restore"),
            "fleet_state_machine_arn": self.state_machine_arn("fleet"),
            "bucket_name": bucket,
            "function_names": {"retention": "retention"},
            "retention_schedule_name": None,
            **outputs,
        }
        doc = self.workdir / f"terraform-output-{time.monotonic_ns()}.json"
        doc.write_text(json.dumps({k: {"sensitive": False, "type": "string", "value": v} for k, v in values.items()}))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ECB_", "AWS_ENDPOINT_URL")) and k not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")}
        env.update({**CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "ECB_TERRAFORM_OUTPUT": str(doc),
                    "AWS_ENDPOINT_URL_SFN": self.sfn_endpoint, "AWS_ENDPOINT_URL_S3": self.s3_endpoint,
                    "AWS_ENDPOINT_URL_ELASTICACHE": self.elasticache_endpoint,
                    "AWS_ENDPOINT_URL_LAMBDA": self.lambda_endpoint,
                    "AWS_ENDPOINT_URL_SCHEDULER": self.moto_endpoint,
                    "AWS_ENDPOINT_URL_SECRETS_MANAGER": self.moto_endpoint})
        return env

    # -- invariant -------------------------------------------------------------------------------------------------
    def deletions(self) -> list[dict]:
        """DeleteSnapshot and DeleteServerlessCacheSnapshot calls made by the backup's handlers (the Rust SDK's
        User-Agent), from the emulator's journal; tests tidying up with boto3 are not the pipeline, nor is the sweeper
        (the retention function's `app/` name), whose rule is a later verified backup (test_sweeper.py)."""
        return [e for e in self.emulator_state()["journal"]
                if e["event"] in ("DeleteSnapshot", "DeleteServerlessCacheSnapshot")
                and "aws-sdk-rust" in e.get("userAgent", "")
                and "app/elasticache-backup-retention" not in e.get("userAgent", "")]

    def assert_no_unsafe_deletion(self) -> None:
        """No source snapshot was deleted unless every shard object of its export was in S3 at that moment."""
        check_deletions(self.deletions())


class LocalS3:
    """local-s3 (local/standins/s3-fs: s3s-fs) alone, on a free 127.0.0.1 port, serving the directory `root`, with
    `buckets` created; `bucket_config_endpoint` (a moto) keeps bucket configuration (see `Stack`'s `s3`). A context
    manager; `endpoint` once started. For the tests of the stand-in itself and `make bench`."""

    def __init__(self, root: Path, *, buckets: tuple[str, ...] = (), bucket_config_endpoint: str | None = None):
        self.root = Path(root)
        self.buckets = buckets
        self.bucket_config_endpoint = bucket_config_endpoint
        self.endpoint = ""
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "LocalS3":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        binary_path = build_local_s3()
        self.root.mkdir(parents=True, exist_ok=True)
        ready = self.root.parent / f".{self.root.name}-local-s3.json"
        ready.unlink(missing_ok=True)
        args = [str(binary_path), "--root", str(self.root), "--port", "0", "--ready-file", str(ready)]
        for b in self.buckets:
            args += ["--bucket", b]
        if self.bucket_config_endpoint:
            args += ["--bucket-config-endpoint", self.bucket_config_endpoint]
        self.log_path = self.root.parent / f".{self.root.name}-local-s3.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            wait_until(ready.exists, 30, "local-s3", self.proc)
        except BaseException:
            self.stop()
            raise
        self.endpoint = json.loads(ready.read_text())["endpoint"]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def stats(self) -> dict:
        return local_s3_stats(self.endpoint)

    def client(self):
        return boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="test",
                            aws_secret_access_key="test",
                            config=Config(retries={"mode": "standard", "total_max_attempts": 1}))


def local_s3_stats(endpoint: str) -> dict:
    """local-s3's request counters: `{"requests": {"GetObject": n, ...}, "rangedGetObject": n}`."""
    with urllib.request.urlopen(f"{endpoint}/?local-s3-stats", timeout=10) as r:
        return json.loads(r.read())


class AlertSink:
    """A local Slack webhook and PagerDuty Events API: records each POST (path, JSON body) and accepts it."""

    def __init__(self):
        self.received: list[dict] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                sink.received.append({"path": self.path, "body": json.loads(body or b"null")})
                pd = self.path.startswith("/v2/enqueue")
                self.send_response(202 if pd else 200)
                self.end_headers()
                self.wfile.write(b'{"status":"success"}' if pd else b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def pages(self, since: int = 0) -> list[dict]:
        return [r["body"] for r in self.received[since:] if r["path"].startswith("/v2/enqueue")]


ELASTICACHE_CANONICAL_USER = "540804c33a284a299d2547575ce1010f2312ef3da9b3a053c8bc45bf233e4353"


# The bucket (ACLs enabled) ResolveBackup copies seed objects into in `object-acl` mode (Terraform's seed bucket).
SEED_BUCKET = "ecb-local-seeds"


def seed_policy(bucket: str, region: str) -> dict:
    """ElastiCache's read access for seeding by the bucket-policy route (User Guide, "Seeding a new self-designed
    cluster with an externally created backup": documented for opt-in regions): the regional service principal.
    Mirrors terraform/bucket.tf in `seeding_mode = "bucket-policy"`. In default regions the route is an object ACL
    (the seed bucket, SEED_BUCKET)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ElastiCacheSeedRead", "Effect": "Allow",
         "Principal": {"Service": f"{region}.elasticache-snapshot.amazonaws.com"},
         "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketAcl"],
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
    ]}


def export_statement(bucket: str, region: str) -> dict:
    """ElastiCache User Guide, "Exporting a backup": the regional service principal may write the export. Mirrors
    terraform/bucket.tf."""
    return {"Sid": "ElastiCacheSnapshotExport", "Effect": "Allow",
            "Principal": {"Service": f"{region}.elasticache-snapshot.amazonaws.com"},
            "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:GetBucketAcl",
                       "s3:ListMultipartUploadParts", "s3:ListBucketMultipartUploads"],
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}


def bucket_policy(bucket: str, region: str) -> dict:
    """The whole bucket policy Terraform writes: export and seeding."""
    seed = seed_policy(bucket, region)
    return {**seed, "Statement": [export_statement(bucket, region), *seed["Statement"]]}


def check_deletions(deletions: list[dict]) -> None:
    """Raises AssertionError for a deletion journaled without its export, or with an export object missing."""
    for d in deletions:
        objects = d.get("exportObjects") or []
        assert objects, f"snapshot {d['snapshotName']} was deleted but never exported"
        missing = [o["key"] for o in objects if not o["present"]]
        assert not missing, f"snapshot {d['snapshotName']} was deleted while {missing} were not in S3"
