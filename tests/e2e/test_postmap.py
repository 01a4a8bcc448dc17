"""Lookup tables built by postmap: a hash:/btree: table that Berkeley DB's
own db5.3_dump reads back entry for entry, the query (-q, -q -), dump (-s),
delete (-d) and incremental add (-i) modes, and a transport_maps table
that routes mail of a running instance."""
import shutil
import subprocess

import pytest

from instance import SRCDIR
from mailutil import token, message, send_raw

POSTMAP = SRCDIR / "postmap" / "postmap"
DB_DUMP = shutil.which("db5.3_dump")

SOURCE = """# a transport table
# with comments

Example.COM     smtp:[mail.example.com]:2525
Blocked.Example error:5.7.1 no thanks
multi.example   first part
    second part
lower.example\tlmtp:unix:/run/lmtp
"""


def postmap(inst, *args, stdin=None):
    return subprocess.run([str(POSTMAP), "-c", str(inst.etc), *args],
                          capture_output=True, text=True, timeout=30,
                          input=stdin if stdin is not None else "")


def db_entries(path):
    """The key/value pairs of a Berkeley DB file, as db5.3_dump -p prints
    them (with the NUL terminators posthorn stores)."""
    out = subprocess.run([DB_DUMP, "-p", str(path)], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    lines = out.split("HEADER=END\n", 1)[1].split("DATA=END")[0].splitlines()
    pairs = [l[1:] for l in lines]          # each data line starts with a space
    return dict(zip(pairs[0::2], pairs[1::2]))


def expected_db(entries):
    return {f"{k}\\00": f"{v}\\00" for k, v in entries.items()}


@pytest.fixture
def table_inst(make_instance):
    return make_instance(start=False)


def source_entries(inst):
    """What postmap must store for SOURCE, parsed independently."""
    r = postmap(inst, "-q", "-", f"texthash:{inst.etc}/src",
                stdin="example.com\nblocked.example\nmulti.example\nlower.example\n")
    assert r.returncode == 0, r.stderr
    return dict(line.split("\t", 1) for line in r.stdout.splitlines())


@pytest.mark.skipif(DB_DUMP is None, reason="db5.3_dump (db5.3-util) not installed")
@pytest.mark.parametrize("dbtype", ["hash", "btree"])
def test_postmap_builds_real_berkeley_db(table_inst, dbtype):
    inst = table_inst
    src = inst.etc / "src"
    src.write_text(SOURCE)
    r = postmap(inst, f"{dbtype}:{src}")
    assert r.returncode == 0, r.stderr
    want = {
        "example.com": "smtp:[mail.example.com]:2525",
        "blocked.example": "error:5.7.1 no thanks",
        "lower.example": "lmtp:unix:/run/lmtp",
    }
    entries = db_entries(inst.etc / "src.db")
    multi = entries.pop("multi.example\\00")
    assert multi.startswith("first part") and "second part" in multi
    assert multi.endswith("\\00")
    assert entries == expected_db(want)
    # the db agrees with the same text read as texthash:
    assert source_entries(inst)["multi.example"] + "\\00" == multi
    assert not list(inst.etc.glob("src.db.tmp*"))

    spec = f"{dbtype}:{src}"
    r = postmap(inst, "-q", "EXAMPLE.com", spec)
    assert (r.returncode, r.stdout) == (0, "smtp:[mail.example.com]:2525\n")
    r = postmap(inst, "-q", "absent.example", spec)
    assert (r.returncode, r.stdout) == (1, "")
    r = postmap(inst, "-q", "-", spec, stdin="Blocked.Example\nnope\nlower.example\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("Blocked.Example\terror:5.7.1 no thanks\n"
                        "lower.example\tlmtp:unix:/run/lmtp\n")
    r = postmap(inst, "-q", "-", spec, stdin="nope\nother\n")
    assert (r.returncode, r.stdout) == (1, "")

    r = postmap(inst, "-s", spec)
    assert r.returncode == 0, r.stderr
    dumped = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    assert {k: v for k, v in dumped.items() if k != "multi.example"} == want

    r = postmap(inst, "-d", "LOWER.example", spec)
    assert r.returncode == 0, r.stderr
    r = postmap(inst, "-d", "lower.example", spec)
    assert r.returncode == 1
    r = postmap(inst, "-q", "lower.example", spec)
    assert r.returncode == 1
    assert "lower.example\\00" not in db_entries(inst.etc / "src.db")

    r = postmap(inst, "-i", spec, stdin="New.Example smtp:[new]\nexample.com ignored\n")
    assert r.returncode == 0, r.stderr
    assert "duplicate" in r.stderr
    entries = db_entries(inst.etc / "src.db")
    assert entries["new.example\\00"] == "smtp:[new]\\00"
    assert entries["example.com\\00"] == "smtp:[mail.example.com]:2525\\00"
    r = postmap(inst, "-r", "-i", spec, stdin="example.com replaced\n")
    assert r.returncode == 0, r.stderr
    assert db_entries(inst.etc / "src.db")["example.com\\00"] == "replaced\\00"
    assert not list(inst.etc.glob("src.db.tmp*"))

    # -i creates a missing table
    r = postmap(inst, "-i", f"{dbtype}:{inst.etc}/fresh", stdin="a b\n")
    assert r.returncode == 0, r.stderr
    assert db_entries(inst.etc / "fresh.db") == expected_db({"a": "b"})


def test_postmap_default_type_and_errors(table_inst):
    inst = table_inst
    src = inst.etc / "plain"
    src.write_text("Key value\n")
    r = postmap(inst, str(src))     # default_database_type (hash)
    assert r.returncode == 0, r.stderr
    r = postmap(inst, "-q", "key", f"hash:{src}")
    assert (r.returncode, r.stdout) == (0, "value\n")
    r = postmap(inst, "-q", "key", str(src))
    assert (r.returncode, r.stdout) == (0, "value\n")

    r = postmap(inst)
    assert r.returncode == 64 and "usage" in r.stderr
    r = postmap(inst, "-q", "a", "-s", str(src))
    assert r.returncode == 64
    r = postmap(inst, f"ldap:{src}")
    assert r.returncode == 64 and "unsupported" in r.stderr
    r = postmap(inst, f"hash:{inst.etc}/missing")
    assert r.returncode == 66 and "missing" in r.stderr
    r = postmap(inst, "-d", "key", f"hash:{inst.etc}/missing")
    assert r.returncode == 75 and "missing.db" in r.stderr
    r = postmap(inst, "-q", "key", f"hash:{inst.etc}/missing")
    assert r.returncode == 75


def test_transport_maps_built_by_postmap(table_inst):
    inst = table_inst
    transport = inst.etc / "transport"
    transport.write_text("# route by domain\nBlocked.Example error:5.7.1 no thanks\n")
    r = postmap(inst, f"hash:{transport}")
    assert r.returncode == 0, r.stderr
    # entries added with postmap -i route too
    r = postmap(inst, "-i", f"hash:{transport}",
                stdin="other.example error:5.7.2 go away\n")
    assert r.returncode == 0, r.stderr
    inst.main_overrides["transport_maps"] = f"hash:{transport}"
    inst.write()
    inst.start()
    r = send_raw(inst, "", ["someone@blocked.example"], message(token("pm")))
    assert r["end"][0] == 250
    line = inst.wait_log_re(r"to=<someone@blocked\.example>.*dsn=5\.7\.1, "
                            r"status=bounced \(no thanks\)")
    assert line, inst.log_text()[-3000:]
    r = send_raw(inst, "", ["x@other.example"], message(token("pm2")))
    assert r["end"][0] == 250
    assert inst.wait_log_re(r"to=<x@other\.example>.*dsn=5\.7\.2, "
                            r"status=bounced \(go away\)"), inst.log_text()[-3000:]
    # a domain without an entry still goes the usual way
    r = send_raw(inst, "", ["root@localhost"], message(token("pm3")))
    assert r["end"][0] == 250
    assert inst.wait_log_re(r"to=<root@localhost>.*status=sent"), inst.log_text()[-3000:]


def test_running_daemons_notice_a_rebuilt_table(table_inst):
    """The chrooted qmgr cannot see the table's path: it notices the
    replaced file through its open descriptor and restarts itself, so the
    next message is routed by the new table without posthorn reload."""
    inst = table_inst
    transport = inst.etc / "transport"
    transport.write_text("changing.example error:5.7.1 old table\n")
    assert postmap(inst, f"hash:{transport}").returncode == 0
    inst.main_overrides["transport_maps"] = f"hash:{transport}"
    inst.write()
    inst.start()
    r = send_raw(inst, "", ["a@changing.example"], message(token("old")))
    assert r["end"][0] == 250
    assert inst.wait_log_re(r"to=<a@changing\.example>.*\(old table\)"), inst.log_text()[-3000:]
    transport.write_text("changing.example error:5.7.1 new table\n")
    assert postmap(inst, f"hash:{transport}").returncode == 0
    r = send_raw(inst, "", ["b@changing.example"], message(token("new")))
    assert r["end"][0] == 250
    assert inst.wait_log_re(r"to=<b@changing\.example>.*\(new table\)"), inst.log_text()[-3000:]
    assert "old table" not in "\n".join(
        l for l in inst.log_text().splitlines() if "b@changing.example" in l)
    assert inst.wait_log_re(r"table hash:\S+transport has changed -- restarting")
