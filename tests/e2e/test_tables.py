"""Alias databases: postalias builds a Berkeley DB hash: table that
Berkeley DB's own db5.3_dump reads back entry for entry, local(8) delivers
through it, and a rebuilt table is noticed by the running daemons."""
import shutil
import subprocess

import pytest

from instance import SRCDIR
from mailutil import token, message, send_raw, split_delivered, lf

POSTALIAS = SRCDIR / "postalias" / "postalias"
DB_DUMP = shutil.which("db5.3_dump")

ALIASES = """# test aliases
Postmaster: root
team: ann, bob
ann: $D/mail/ann-box/
bob: $D/mail/bob-box/
"""


def postalias(inst, *args):
    return subprocess.run([str(POSTALIAS), "-c", str(inst.etc), *args],
                          capture_output=True, text=True, timeout=30)


def db_entries(path):
    """The key/value pairs of a Berkeley DB file, as db5.3_dump prints them
    (-p: printable), with the NUL terminators posthorn stores."""
    out = subprocess.run([DB_DUMP, "-p", str(path)], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    lines = out.split("HEADER=END\n", 1)[1].split("DATA=END")[0].splitlines()
    pairs = [l[1:] for l in lines]          # each data line starts with a space
    return dict(zip(pairs[0::2], pairs[1::2]))


@pytest.mark.skipif(DB_DUMP is None, reason="db5.3_dump (db5.3-util) not installed")
def test_postalias_table_is_real_berkeley_db(make_instance):
    inst = make_instance(main=None, aliases=ALIASES, start=False)
    inst.main_overrides["alias_maps"] = f"hash:{inst.etc}/aliases"
    aliases = (inst.etc / "aliases").read_text()
    inst.write()
    (inst.etc / "aliases").write_text(aliases)
    r = postalias(inst, f"hash:{inst.etc}/aliases")
    assert r.returncode == 0, r.stderr
    entries = db_entries(inst.etc / "aliases.db")
    d = str(inst.dir)
    assert entries == {
        "postmaster\\00": "root\\00",
        "team\\00": "ann, bob\\00",
        "ann\\00": f"{d}/mail/ann-box/\\00",
        "bob\\00": f"{d}/mail/bob-box/\\00",
    }
    r = postalias(inst, "-q", "TEAM", f"hash:{inst.etc}/aliases")
    assert (r.returncode, r.stdout.strip()) == (0, "ann, bob")
    r = postalias(inst, "-q", "nobody-here", f"hash:{inst.etc}/aliases")
    assert r.returncode == 1

    inst.start()
    content = message(token("hash"))
    r = send_raw(inst, "s@client.example", ["team@localhost"], content)
    assert r["end"][0] == 250
    for box in ("ann-box", "bob-box"):
        msgs = inst.maildir_messages(box, 1)
        assert len(msgs) == 1, box
        assert split_delivered(msgs[0])[1] == lf(content)

    # Rebuild while running: the next delivery uses the new table.
    (inst.etc / "aliases").write_text(aliases.replace("team: ann, bob", "team: bob"))
    r = postalias(inst, f"hash:{inst.etc}/aliases")
    assert r.returncode == 0, r.stderr
    assert db_entries(inst.etc / "aliases.db")["team\\00"] == "bob\\00"
    content2 = message(token("rebuilt"))
    r = send_raw(inst, "s@client.example", ["team@localhost"], content2)
    assert r["end"][0] == 250
    assert len(inst.maildir_messages("bob-box", 2)) == 2
    assert inst.wait_queue_empty()
    assert len(inst.maildir_messages("ann-box", 2, timeout=1)) == 1


def test_postalias_rejects_bad_usage(make_instance):
    inst = make_instance(start=False)
    r = postalias(inst, "-q")
    assert r.returncode == 64, r.stderr
    r = postalias(inst, f"nosuchtype:{inst.etc}/aliases")
    assert r.returncode != 0 and "nosuchtype" in r.stderr
