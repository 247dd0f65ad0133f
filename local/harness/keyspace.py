"""A keyspace with every type and encoding a redis-server writes into an RDB file, and per-key digests to compare two
servers by (`ecb restore-keys`' tests; the key-level recovery tests of issue 25).

`fill(client, prefix)` writes, under `prefix`, into databases 0 and 3 of a running redis-server (started with
`--enable-debug-command local` where the version has that setting, so that `DEBUG` answers):

- strings: plain, integer-encoded, a long compressible one (LZF in the RDB with `rdbcompression yes`), empty;
- lists: a small one (one listpack node), a quicklist of several nodes (`list-max-listpack-size 4`), and one with a
  plain node (an element over the packed threshold, `DEBUG QUICKLIST-PACKED-THRESHOLD`; left out where the server has
  no such setting);
- sets: intset, listpack (Redis 7.2+ / Valkey; on 7.0 a small set of strings is a hashtable), hashtable;
- sorted sets: listpack, skiplist; hashes: listpack, hashtable;
- a stream with a consumer group and pending entries;
- keys with a TTL (an hour or more), and a key whose name is not UTF-8.

It returns the `(db, key)` pairs it made, the key as bytes. `digests(client, keys)` gives `{(db, key): (DEBUG
DIGEST-VALUE, absolute expiry in Unix ms from PTTL, or None)}` for each of them that exists.
"""

from __future__ import annotations

import time

import redis

DBS = (0, 3)


def _client(client: redis.Redis, db: int) -> redis.Redis:
    """A client of `client`'s server for database `db` (a pooled connection never changes database under another)."""
    kwargs = dict(client.connection_pool.connection_kwargs)
    kwargs["db"] = db
    kwargs["decode_responses"] = False
    return redis.Redis(**kwargs)


def _version(client: redis.Redis) -> tuple[int, int]:
    info = client.info("server")
    text = str(info.get("valkey_version") or info["redis_version"])
    major, minor = text.split(".")[:2]
    return int(major), int(minor)


def fill(client: redis.Redis, prefix: str = "") -> list[tuple[int, bytes]]:
    """Writes one key of every type and encoding under `prefix` into databases 0 and 3; the `(db, key)` made."""
    client.config_set("rdbcompression", "yes")
    client.config_set("list-max-listpack-size", 4)
    made: list[tuple[int, bytes]] = []
    plain_nodes = True
    try:
        client.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", 64)
    except redis.ResponseError:
        plain_nodes = False
    try:
        for db in DBS:
            r = _client(client, db)
            p = f"{prefix}{'' if db == 0 else f'db{db}:'}"
            keys: list[str] = []

            def key(name: str) -> str:
                keys.append(p + name)
                return p + name

            r.set(key("str:plain"), "hello world")
            r.set(key("str:int"), 1234567)
            r.set(key("str:lzf"), "abcdefgh" * 64)
            r.set(key("str:empty"), "")
            r.rpush(key("list:small"), "a", "b", 3)
            r.rpush(key("list:quicklist"), *[f"element-{i}" for i in range(40)])
            if plain_nodes:
                r.rpush(key("list:plain"), "small", "x" * 200, "small-again")
            r.sadd(key("set:intset"), *range(20))
            r.sadd(key("set:small-strings"), "alpha", "beta", "gamma")
            r.sadd(key("set:hashtable"), *[f"member-{i}" for i in range(600)])
            r.zadd(key("zset:listpack"), {"one": 1, "two": 2.5, "three": -3})
            r.zadd(key("zset:skiplist"), {f"member-{i}": i / 7 for i in range(600)})
            r.hset(key("hash:listpack"), mapping={"name": "Ada", "age": 36})
            r.hset(key("hash:hashtable"), mapping={f"field-{i}": f"value-{i}" for i in range(600)})
            stream = key("stream:groups")
            for i in range(10):
                r.xadd(stream, {"n": i, "payload": "x" * 10})
            r.xgroup_create(stream, "workers", id="0")
            r.xreadgroup("workers", "alice", {stream: ">"}, count=4)
            r.xreadgroup("workers", "bob", {stream: ">"}, count=2)
            r.xgroup_create(stream, "idle", id="$")
            r.set(key("ttl:string"), "expires", ex=3600)
            r.hset(key("ttl:hash"), mapping={"a": 1})
            r.pexpire(p + "ttl:hash", 7_200_000)
            made += [(db, k.encode()) for k in keys]
            binary = p.encode() + b"bin:\xff\xfe\x00\x01"
            r.set(binary, b"\x00\xffvalue")
            made.append((db, binary))
    finally:
        if plain_nodes:
            client.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", 1 << 30)
    return made


def encodings(client: redis.Redis, keys: list[tuple[int, bytes]]) -> set[str]:
    """The `OBJECT ENCODING`s of `keys` (to check that `fill` made what it says)."""
    out = set()
    for db, k in keys:
        enc = _client(client, db).object("encoding", k)
        if enc is not None:
            out.add(enc.decode() if isinstance(enc, bytes) else enc)
    return out


def digests(client: redis.Redis, keys: list[tuple[int, bytes]] | None = None) -> dict[tuple[int, bytes], tuple]:
    """`{(db, key): (DEBUG DIGEST-VALUE, absolute expiry in Unix ms or None)}` for `keys` (default: every key of every
    database with keys) that exist."""
    if keys is None:
        keys = []
        for name, _ in client.info("keyspace").items():
            db = int(str(name).removeprefix("db"))
            keys += [(db, k) for k in _client(client, db).scan_iter(count=1000)]
    out = {}
    by_db: dict[int, list[bytes]] = {}
    for db, k in keys:
        by_db.setdefault(db, []).append(k)
    for db, ks in by_db.items():
        r = _client(client, db)
        pipe = r.pipeline(transaction=False)
        for k in ks:
            pipe.exists(k)
            pipe.execute_command("DEBUG", "DIGEST-VALUE", k)
            pipe.pttl(k)
        now = int(time.time() * 1000)
        answers = pipe.execute()
        for i, k in enumerate(ks):
            exists, digest, pttl = answers[3 * i: 3 * i + 3]
            if exists:
                out[(db, k)] = (digest[0], now + pttl if pttl >= 0 else None)
    return out


def same(a: tuple, b: tuple, slack_ms: int = 1000) -> bool:
    """Two `digests` entries agree: equal digests, both without expiry or expiries within `slack_ms`."""
    if a[0] != b[0]:
        return False
    if a[1] is None or b[1] is None:
        return a[1] is None and b[1] is None
    return abs(a[1] - b[1]) <= slack_ms
