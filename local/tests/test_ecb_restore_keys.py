"""`ecb restore-keys`: keys put back from an RDB file written by the real redis-server into live servers on free
loopback ports (standalone, with AUTH, and a 3-primary cluster), compared key by key with `DEBUG DIGEST-VALUE` and
PTTL (local/harness/keyspace.py makes every type and encoding). No AWS: the backup is a local file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis

import keyspace
from cargo import binary
from stack import free_port, wait_until

ECB = binary("ecb")


@pytest.fixture(autouse=True)
def _no_leftover_faults():
    """This module needs no stack (conftest's fixture of this name would start it)."""
    yield


class Server:
    """A redis-server on a free loopback port (optionally loading `rdb` at start); `stop()` ends it."""

    def __init__(self, workdir: Path, *extra: str, rdb: Path | None = None):
        self.port = free_port()
        self.dir = workdir / f"redis-{self.port}"
        self.dir.mkdir(parents=True)
        if rdb is not None:
            shutil.copy(rdb, self.dir / "dump.rdb")
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--dbfilename", "dump.rdb", "--enable-debug-command", "local", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        password = extra[extra.index("--requirepass") + 1] if "--requirepass" in extra else None
        self.client = redis.Redis(port=self.port, password=password)
        wait_until(self._ready, 30, "redis-server", self.proc)

    def _ready(self) -> bool:
        try:
            return bool(self.client.ping()) and self.client.info("persistence")["loading"] == 0
        except redis.ConnectionError:
            return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def writes(self) -> int:
        """Changes since the last save (every write counts; loading a file does not)."""
        return self.client.info("persistence")["rdb_changes_since_last_save"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture
def servers(tmp_path):
    """Starts servers (`start(*args, rdb=None)`) and stops them all after the test."""
    started: list[Server] = []

    def start(*extra: str, rdb: Path | None = None) -> Server:
        s = Server(tmp_path, *extra, rdb=rdb)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="module")
def backup(tmp_path_factory):
    """The backup: every type and encoding under `user:` and `acct:`, databases 0 and 3, SAVEd by redis-server.
    Returns (path, keys, digests)."""
    work = tmp_path_factory.mktemp("backup")
    source = Server(work)
    try:
        keys = keyspace.fill(source.client, "user:") + keyspace.fill(source.client, "acct:")
        source.client.save()
        digests = keyspace.digests(source.client, keys)
    finally:
        source.stop()
    path = work / "backup.rdb"
    shutil.copy(source.dir / "dump.rdb", path)
    assert len(digests) == len(keys)
    return path, keys, digests


def ecb(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs ecb with no AWS configuration at all (and `env` added)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), **(env or {})}
    return subprocess.run([str(ECB), *args], env=env, capture_output=True, text=True, timeout=timeout)


def restore(rdb: Path, to: str, *args: str) -> tuple[int, dict | None, str]:
    """`ecb --json restore-keys`: exit code, the JSON document (None if stdout is not one), stderr."""
    r = ecb("--json", "restore-keys", str(rdb), "--to", to, *args)
    try:
        doc = json.loads(r.stdout)
    except json.JSONDecodeError:
        doc = None
    return r.returncode, doc, r.stderr


def user_keys(keys, db: int | None = None):
    return [(d, k) for d, k in keys if k.startswith(b"user:") and (db is None or d == db)]


def delete(server: Server, keys):
    for db, k in keys:
        redis.Redis(port=server.port, db=db).delete(k)


def test_a_deleted_prefix_comes_back_exactly_and_nothing_else_is_touched(servers, backup):
    rdb, keys, source = backup
    live = servers(rdb=rdb)
    users = user_keys(keys)
    delete(live, users)
    acct = redis.Redis(port=live.port)
    acct.set("acct:str:plain", "modified after the backup")
    modified = keyspace.digests(live.client, [(0, b"acct:str:plain")])

    code, doc, err = restore(rdb, live.url, "--match", "user:*")

    assert code == 0, err
    assert (doc["restored"], doc["skipped"], doc["expired"], doc["failed"]) == (len(users), 0, 0, 0), doc
    assert not doc["keysTruncated"] and len(doc["keys"]) == len(users)
    assert all(k["result"] == "restored" and k["reason"] is None for k in doc["keys"])
    after = keyspace.digests(live.client)
    assert set(after) == set(source), "no key added or lost"
    for k in users:
        assert keyspace.same(after[k], source[k]), (k, after[k], source[k])
    assert after[(0, b"acct:str:plain")] == modified[(0, b"acct:str:plain")], "outside the pattern: untouched"
    for k in set(source) - set(users) - {(0, b"acct:str:plain")}:
        assert keyspace.same(after[k], source[k]), k
    binary_key = [k for k in doc["keys"] if "keyBase64" in k]
    assert len(binary_key) == 2 and all("key" not in k for k in binary_key)

    # Again, without --replace: every key exists and none is overwritten.
    redis.Redis(port=live.port).set("user:str:plain", "changed again")
    code, doc, err = restore(rdb, live.url, "--match", "user:*")
    assert code == 0, err
    assert (doc["restored"], doc["skipped"]) == (0, len(users))
    assert {(k["result"], k["reason"]) for k in doc["keys"]} == {("skipped", "exists")}
    assert redis.Redis(port=live.port).get("user:str:plain") == b"changed again"

    # With --replace the changed key is restored.
    code, doc, err = restore(rdb, live.url, "--match", "user:str:*", "--replace")
    assert code == 0, err
    assert doc["restored"] == 4 and doc["skipped"] == 0, doc
    assert keyspace.digests(live.client, [(0, b"user:str:plain")])[(0, b"user:str:plain")][0] == \
        source[(0, b"user:str:plain")][0]


def test_the_table_lists_skipped_keys(servers, backup):
    rdb, keys, _ = backup
    live = servers(rdb=rdb)
    r = ecb("restore-keys", str(rdb), "--match", "user:hash:*", "--to", live.url)
    assert r.returncode == 0, r.stderr
    assert "restored" in r.stdout and "user:hash:listpack" in r.stdout and "exists" in r.stdout, r.stdout
    assert "standalone" in r.stdout


def test_a_dry_run_writes_nothing(servers, backup):
    rdb, keys, source = backup
    live = servers(rdb=rdb)
    gone = [(0, b"user:hash:listpack"), (3, b"user:db3:zset:skiplist")]
    delete(live, gone)
    writes, digest = live.writes(), live.client.execute_command("DEBUG", "DIGEST")

    code, doc, err = restore(rdb, live.url, "--match", "user:*", "--dry-run")

    assert code == 0, err
    users = user_keys(keys)
    assert doc["dryRun"] is True
    assert (doc["restored"], doc["skipped"]) == (2, len(users) - 2), doc
    results = {(k["db"], k.get("key")): k["result"] for k in doc["keys"]}
    assert results[(0, "user:hash:listpack")] == "would-restore"
    assert results[(3, "user:db3:zset:skiplist")] == "would-restore"
    assert results[(0, "user:str:plain")] == "would-skip"
    assert live.writes() == writes, "INFO persistence: no write"
    assert live.client.execute_command("DEBUG", "DIGEST") == digest
    assert not redis.Redis(port=live.port).exists("user:hash:listpack")


def test_ttl_strip_restores_without_expiry(servers, backup):
    rdb, _, source = backup
    live = servers(rdb=rdb)
    ttl_keys = [(0, b"user:ttl:string"), (0, b"user:ttl:hash")]
    assert all(source[k][1] is not None for k in ttl_keys)
    delete(live, ttl_keys)

    code, doc, err = restore(rdb, live.url, "--match", "user:ttl:*", "--ttl", "strip", "--db", "0")

    assert code == 0 and doc["restored"] == 2, (err, doc)
    # DEBUG DIGEST-VALUE mixes in whether a key has an expiry: compare the values themselves.
    r = redis.Redis(port=live.port)
    assert r.get("user:ttl:string") == b"expires" and r.hgetall("user:ttl:hash") == {b"a": b"1"}
    assert r.pttl("user:ttl:string") == -1 and r.pttl("user:ttl:hash") == -1


def test_a_key_expired_since_the_backup_is_counted_and_not_written(servers, tmp_path):
    source = servers()
    source.client.set("user:soon", "gone soon", px=1500)
    source.client.set("user:later", "stays", ex=3600)
    source.client.save()
    rdb = tmp_path / "short.rdb"
    shutil.copy(source.dir / "dump.rdb", rdb)
    time.sleep(1.7)
    target = servers()

    code, doc, err = restore(rdb, target.url, "--match", "user:*")

    assert code == 0, err
    assert (doc["restored"], doc["expired"]) == (1, 1), doc
    assert {k["key"]: k["result"] for k in doc["keys"]} == {"user:soon": "expired", "user:later": "restored"}
    assert not target.client.exists("user:soon") and target.client.exists("user:later")
    assert 3500 < target.client.ttl("user:later") <= 3600


def test_every_type_and_encoding_round_trips_into_an_empty_server(servers, backup):
    rdb, keys, source = backup
    empty = servers()

    code, doc, err = restore(rdb, empty.url, "--match", "*")

    assert code == 0, err
    assert doc["restored"] == len(keys), doc
    after = keyspace.digests(empty.client)
    assert set(after) == set(source)
    different = [k for k in source if not keyspace.same(after[k], source[k])]
    assert not different, different
    assert {"intset", "listpack", "quicklist", "hashtable", "skiplist", "stream", "int", "raw", "embstr"} <= \
        keyspace.encodings(empty.client, keys)


def test_auth_with_the_password_and_a_wrong_one_never_shown(servers, backup):
    rdb, keys, _ = backup
    password = "pa ss/w@rd:1"
    locked = servers("--requirepass", password)
    encoded = "pa%20ss%2Fw%40rd%3A1"

    code, doc, err = restore(rdb, f"redis://default:{encoded}@127.0.0.1:{locked.port}", "--match", "user:str:*")
    assert code == 0, err
    assert doc["restored"] == 4
    assert password not in json.dumps(doc) and encoded not in json.dumps(doc)

    # From the environment, the URL stays out of the process list.
    r = ecb("--json", "restore-keys", str(rdb), "--match", "user:str:*", "--replace",
            env={"ECB_RESTORE_KEYS_TO": f"redis://:{encoded}@127.0.0.1:{locked.port}"})
    assert r.returncode == 0 and json.loads(r.stdout)["restored"] == 4, r.stderr

    for wrong in ("WRONG-pa55word", "also%2Fwrong"):
        r = ecb("--json", "restore-keys", str(rdb), "--match", "user:*", "--to",
                f"redis://:{wrong}@127.0.0.1:{locked.port}")
        assert r.returncode == 4, r.stderr
        assert f"127.0.0.1:{locked.port}" in r.stderr, r.stderr
        for spelling in (wrong, wrong.replace("%2F", "/")):
            assert spelling not in r.stderr + r.stdout, r.stderr


def test_an_unreachable_server_is_named_and_exits_4(backup):
    rdb, _, _ = backup
    port = free_port()
    r = ecb("restore-keys", str(rdb), "--match", "*", "--to", f"redis://u:hunter2@127.0.0.1:{port}")
    assert r.returncode == 4, r.stderr
    assert f"127.0.0.1:{port}" in r.stderr and "hunter2" not in r.stderr, r.stderr


def test_a_corrupt_backup_is_refused_and_nothing_is_written(servers, backup, tmp_path):
    rdb, _, _ = backup
    data = bytearray(rdb.read_bytes())
    data[len(data) // 2] ^= 0x5A
    corrupt = tmp_path / "corrupt.rdb"
    corrupt.write_bytes(bytes(data))
    target = servers()

    code, doc, err = restore(corrupt, target.url, "--match", "*")

    assert code == 2, err
    assert "not a sound RDB file" in err and "nothing was written" in err, err
    assert target.client.dbsize() == 0 and target.writes() == 0


def crc64_jones(data: bytes) -> int:
    """Redis' CRC-64 (Jones polynomial, reflected), as the RDB trailer has it."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x95AC9329AC4BC9B5 if c & 1 else c >> 1
        table.append(c)
    crc = 0
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def test_a_server_older_than_the_payloads_is_refused_before_writing(servers, tmp_path):
    source = servers()
    source.client.set("user:1", "v")
    source.client.save()
    data = (source.dir / "dump.rdb").read_bytes()
    assert data.startswith(b"REDIS0010"), data[:9]
    # The same file as a Redis 7.2 / Valkey 8 (RDB 11) would write it: its payloads say 11.
    newer = b"REDIS0011" + data[9:-8]
    rdb = tmp_path / "rdb11.rdb"
    rdb.write_bytes(newer + crc64_jones(newer).to_bytes(8, "little"))
    assert subprocess.run([str(binary("rdb-check")), str(rdb)], capture_output=True).returncode == 0
    target = servers()

    code, doc, err = restore(rdb, target.url, "--match", "*")

    assert code == 2, err
    assert "RDB version 11" in err and "redis 7.0" in err and "RDB 10" in err, err
    assert "Nothing was written" in err
    assert target.client.dbsize() == 0 and target.writes() == 0


def test_bad_arguments_exit_2_before_connecting(backup):
    rdb, _, _ = backup
    port = free_port()  # nothing listens: a refusal before connecting is the only way to exit 2
    for args, words in [
        (["--match", "user:[", "--to", f"redis://127.0.0.1:{port}"], "--match"),
        (["--match", "*", "--to", f"http://127.0.0.1:{port}"], "neither redis nor rediss"),
        (["--match", "*", "--to", f"redis://127.0.0.1:{port}/3"], "database 3"),
        (["--match", "*", "--to", f"redis://127.0.0.1:{port}/3", "--db", "2"], "database 3"),
        (["--match", "*", "--to", f"redis://127.0.0.1:{port}", "--ttl", "forever"], "forever"),
    ]:
        r = ecb("restore-keys", str(rdb), *args)
        assert r.returncode == 2, (args, r.stderr)
        assert words in r.stderr, (args, r.stderr)


def start_cluster(start, n: int = 3) -> list[Server]:
    """`n` cluster-mode primaries, the slots split evenly, `cluster_state:ok` on each."""
    # The bus port is a free port of its own (the default, port + 10000, may be taken or past 65535).
    buses = [free_port() for _ in range(n)]
    nodes = [start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
                   "--cluster-port", str(bus)) for bus in buses]
    per = 16384 // n
    for i, node in enumerate(nodes):
        last = 16383 if i == n - 1 else (i + 1) * per - 1
        node.client.execute_command("CLUSTER", "ADDSLOTSRANGE", i * per, last)
    for node, bus in zip(nodes[1:], buses[1:]):
        nodes[0].client.execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, bus)

    def ready() -> bool:
        return all(b"cluster_state:ok" in node.client.execute_command("CLUSTER", "INFO")
                   and len(node.client.execute_command("CLUSTER", "SLOTS")) == n for node in nodes)

    wait_until(ready, 30, "the cluster")
    return nodes


def owner(nodes: list[Server], key: bytes) -> Server:
    """The node serving `key`'s slot, by the cluster's own answer (CLUSTER KEYSLOT, CLUSTER SLOTS)."""
    slot = nodes[0].client.execute_command("CLUSTER", "KEYSLOT", key)
    for start, end, primary, *_ in nodes[0].client.execute_command("CLUSTER", "SLOTS"):
        if start <= slot <= end:
            return next(n for n in nodes if n.port == primary[1])
    raise AssertionError(f"no node serves slot {slot}")


def test_a_cluster_target_gets_each_key_on_the_primary_of_its_slot(servers, backup):
    rdb, keys, source = backup
    nodes = start_cluster(servers)
    any_node = nodes[1].url

    # Database 3 keys match too: a cluster has database 0 only, so they are refused by name, nothing written.
    code, doc, err = restore(rdb, any_node, "--match", "user:*")
    assert code == 2, err
    assert "user:db3:" in err and "database 3" in err and "--db" in err, err
    assert all(n.client.dbsize() == 0 and n.writes() == 0 for n in nodes)
    code, doc, err = restore(rdb, any_node, "--match", "user:*", "--db", "3")
    assert code == 2 and "database 3 cannot be selected" in err, err
    assert all(n.client.dbsize() == 0 for n in nodes)

    code, doc, err = restore(rdb, any_node, "--match", "user:*", "--db", "0")

    assert code == 0, err
    users = user_keys(keys, db=0)
    assert doc["restored"] == len(users), doc
    holders = set()
    for _, k in users:
        home = owner(nodes, k)
        got = keyspace.digests(home.client, [(0, k)])
        assert keyspace.same(got[(0, k)], source[(0, k)]), k
        holders.add(home.port)
        for other in nodes:
            if other is not home:
                assert other.client.execute_command("CLUSTER", "COUNTKEYSINSLOT",
                                                    other.client.execute_command("CLUSTER", "KEYSLOT", k)) == 0
    assert len(holders) >= 2, "keys spread over the primaries"
    assert sum(n.client.dbsize() for n in nodes) == len(users)

    # Again: every key exists on its primary (BUSYKEY there, not MOVED).
    code, doc, err = restore(rdb, nodes[2].url, "--match", "user:*", "--db", "0", "--dry-run")
    assert code == 0 and doc["skipped"] == len(users), (err, doc)
