"""bounce(8): delivery status notifications.  The tests drive the flush
request over private/bounce themselves (the bounce protocol of
lib/mail_proto.h) on a message parked in hold/ with a status log written
here, and parse the notification that local delivers to the sender's
Maildir with Python's email package: multipart/report, report-type
delivery-status, RFC 3464 fields per recipient, the returned message."""
import email
import email.policy
import os
import pwd
import socket
import time

import pytest

from instance import identities
from mailutil import token, message, send_raw

ENTRY_FIELDS = ("rcpt", "orcpt", "notify", "offset", "status", "action",
                "relay", "reason", "when")


# ---- the attribute codec (lib/attr.h), as a client --------------------------
def attr_encode(pairs):
    out = b""
    for name, value in pairs:
        out += name.encode() + b"\0" + str(value).encode() + b"\0"
    return out + b"\0"


def attr_read(sock, buf):
    """One attribute list from sock: (dict, rest of buf)."""
    while True:
        items, pos = {}, 0
        complete = False
        while True:
            end = buf.find(b"\0", pos)
            if end < 0:
                break
            name = buf[pos:end].decode()
            pos = end + 1
            if name == "":
                complete = True
                break
            vend = buf.find(b"\0", pos)
            if vend < 0:
                break
            items[name] = buf[pos:vend].decode()
            pos = vend + 1
        if complete:
            return items, buf[pos:]
        data = sock.recv(65536)
        if not data:
            raise EOFError("connection closed inside an attribute list")
        buf += data


def flush(inst, queue_name, queue_id, kind):
    """Ask bounce to flush; returns its reply as a dict."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(inst.queue / "private" / "bounce"))
        announce, rest = attr_read(s, b"")
        assert announce == {"protocol": "bounce", "version": "1"}
        s.sendall(attr_encode([("request", "flush"), ("queue_name", queue_name),
                               ("queue_id", queue_id), ("kind", kind)]))
        reply, _ = attr_read(s, rest)
        return reply


# ---- instance set-up ------------------------------------------------------------
def mail_owner_ids():
    owner, _ = identities()
    pw = pwd.getpwnam(owner)
    return pw.pw_uid, pw.pw_gid


def add_bounce_daemon(inst):
    """The instance helper gives every instance the bounce service once
    bounce/bounce is built; make sure it did."""
    assert "bounce" in (inst.etc / "master.cf").read_text()
    assert (inst.dir / "libexec" / "bounce").exists()


def log_path(inst, log, qid):
    return inst.queue / log / qid[-1] / qid


def write_status_log(inst, log, qid, entries, raw=None):
    """Write LOG/X/ID as the queue manager would, owned by mail_owner."""
    uid, gid = mail_owner_ids()
    d = inst.queue / log / qid[-1]
    d.mkdir(mode=0o700, exist_ok=True)
    os.chown(d, uid, gid)
    p = d / qid
    data = raw if raw is not None else b"".join(
        attr_encode([(f, e[f]) for f in ENTRY_FIELDS]) for e in entries)
    p.write_bytes(data)
    os.chmod(p, 0o600)
    os.chown(p, uid, gid)
    return p


def entry(rcpt, **kw):
    e = {"rcpt": rcpt, "orcpt": "", "notify": 0, "offset": 0, "status": "5.1.1",
         "action": "failed", "relay": "local", "reason": f"unknown user: \"{rcpt.split('@')[0]}\"",
         "when": int(time.time())}
    e.update(kw)
    return e


@pytest.fixture
def held(make_instance):
    """An instance with bounce, and a way to park messages in hold/: the
    message is queued while qmgr is absent, then qmgr is configured."""
    # Without 2bounce (on by default): the null-sender case below checks
    # that nothing at all is sent then.
    inst = make_instance(start=False, qmgr=False, main={"notify_classes": "resource, software"})
    add_bounce_daemon(inst)
    inst.start()

    def park(sender, rcpts, content):
        before = set(inst.queue_files("incoming"))
        r = send_raw(inst, sender, rcpts, content)
        assert r["end"][0] == 250, r
        new = sorted(set(inst.queue_files("incoming")) - before)
        assert len(new) == 1, new
        qid = new[0].split("/")[-1]
        os.rename(inst.queue / "incoming" / qid, inst.queue / "hold" / qid)
        return qid

    def with_qmgr():
        inst.stop()
        inst.qmgr = True
        inst.write()
        inst.start()

    return inst, park, with_qmgr


def parse_dsn(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def dsn_parts(msg):
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    parts = msg.get_payload()
    assert isinstance(parts, list) and len(parts) == 3, parts
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == "message/delivery-status"
    blocks = parts[1].get_payload()
    return parts, blocks


@pytest.mark.timeout(120)
def test_bounce_dsn_format_and_log_removal(held):
    inst, park, with_qmgr = held
    subj = token("bounced")
    content = message(subj, sender="someone@localhost", to="nosuch@localhost",
                      body=b"The body of the original.\r\n")
    qid = park("someone@localhost", ["nosuch@localhost", "other@remote.example"], content)
    qid_hdrs = park("someone@localhost", ["nosuch@localhost"], message(token("hdrs")))
    qid_never = park("someone@localhost", ["nosuch@localhost"], message(token("never")))
    qid_null = park("", ["nosuch@localhost"], message(token("null")))
    qid_bad = park("someone@localhost", ["nosuch@localhost"], message(token("bad")))
    with_qmgr()

    write_status_log(inst, "bounce", qid, [
        entry("nosuch@localhost", orcpt="rfc822;NoSuch@localhost"),
        entry("other@remote.example", status="5.1.1", relay="mx.remote.example[192.0.2.7]:25",
              reason="host mx.remote.example[192.0.2.7] said: 550 5.1.1 <other@remote.example>:"
                     " Recipient address rejected: User unknown (in reply to RCPT TO command)"),
    ])
    reply = flush(inst, "hold", qid, "bounce")
    assert reply["status"] == "0", reply
    dsn_id = reply["queue_id"]
    assert dsn_id
    assert not log_path(inst, "bounce", qid).exists(), "bounce log not removed"
    assert inst.wait_log(f"{qid}: sender non-delivery notification: {dsn_id}")

    msgs = inst.maildir_messages("someone", 1, timeout=30)
    assert len(msgs) == 1, "no DSN in someone's Maildir"
    msg = parse_dsn(msgs[0])
    assert msg["Subject"] == "Undelivered Mail Returned to Sender"
    assert "MAILER-DAEMON@localhost" in msg["From"]
    assert msg["To"] == "someone@localhost"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Return-Path"] == "<>"
    parts, blocks = dsn_parts(msg)
    text = parts[0].get_payload()
    assert "<nosuch@localhost>: unknown user" in text
    assert "<other@remote.example>: host mx.remote.example" in text
    assert len(blocks) == 3
    assert blocks[0]["Reporting-MTA"] == "dns; localhost"
    assert blocks[0]["X-Posthorn-Queue-ID"] == qid
    assert blocks[0]["Arrival-Date"]
    assert email.utils.parsedate_tz(blocks[0]["Arrival-Date"]) is not None
    r1, r2 = blocks[1], blocks[2]
    assert r1["Final-Recipient"] == "rfc822; nosuch@localhost"
    assert r1["Original-Recipient"] == "rfc822;NoSuch@localhost"
    assert r1["Action"] == "failed"
    assert r1["Status"] == "5.1.1"
    assert r1["Diagnostic-Code"].startswith("x-unix; unknown user")
    assert r1["Remote-MTA"] is None
    assert r2["Final-Recipient"] == "rfc822; other@remote.example"
    assert r2["Remote-MTA"] == "dns; mx.remote.example"
    assert r2["Diagnostic-Code"].replace("\r\n", "").replace("\n", "").startswith(
        "smtp; 550 5.1.1 <other@remote.example>: Recipient address rejected")
    # The whole original message comes back.
    assert parts[2].get_content_type() == "message/rfc822"
    orig = parts[2].get_payload()[0]
    assert orig["Subject"] == subj
    assert "The body of the original." in orig.get_payload()
    for line in msgs[0].split(b"\n"):
        assert len(line) <= 999

    # A second flush finds nothing to do.
    reply = flush(inst, "hold", qid, "bounce")
    assert reply == {"status": "0", "queue_id": "", "reason": ""}

    # RET=HDRS is honoured through the queue file's attributes only when
    # given; headers-only also for delay notices, which keep the defer log.
    write_status_log(inst, "defer", qid_hdrs, [
        entry("nosuch@localhost", status="4.4.1", action="delayed",
              reason="connect to mx.example[192.0.2.1]:25: Connection timed out")])
    reply = flush(inst, "hold", qid_hdrs, "delay")
    assert reply["status"] == "0" and reply["queue_id"], reply
    assert log_path(inst, "defer", qid_hdrs).exists(), "delay flush removed the defer log"
    assert inst.wait_log(f"{qid_hdrs}: sender delay notification: {reply['queue_id']}")
    msgs = inst.maildir_messages("someone", 2, timeout=30)
    assert len(msgs) == 2
    delayed = [parse_dsn(m) for m in msgs if b"Delayed Mail" in m]
    assert len(delayed) == 1
    parts, blocks = dsn_parts(delayed[0])
    assert blocks[1]["Action"] == "delayed"
    assert blocks[1]["Status"] == "4.4.1"
    assert blocks[1]["Will-Retry-Until"]
    assert parts[2].get_content_type() == "text/rfc822-headers"
    assert "Hello." not in parts[2].get_payload()

    # NOTIFY=NEVER: no notice, log removed, nothing sent.
    write_status_log(inst, "bounce", qid_never, [entry("nosuch@localhost", notify=1)])
    reply = flush(inst, "hold", qid_never, "bounce")
    assert reply == {"status": "0", "queue_id": "", "reason": ""}
    assert not log_path(inst, "bounce", qid_never).exists()

    # The null sender never gets a notice; without 2bounce in
    # notify_classes nothing goes to the postmaster either.
    write_status_log(inst, "bounce", qid_null, [entry("nosuch@localhost")])
    reply = flush(inst, "hold", qid_null, "bounce")
    assert reply == {"status": "0", "queue_id": "", "reason": ""}
    assert inst.wait_log(f"{qid_null}: undeliverable mail from the null sender")

    # A malformed log: temporary failure, nothing removed.
    p = write_status_log(inst, "bounce", qid_bad, [], raw=b"rcpt\0x\0bogus\0")
    reply = flush(inst, "hold", qid_bad, "bounce")
    assert reply["status"].startswith("4"), reply
    assert reply["queue_id"] == ""
    assert "malformed" in reply["reason"]
    assert p.exists()

    # Nonsense requests are refused without touching anything.
    reply = flush(inst, "hold", "../../etc/passwd", "bounce")
    assert reply["status"] != "0"
    reply = flush(inst, "hold", qid_bad, "nonsense")
    assert reply["status"] != "0"
    time.sleep(1)
    assert len(inst.maildir_messages("someone", 2, timeout=1)) == 2


@pytest.mark.timeout(120)
def test_double_bounce_goes_to_postmaster_with_2bounce(make_instance):
    inst = make_instance(start=False, qmgr=False,
                         main={"notify_classes": "2bounce, bounce, resource, software"})
    add_bounce_daemon(inst)
    inst.write()
    (inst.etc / "aliases").write_text(f"postmaster: {inst.dir}/mail/pm/\n")
    inst.start()
    r = send_raw(inst, "", ["nosuch@localhost"], message(token("dbl")))
    assert r["end"][0] == 250, r
    qid = inst.queue_files("incoming")[0].split("/")[-1]
    os.rename(inst.queue / "incoming" / qid, inst.queue / "hold" / qid)
    r = send_raw(inst, "someone@localhost", ["nosuch@localhost"], message(token("copy")))
    qid2 = inst.queue_files("incoming")[0].split("/")[-1]
    os.rename(inst.queue / "incoming" / qid2, inst.queue / "hold" / qid2)
    inst.stop()
    inst.qmgr = True
    inst.aliases = f"postmaster: {inst.dir}/mail/pm/\n"
    inst.write()
    inst.start()

    write_status_log(inst, "bounce", qid, [entry("nosuch@localhost")])
    reply = flush(inst, "hold", qid, "bounce")
    assert reply["status"] == "0" and reply["queue_id"], reply
    assert inst.wait_log(f"{qid}: postmaster non-delivery notification: {reply['queue_id']}")
    msgs = inst.maildir_messages("pm", 1, timeout=30)
    assert len(msgs) == 1
    msg = parse_dsn(msgs[0])
    assert msg["Return-Path"] == "<double-bounce@localhost>"
    assert msg["To"] == "postmaster@localhost"
    dsn_parts(msg)

    # notify_classes bounce: the sender's notice plus a header-only copy.
    write_status_log(inst, "bounce", qid2, [entry("nosuch@localhost")])
    reply = flush(inst, "hold", qid2, "bounce")
    assert reply["status"] == "0" and reply["queue_id"], reply
    assert inst.wait_log(f"{qid2}: postmaster non-delivery notification:")
    msgs = inst.maildir_messages("pm", 2, timeout=30)
    copies = [parse_dsn(m) for m in msgs if b"Postmaster Copy" in m]
    assert len(copies) == 1
    parts, _ = dsn_parts(copies[0])
    assert parts[2].get_content_type() == "text/rfc822-headers"
    assert len(inst.maildir_messages("someone", 1, timeout=30)) == 1


@pytest.mark.timeout(120)
def test_local_bounce_reaches_sender(make_instance):
    """The whole path once qmgr asks bounce for DSNs: local bounces an
    unknown user (luser_relay empty) and the sender gets the notice."""
    inst = make_instance(start=False,
                         main={"luser_relay": ""})
    add_bounce_daemon(inst)
    inst.aliases = f"postmaster: root\nsomeone: {inst.dir}/mail/someone/\n"
    inst.write()
    inst.start()
    subj = token("real")
    r = send_raw(inst, "someone@localhost", ["nosuch@localhost"],
                 message(subj, sender="someone@localhost", to="nosuch@localhost"))
    assert r["end"][0] == 250, r
    msgs = inst.maildir_messages("someone", 1, timeout=20)
    if not msgs:
        if "no DSN sent yet" in inst.log_text() or "sender non-delivery" not in inst.log_text():
            pytest.skip("qmgr does not ask bounce(8) for DSNs yet")
    assert len(msgs) == 1
    msg = parse_dsn(msgs[0])
    parts, blocks = dsn_parts(msg)
    assert blocks[1]["Final-Recipient"] == "rfc822; nosuch@localhost"
    assert blocks[1]["Action"] == "failed"
    assert blocks[1]["Status"].startswith("5.")
    assert parts[2].get_payload()[0]["Subject"] == subj
