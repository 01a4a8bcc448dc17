"""postcat (issue 4): a deferred message shown by queue id with its
envelope, header and body; -e/-h/-b select sections; file names work;
a corrupt or truncated file gives exit status 1 and a clear message."""
import os
import re
import time

import pytest

from conftest import needs
from instance import built
from mailutil import token, message, send_raw
from relayutil import FAST_RETRY

pytestmark = pytest.mark.skipif(not built("postcat"), reason="postcat not built")


def wait_for(predicate, timeout=20.0):
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def deferred(make_instance, sinks):
    """An instance with one message deferred by a sink: (inst, qid,
    subject, path relative to the queue)."""
    needs("smtp")
    sink = sinks()
    sink.rcpt_default = "451 4.3.0 try again later"
    main = dict(FAST_RETRY, relayhost=f"[{sink.host}]:{sink.port}",
                minimal_backoff_time="300s", maximal_backoff_time="600s")
    inst = make_instance(main=main)
    subj = token("cat")
    body = b"First body line.\r\n" + b"x" * 3000 + b"\r\nLast line.\r\n"
    content = message(subj, body=body, to="one@remote.test")
    assert send_raw(inst, "s@client.example", ["one@remote.test", "two@remote.test"],
                    content)["end"][0] == 250
    assert wait_for(lambda: inst.queue_files("deferred")), inst.log_text()[-3000:]
    path = inst.queue_files("deferred")[0]
    return inst, os.path.basename(path), subj, path


def test_postcat_by_queue_id(deferred):
    inst, qid, subj, path = deferred
    r = inst.command("postcat", "-q", qid)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith(f"*** ENVELOPE RECORDS {path} ***\n")
    assert re.search(r"^message_size: \d+ \d+ 2$", out, re.M)
    assert re.search(r"^message_arrival_time: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$",
                     out, re.M)
    assert "\nsender: s@client.example\n" in out
    assert "\nrecipient: one@remote.test\n" in out
    assert "\nrecipient: two@remote.test\n" in out
    assert f"\n*** MESSAGE CONTENTS {path} ***\n" in out
    assert f"\nSubject: {subj}\n" in out
    assert "\nFirst body line.\n" + "x" * 3000 + "\nLast line.\n" in out
    assert f"\n*** HEADER EXTRACTED {path} ***\n" in out
    assert out.endswith(f"*** MESSAGE FILE END {path} ***\n")
    # Sections in order.
    assert (out.index("ENVELOPE RECORDS") < out.index("sender:")
            < out.index("MESSAGE CONTENTS") < out.index("Subject:")
            < out.index("HEADER EXTRACTED") < out.index("MESSAGE FILE END"))


def test_postcat_sections(deferred):
    inst, qid, subj, path = deferred
    env = inst.command("postcat", "-q", "-e", qid)
    assert env.returncode == 0
    assert "sender: s@client.example" in env.stdout
    assert "Subject:" not in env.stdout and "First body line" not in env.stdout
    hdr = inst.command("postcat", "-q", "-h", qid)
    assert hdr.returncode == 0
    assert f"Subject: {subj}" in hdr.stdout
    assert "***" not in hdr.stdout and "sender:" not in hdr.stdout
    assert "First body line" not in hdr.stdout
    body = inst.command("postcat", "-q", "-b", qid)
    assert body.returncode == 0
    assert body.stdout.startswith("\nFirst body line.\n")
    assert "Subject:" not in body.stdout
    both = inst.command("postcat", "-q", "-hb", qid)
    assert both.stdout == hdr.stdout + body.stdout


def test_postcat_file_names(deferred):
    inst, qid, subj, path = deferred
    r = inst.command("postcat", str(inst.queue / path))
    assert r.returncode == 0, r.stderr
    assert f"Subject: {subj}" in r.stdout
    r = inst.command("postcat", "-q", "0123456789ABCDE")
    assert r.returncode == 1
    assert "0123456789ABCDE: no such message in the queue" in r.stderr
    r = inst.command("postcat", "-q", "../../etc/passwd")
    assert r.returncode == 1 and "invalid queue id" in r.stderr


def test_postcat_corrupt_file(deferred, tmp_path):
    inst, qid, subj, path = deferred
    data = (inst.queue / path).read_bytes()
    trunc = tmp_path / "truncated"
    trunc.write_bytes(data[: len(data) // 2])
    r = inst.command("postcat", str(trunc))
    assert r.returncode == 1
    assert re.search(r"postcat: error: .*truncated(: no end record after offset \d+)?|"
                     r"malformed record at offset \d+", r.stderr), r.stderr
    bad = tmp_path / "bad"
    bad.write_bytes(data[:20] + b"\x00\xff\xff\xff\xff" + data[20:])
    r = inst.command("postcat", str(bad))
    assert r.returncode == 1
    assert "offset" in r.stderr, r.stderr
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    r = inst.command("postcat", str(empty))
    assert r.returncode == 1 and "truncated" in r.stderr
    r = inst.command("postcat", str(tmp_path))
    assert r.returncode == 1
