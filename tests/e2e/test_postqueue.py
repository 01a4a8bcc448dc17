"""postqueue(1), showq(8) and flush(8) (issue 4): the mailq listing and
postqueue -j of real deferred mail, checked against the queue files;
flushing everything (-f), one message (-i) and one site (-s); use by an
unprivileged user through the set-group-id copy and its refusal by
authorized_mailq_users; and Debian's prometheus-postfix-exporter reading
our showq socket."""
import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import needs
from instance import built, free_port
from mailutil import token, message, send_raw

EXPORTER = Path(os.environ.get("POSTHORN_TEST_TOOLS", "/var/cache/posthorn-test-tools")) \
    / "prometheus-postfix-exporter" / "usr" / "bin" / "prometheus-postfix-exporter"

LISTING_HEADER = re.compile(r"^-Queue ID- +--Size-- ----Arrival Time---- -Sender/Recipient-------$")
ENTRY_LINE = re.compile(r"^(?P<id>[0-9A-Za-z]+)(?P<mark>[*! ]) +(?P<size>\d+) "
                        r"(?P<date>\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d) +(?P<sender>\S+)$")


def routes(**dest):
    items = ", ".join(f"{d}=smtp:[127.0.0.1]:{p}" for d, p in dest.items())
    return f"inline:{{ {items} }}"


def read_records(path):
    """(type, data) of every record of a queue file."""
    data = Path(path).read_bytes()
    out, i = [], 0
    while i < len(data):
        rtype = chr(data[i])
        i += 1
        length, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            length |= (b & 0x7f) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((rtype, data[i:i + length].decode("utf-8", "replace")))
        i += length
    return out


def queue_file_facts(inst, queue, qid):
    """arrival, size (Z content size), sender and pending recipients."""
    paths = [p for p in inst.queue_files(queue) if p.endswith("/" + qid)]
    assert paths, f"{qid} not in {queue}/"
    recs = read_records(inst.queue / paths[0])
    facts = {"rcpts": []}
    for t, d in recs:
        if t == "Z":
            facts["size"] = int(d.split()[0])
        elif t == "T":
            facts["arrival"] = int(d.split(".")[0])
        elif t == "S":
            facts["sender"] = d
        elif t == "R":
            facts["rcpts"].append(d)
    return facts


def deferred_ids(inst):
    return sorted(p.rsplit("/", 1)[1] for p in inst.queue_files("deferred"))


def wait_deferred(inst, n, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ids = deferred_ids(inst)
        if len(ids) >= n and not inst.queue_files("incoming") and not inst.queue_files("active"):
            # the defer/ logs are written before the move
            return ids
        time.sleep(0.2)
    raise AssertionError(f"expected {n} deferred messages:\n{inst.log_text()[-3000:]}")


def postqueue(inst, *args, user=None):
    return inst.command("postqueue", *args, user=user)


def parse_listing(text):
    """[{id, mark, size, sender, reasons, rcpts}], totals line."""
    lines = text.splitlines()
    assert LISTING_HEADER.match(lines[0]), lines[0]
    entries, cur = [], None
    for line in lines[1:]:
        m = ENTRY_LINE.match(line)
        if m:
            cur = dict(m.groupdict(), reasons=[], rcpts=[])
            cur["size"] = int(cur["size"])
            entries.append(cur)
        elif line.startswith("("):
            cur["reasons"].append(line)
        elif line.startswith(" "):
            cur["rcpts"].append(line.strip())
        elif line.startswith("-- "):
            return entries, line
    raise AssertionError("no totals line:\n" + text)


@pytest.fixture
def deferring(make_instance, sinks):
    """An instance whose mail for a.test and b.test reaches sinks that
    answer 451 to every recipient, so it stays deferred (default backoff:
    minutes) until flushed."""
    needs("smtp", "showq", "flush")

    def factory(**main):
        a, b = sinks(), sinks()
        for s in (a, b):
            s.rcpt_default = "451 4.3.0 try again later"
        settings = {"transport_maps": routes(**{"a.test": a.port, "b.test": b.port})}
        settings.update(main)
        inst = make_instance(main=settings)
        return inst, a, b

    return factory


def send(inst, sender, rcpts, tag="pq"):
    content = message(token(tag), to=rcpts[0])
    r = send_raw(inst, sender, rcpts, content)
    assert r["end"][0] == 250, r
    return content


def test_empty_queue(make_instance):
    needs("showq")
    inst = make_instance()
    r = postqueue(inst, "-p")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Mail queue is empty\n"
    r = postqueue(inst, "-j")
    assert r.returncode == 0 and r.stdout == ""


def test_listing_and_json_match_queue_files(deferring):
    inst, a, b = deferring()
    send(inst, "alice@client.example", ["x@a.test", "y@a.test"])
    send(inst, "", ["z@b.test"])
    ids = wait_deferred(inst, 2)

    r = postqueue(inst, "-p")
    assert r.returncode == 0, r.stderr
    entries, totals = parse_listing(r.stdout)
    assert sorted(e["id"] for e in entries) == ids
    total = 0
    for e in entries:
        facts = queue_file_facts(inst, "deferred", e["id"])
        assert e["mark"] == " "
        assert e["size"] == facts["size"]
        total += facts["size"]
        assert e["sender"] == (facts["sender"] or "MAILER-DAEMON")
        assert sorted(e["rcpts"]) == sorted(facts["rcpts"])
        assert e["reasons"] and all("451" in x and x.endswith(")") for x in e["reasons"]), e
    assert totals == f"-- {(total + 1023) // 1024} Kbytes in 2 Requests."
    assert r.stdout.endswith("\n\n" + totals + "\n")

    r = postqueue(inst, "-j")
    assert r.returncode == 0, r.stderr
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted(o["queue_id"] for o in objs) == ids
    for o in objs:
        assert set(o) == {"queue_name", "queue_id", "arrival_time", "message_size",
                          "forced_expire", "sender", "recipients"}
        facts = queue_file_facts(inst, "deferred", o["queue_id"])
        assert o["queue_name"] == "deferred"
        assert o["arrival_time"] == facts["arrival"]
        assert abs(o["arrival_time"] - time.time()) < 300
        assert o["message_size"] == facts["size"]
        assert o["forced_expire"] is False
        assert o["sender"] == facts["sender"]
        assert sorted(x["address"] for x in o["recipients"]) == sorted(facts["rcpts"])
        for x in o["recipients"]:
            assert "451" in x["delay_reason"], x


def test_flush_all_empties_the_queue(deferring):
    inst, a, b = deferring()
    send(inst, "s@client.example", ["x@a.test"])
    send(inst, "s@client.example", ["z@b.test"])
    wait_deferred(inst, 2)
    before = postqueue(inst, "-p").stdout
    assert "in 2 Requests." in before
    if built("sendmail"):           # mailq is sendmail -bp: the same listing
        assert inst.command("mailq").stdout == before
    a.rcpt_default = b.rcpt_default = "250 2.1.5 Ok"
    r = postqueue(inst, "-f")
    assert r.returncode == 0, r.stderr
    assert a.wait_messages(1) and b.wait_messages(1)
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"))
    assert postqueue(inst, "-p").stdout == "Mail queue is empty\n"
    if built("sendmail"):
        assert inst.command("mailq").stdout == "Mail queue is empty\n"


def test_flush_one_message(deferring):
    inst, a, b = deferring()
    send(inst, "s@client.example", ["one@a.test"])
    send(inst, "s@client.example", ["two@a.test"])
    ids = wait_deferred(inst, 2)
    first = ids[0]
    a.rcpt_default = "250 2.1.5 Ok"
    r = postqueue(inst, "-i", first)
    assert r.returncode == 0, r.stderr
    msgs = a.wait_messages(1)
    assert len(msgs) == 1
    deadline = time.time() + 20
    while first in deferred_ids(inst) or inst.queue_files("active"):
        assert time.time() < deadline, inst.log_text()[-2000:]
        time.sleep(0.2)
    time.sleep(1)
    assert deferred_ids(inst) == [ids[1]]
    assert a.transactions == 1
    listing, totals = parse_listing(postqueue(inst, "-p").stdout)
    assert [e["id"] for e in listing] == [ids[1]]
    assert totals.endswith("in 1 Request.")

    r = postqueue(inst, "-i", "0000000000NOSUCH")
    assert r.returncode != 0
    assert r.stderr.startswith("postqueue: fatal: ") and len(r.stderr.splitlines()) == 1
    r = postqueue(inst, "-i", "../etc")
    assert r.returncode == 64 and "invalid queue id" in r.stderr


def test_flush_one_site(deferring):
    inst, a, b = deferring(fast_flush_domains="a.test, b.test")
    send(inst, "s@client.example", ["x@a.test"])
    send(inst, "s@client.example", ["z@b.test"])
    wait_deferred(inst, 2)
    a.rcpt_default = b.rcpt_default = "250 2.1.5 Ok"
    r = postqueue(inst, "-s", "a.test")
    assert r.returncode == 0, r.stderr
    assert len(a.wait_messages(1)) == 1
    time.sleep(2)
    assert b.transactions == 0
    objs = [json.loads(x) for x in postqueue(inst, "-j").stdout.splitlines()]
    assert [o["recipients"][0]["address"] for o in objs] == ["z@b.test"]

    r = postqueue(inst, "-s", "c.test")
    assert r.returncode == 69
    assert "not eligible for the fast flush service" in r.stderr
    r = postqueue(inst, "-s", "bad site;")
    assert r.returncode == 64 and "invalid site" in r.stderr


def test_unprivileged_user(deferring, login_user):
    inst, a, b = deferring()
    send(inst, "s@client.example", ["x@a.test"])
    ids = wait_deferred(inst, 1)
    st = os.stat(inst.bin / "postqueue")
    assert st.st_mode & 0o2000, "postqueue is not set-group-id"
    r = postqueue(inst, "-p", user=login_user.pw_name)
    assert r.returncode == 0, r.stderr
    entries, totals = parse_listing(r.stdout)
    assert [e["id"] for e in entries] == ids
    r = postqueue(inst, "-j", user=login_user.pw_name)
    assert json.loads(r.stdout)["queue_id"] == ids[0]
    # flushing goes through public/ too: one message, then everything
    a.rcpt_default = "250 2.1.5 Ok"
    r = postqueue(inst, "-i", ids[0], user=login_user.pw_name)
    assert r.returncode == 0, r.stderr
    assert len(a.wait_messages(1)) == 1
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"))
    r = postqueue(inst, "-f", user=login_user.pw_name)
    assert r.returncode == 0, r.stderr
    # a configuration directory the user controls is refused
    own = Path(login_user.pw_dir) / "pq-etc"
    own.mkdir(exist_ok=True)
    (own / "main.cf").write_text(f"queue_directory = {inst.queue}\n")
    os.chown(own, login_user.pw_uid, login_user.pw_gid)
    try:
        r = postqueue(inst, "-c", str(own), "-p", user=login_user.pw_name)
        assert r.returncode == 78 and "not allowed for unprivileged users" in r.stderr, r.stderr
    finally:
        (own / "main.cf").unlink()
        own.rmdir()


def test_authorized_mailq_users_refuses(deferring, login_user):
    inst, a, b = deferring(authorized_mailq_users="root",
                           authorized_flush_users="root")
    r = postqueue(inst, "-p", user=login_user.pw_name)
    assert r.returncode == 77, (r.returncode, r.stderr)
    assert r.stdout == ""
    assert r.stderr == (f"postqueue: fatal: User {login_user.pw_name}({login_user.pw_uid}) "
                        "is not allowed to view the mail queue\n")
    r = postqueue(inst, "-f", user=login_user.pw_name)
    assert r.returncode == 77 and "flush" in r.stderr
    assert postqueue(inst, "-p").returncode == 0      # root still may


def metrics(port, timeout=20):
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                return r.read().decode()
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def metric(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == (f"{name}{{{want}}}" if want else name):
            return float(value)
    return None


def test_prometheus_exporter_reads_showq(deferring):
    if not EXPORTER.exists():
        pytest.skip(f"{EXPORTER} not present")
    inst, a, b = deferring()
    send(inst, "s@client.example", ["x@a.test"])
    send(inst, "s@client.example", ["y@a.test", "z@b.test"])
    ids = wait_deferred(inst, 2)
    sizes = [queue_file_facts(inst, "deferred", i)["size"] for i in ids]
    arrivals = [queue_file_facts(inst, "deferred", i)["arrival"] for i in ids]
    port = free_port()
    showq = inst.queue / "public" / "showq"
    proc = subprocess.Popen([str(EXPORTER), f"--postfix.showq_path={showq}",
                             f"--web.listen-address=127.0.0.1:{port}",
                             f"--postfix.logfile_path={inst.maillog}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        text = metrics(port)
        now = time.time()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    up = metric(text, "postfix_up", path=str(showq))
    assert up == 1, text
    assert metric(text, "postfix_showq_message_size_bytes_count", queue="deferred") == 2
    assert metric(text, "postfix_showq_message_size_bytes_sum", queue="deferred") == sum(sizes)
    assert metric(text, "postfix_showq_message_age_seconds_count", queue="deferred") == 2
    age_sum = metric(text, "postfix_showq_message_age_seconds_sum", queue="deferred")
    expected = sum(now - t for t in arrivals)
    assert abs(age_sum - expected) < 10, (age_sum, expected)
    for q in ("active", "hold", "incoming", "maildrop"):
        assert metric(text, "postfix_showq_message_size_bytes_count", queue=q) == 0


def test_listing_while_mail_system_is_down(deferring, login_user):
    inst, a, b = deferring()
    send(inst, "s@client.example", ["x@a.test"])
    ids = wait_deferred(inst, 1)
    inst.stop()
    r = postqueue(inst, "-p")           # root: showq is run directly
    assert r.returncode == 0, r.stderr
    assert "Mail system is down -- accessing queue directly" in r.stderr
    entries, totals = parse_listing(r.stdout)
    assert [e["id"] for e in entries] == ids
    r = postqueue(inst, "-p", user=login_user.pw_name)
    assert r.returncode == 69
    assert r.stderr == "postqueue: fatal: Queue report unavailable - mail system is down\n"


def test_held_message_is_marked(deferring):
    inst, a, b = deferring()
    send(inst, "s@client.example", ["x@a.test"])
    send(inst, "s@client.example", ["y@a.test"])
    ids = wait_deferred(inst, 2)
    # what postsuper -h does: the file moves to hold/
    src = [p for p in inst.queue_files("deferred") if p.endswith(ids[1])][0]
    os.rename(inst.queue / src, inst.queue / "hold" / ids[1])
    entries, totals = parse_listing(postqueue(inst, "-p").stdout)
    marks = {e["id"]: e["mark"] for e in entries}
    assert marks == {ids[0]: " ", ids[1]: "!"}
    # deferred is listed before hold
    assert [e["id"] for e in entries] == ids
    objs = [json.loads(x) for x in postqueue(inst, "-j").stdout.splitlines()]
    assert [(o["queue_name"], o["queue_id"]) for o in objs] == \
        [("deferred", ids[0]), ("hold", ids[1])]
    r = postqueue(inst, "-i", ids[1])
    assert r.returncode == 69 and "on hold" in r.stderr


def test_maildrop_is_listed(make_instance, login_user):
    needs("showq", "pickup")
    if not built("sendmail") or not built("postdrop"):
        pytest.skip("sendmail/postdrop not built")
    inst = make_instance()
    inst.stop()                         # pickup must not take it away
    content = f"Subject: {token('md')}\n\nhello\n"
    r = inst.command("sendmail", "-i", "someone@example.net", input=content,
                     user=login_user.pw_name)
    if r.returncode != 0:
        pytest.skip(f"sendmail with the mail system down: {r.stderr.strip()}")
    files = inst.queue_files("maildrop")
    assert len(files) == 1
    qid = files[0].rsplit("/", 1)[1]
    size = (inst.queue / files[0]).stat().st_size
    r = postqueue(inst, "-j")
    assert r.returncode == 0, r.stderr
    o = json.loads(r.stdout)
    assert (o["queue_name"], o["queue_id"], o["message_size"]) == ("maildrop", qid, size)
    assert o["sender"] == login_user.pw_name
    assert [x["address"] for x in o["recipients"]] == ["someone@example.net"]
    assert abs(o["arrival_time"] - time.time()) < 300
