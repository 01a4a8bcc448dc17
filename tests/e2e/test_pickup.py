"""Local submission back end: postdrop writes maildrop files from the
submission stream (TEAM.md, lib/maildrop.h), pickup feeds them to cleanup,
and hostile maildrop files are quarantined in corrupt/ without harm."""
import os
import random
import stat
import time

import pytest

from conftest import needs
from mailutil import token, split_delivered

EX_USAGE = 64
EX_DATAERR = 65


# --- the record encoding of lib/record.h ------------------------------------
def rec(rtype, data=b""):
    """One record: type byte, length base 128 (low 7 bits first, high bit =
    more), data."""
    if isinstance(data, str):
        data = data.encode()
    n = len(data)
    hdr = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            hdr.append(b | 0x80)
        else:
            hdr.append(b)
            break
    return rtype.encode() + bytes(hdr) + data


def content_records(content):
    """A message (LF or CRLF line ends) as L records."""
    if isinstance(content, str):
        content = content.encode()
    lines = content.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return b"".join(rec("L", line) for line in lines)


def submission(sender, rcpts, content, flags=0, attrs=(), end=True):
    """The stream sendmail writes to postdrop."""
    out = rec("F", str(flags)) + rec("S", sender)
    for a in attrs:
        out += rec("A", a)
    for r in rcpts:
        out += rec("R", r)
    out += rec("M") + content_records(content) + rec("X")
    if end:
        out += rec("E")
    return out


def maildrop_file(uid, body, when="1764043200.000000"):
    """A maildrop file: postdrop's header, then a submission stream."""
    return rec("V", "maildrop-1") + rec("T", when) + rec("A", f"uid={uid}") + body


def simple_message(subject, to="alice@localhost"):
    return (f"From: someone\nTo: {to}\nSubject: {subject}\n\n"
            f"Body of {subject}.\n").encode()


ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUV"


def queue_id():
    """A valid queue id (lib/queue_id.h) for a file written by the test."""
    now = time.time()
    sec, usec = int(now), int((now % 1) * 1e6)

    def digits(v, n):
        return "".join(ALPHABET[(v >> (5 * (n - 1 - i))) & 31] for i in range(n))
    return digits(sec, 7) + digits(usec, 4) + digits(random.getrandbits(20), 4)


def maildrop_names(inst):
    """Every name in maildrop/, temporary ones included."""
    try:
        return sorted(os.listdir(inst.queue / "maildrop"))
    except FileNotFoundError:
        return []


def corrupt_names(inst):
    try:
        return sorted(os.listdir(inst.queue / "corrupt"))
    except FileNotFoundError:
        return []


def wait_for(pred, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


# --- (a) postdrop + pickup deliver -----------------------------------------
def test_postdrop_delivers_with_received_from_userid(make_instance):
    needs("pickup")
    inst = make_instance()
    subj = token("drop")
    stream = submission("drop-sender@localhost", ["alice@localhost"],
                        simple_message(subj),
                        attrs=("full_name=Drop Sender",))
    r = inst.command("postdrop", input=stream)
    assert r.returncode == 0, r.stderr
    msgs = inst.maildir_messages("alice", 1)
    assert len(msgs) == 1, f"not delivered; log:\n{inst.log_text()[-3000:]}"
    added, rest = split_delivered(msgs[0])
    assert added["Return-Path"] == b"<drop-sender@localhost>"
    assert f"from userid {os.getuid()}".encode() in added["Received"]
    assert b"by localhost (posthorn" in added["Received"]
    assert f"Subject: {subj}".encode() in rest
    # cleanup adds Message-ID and Date for a local submission.
    assert b"\nMessage-ID: " in b"\n" + rest.split(b"\n\n", 1)[0]
    assert inst.log_matches(rf": uid={os.getuid()} from=<drop-sender@localhost>")
    assert wait_for(lambda: not maildrop_names(inst))
    assert not corrupt_names(inst)


def test_postdrop_several_recipients_and_long_line(make_instance):
    needs("pickup")
    inst = make_instance()
    subj = token("multi")
    long_line = b"x" * 5000
    # The long line as C pieces then a final L, as sendmail may write it.
    stream = (rec("F", "0") + rec("S", "s@localhost") + rec("Y", "2") +
              rec("R", "alice@localhost") + rec("O", "rfc822;b@localhost") +
              rec("R", "bob@localhost") + rec("M") +
              rec("L", f"Subject: {subj}") + rec("L", "") +
              rec("C", long_line[:3000]) + rec("L", long_line[3000:]) +
              rec("L", "end") + rec("X") + rec("E"))
    r = inst.command("postdrop", input=stream)
    assert r.returncode == 0, r.stderr
    for user in ("alice", "bob"):
        msgs = inst.maildir_messages(user, 1)
        assert len(msgs) == 1, f"{user} got nothing"
        assert long_line + b"\nend\n" in msgs[0]


@pytest.mark.root
def test_postdrop_as_user_file_owned_by_user(make_instance, login_user):
    """Set-group-id postdrop run by an ordinary user: the maildrop file
    belongs to that user (the sender's identity) while it waits, and pickup
    names the uid."""
    needs("pickup")
    inst = make_instance()
    # Stop the instance so the file stays in maildrop/ for inspection.
    inst.stop()
    subj = token("asuser")
    stream = submission(login_user.pw_name, ["alice@localhost"],
                        simple_message(subj))
    r = inst.command("postdrop", input=stream, user=login_user.pw_name)
    assert r.returncode == 0, r.stderr
    names = maildrop_names(inst)
    assert len(names) == 1 and not names[0].startswith("."), names
    st = os.lstat(inst.queue / "maildrop" / names[0])
    assert st.st_uid == login_user.pw_uid
    assert stat.S_ISREG(st.st_mode) and st.st_nlink == 1
    assert stat.S_IMODE(st.st_mode) & 0o022 == 0
    inst.start()
    msgs = inst.maildir_messages("alice", 1)
    assert len(msgs) == 1, f"not delivered; log:\n{inst.log_text()[-3000:]}"
    added, rest = split_delivered(msgs[0])
    assert f"from userid {login_user.pw_uid}".encode() in added["Received"]
    assert inst.log_matches(rf": uid={login_user.pw_uid} from=<{login_user.pw_name}")
    assert wait_for(lambda: not maildrop_names(inst))


@pytest.mark.root
def test_postdrop_rejects_a_forged_header(make_instance, login_user):
    """A user's stream cannot start with postdrop's own header records."""
    inst = make_instance()
    stream = maildrop_file(0, submission("x", ["alice@localhost"], b"Subject: x\n"))
    r = inst.command("postdrop", input=stream, user=login_user.pw_name)
    assert r.returncode == EX_DATAERR, (r.returncode, r.stderr)
    assert not maildrop_names(inst)


# --- (c) postdrop rejects bad input and leaves nothing behind ---------------
GOOD = submission("s@localhost", ["alice@localhost"], b"Subject: bad\n\nbody\n")

BAD_STREAMS = {
    "garbage": b"this is not a submission stream\n",
    "empty": b"",
    "truncated": GOOD[:len(GOOD) // 2],
    "missing_end": submission("s@localhost", ["alice@localhost"], b"x\n", end=False),
    "data_after_end": GOOD + rec("L", "more"),
    "bad_type": GOOD.replace(rec("M"), rec("Q", "x") + rec("M")),
    "nul_in_sender": submission("s\0@localhost", ["alice@localhost"], b"x\n"),
    "newline_in_rcpt": submission("s@localhost", ["alice@localhost\nR"], b"x\n"),
    "bad_utf8_rcpt": submission("s@localhost", [b"\xff\xfe@localhost"], b"x\n"),
    "no_recipients": submission("s@localhost", [], b"x\n"),
    "forbidden_attr": submission("s@localhost", ["alice@localhost"], b"x\n",
                                 attrs=("client_address=192.0.2.1",)),
    "long_sender": submission("s" * 2000 + "@localhost", ["alice@localhost"], b"x\n"),
}


@pytest.mark.parametrize("kind", sorted(BAD_STREAMS))
def test_postdrop_rejects_bad_input(make_instance, kind):
    inst = make_instance()
    data = BAD_STREAMS[kind]
    r = inst.command("postdrop", input=data)
    assert r.returncode == EX_DATAERR, (r.returncode, r.stderr)
    lines = r.stderr.decode(errors="replace").strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("postdrop: fatal: "), lines
    assert not maildrop_names(inst), maildrop_names(inst)


def test_postdrop_oversized_input(make_instance):
    inst = make_instance(main={"message_size_limit": "20000"})
    data = submission("s@localhost", ["alice@localhost"],
                      b"Subject: big\n\n" + (b"y" * 70 + b"\n") * 1000)
    r = inst.command("postdrop", input=data)
    assert r.returncode == EX_DATAERR, (r.returncode, r.stderr)
    assert b"size" in r.stderr
    assert not maildrop_names(inst)


def test_postdrop_usage(make_instance):
    inst = make_instance(start=False)
    r = inst.command("postdrop", "-x", input=GOOD)
    assert r.returncode == EX_USAGE
    assert r.stderr.startswith(b"postdrop: fatal: ")


# --- (b) hostile maildrop files ---------------------------------------------
def place(inst, name, data=None, uid=None, make=None):
    """Put a file into maildrop/NAME the way postdrop would: under a
    temporary name, then renamed, so pickup never sees half of it."""
    tmp = inst.queue / "maildrop" / f".t{name}"
    if make is not None:
        make(tmp)
    else:
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        if uid is not None and os.geteuid() == 0:
            os.chown(tmp, uid, -1)
    os.rename(tmp, inst.queue / "maildrop" / name)


def test_hostile_maildrop_files_are_quarantined(make_instance, request):
    needs("pickup")
    if os.geteuid() == 0:
        user = request.getfixturevalue("login_user")
        uid = user.pw_uid
        other_uid = 0
    else:
        uid = os.getuid()
        other_uid = uid + 1
    inst = make_instance(main={"message_size_limit": "20000"})
    pickup_pids = inst.wait_for_process("pickup")

    def body(n, **kw):
        return submission(f"evil{n}@localhost", [f"evil{n}@localhost"],
                          f"Subject: evil {n}\n\nbad\n".encode(), **kw)

    outside = inst.dir / "outside-file"
    outside.write_bytes(maildrop_file(uid, body(99)))
    os.chmod(outside, 0o644)
    if os.geteuid() == 0:
        os.chown(outside, uid, -1)

    hostile = {
        "truncated": maildrop_file(uid, body(1))[:-9],
        "oversized_content": maildrop_file(
            uid, submission("evil2@localhost", ["evil2@localhost"],
                            b"Subject: big\n\n" + (b"z" * 70 + b"\n") * 400)),
        "oversized_file": maildrop_file(uid, body(3)) + b"\0" * 200000,
        "bad_record_type": maildrop_file(uid, body(4)).replace(rec("M"), rec("Q", "?") + rec("M")),
        "missing_end": maildrop_file(uid, body(5, end=False)),
        "data_after_end": maildrop_file(uid, body(6)) + rec("R", "evil6b@localhost"),
        "nul_in_sender": maildrop_file(uid, submission("evil7\0@localhost", ["evil7@localhost"],
                                                       b"Subject: 7\n")),
        "crlf_in_recipient": maildrop_file(uid, submission("x@localhost",
                                                           ["evil8@localhost\r\nR"],
                                                           b"Subject: 8\n")),
        "no_header": body(9),
        "forbidden_attribute": maildrop_file(uid, body(10, attrs=("client_address=192.0.2.1",))),
        "wrong_owner": maildrop_file(other_uid, body(11)),
        "garbage": os.urandom(3000),
        "empty": b"",
    }
    ids = {}
    for kind, data in hostile.items():
        ids[kind] = queue_id()
        place(inst, ids[kind], data, uid=uid)
    ids["symlink"] = queue_id()
    place(inst, ids["symlink"], make=lambda p: os.symlink(outside, p))
    ids["hardlink"] = queue_id()
    place(inst, ids["hardlink"], make=lambda p: os.link(outside, p))
    ids["fifo"] = queue_id()
    place(inst, ids["fifo"], make=lambda p: os.mkfifo(p, 0o644))
    if os.geteuid() == 0:
        ids["owner_mismatch_root"] = queue_id()
        place(inst, ids["owner_mismatch_root"], maildrop_file(uid, body(12)), uid=0)

    # A good message submitted after them (this also wakes pickup).
    subj = token("good")
    r = inst.command("postdrop", input=submission("good@localhost", ["alice@localhost"],
                                                  simple_message(subj)))
    assert r.returncode == 0, r.stderr
    msgs = inst.maildir_messages("alice", 1)
    assert len(msgs) == 1, f"good message not delivered; log:\n{inst.log_text()[-3000:]}"
    assert f"Subject: {subj}".encode() in msgs[0]

    assert wait_for(lambda: not maildrop_names(inst)), maildrop_names(inst)
    names = corrupt_names(inst)
    assert len(names) == len(ids), (names, ids)
    for kind, qid in ids.items():
        assert inst.log_matches(rf"maildrop/{qid}: uid=\S+: .*moved to corrupt/"), kind
    log = inst.log_text()
    assert "wrong owner" in log
    assert "symbolic link" in log
    assert "hard link" in log
    assert "not a regular file" in log
    assert "message size exceeds" in log
    assert "file too large" in log
    # Nothing from them was delivered, and pickup never crashed.
    time.sleep(1)
    for n in range(0, 100):
        assert not (inst.mail / f"evil{n}").exists(), f"evil{n} got mail"
    assert outside.exists()
    assert inst.wait_for_process("pickup") == pickup_pids
    assert not inst.log_matches(r"pickup\[\d+\]: (fatal|panic):")


def test_pickup_leaves_file_while_cleanup_is_down(make_instance):
    """No cleanup: the file stays in maildrop/ and goes out once cleanup
    is back (pickup retries at its next wakeup)."""
    needs("pickup")
    inst = make_instance()
    inst.stop()
    subj = token("later")
    r = inst.command("postdrop", input=submission("l@localhost", ["alice@localhost"],
                                                  simple_message(subj)))
    assert r.returncode == 0, r.stderr
    names = maildrop_names(inst)
    assert len(names) == 1
    inst.start()
    msgs = inst.maildir_messages("alice", 1)
    assert len(msgs) == 1, f"not delivered; log:\n{inst.log_text()[-3000:]}"
    assert wait_for(lambda: not maildrop_names(inst))


def test_postdrop_extract_flag_passes_through(make_instance):
    """F with REC_FLAG_EXTRACT (sendmail -t) and no R records is a valid
    submission; other flag bits are dropped by pickup."""
    inst = make_instance()
    inst.stop()
    data = submission("e@localhost", [], b"To: alice@localhost\nSubject: t\n\nx\n", flags=8)
    r = inst.command("postdrop", input=data)
    assert r.returncode == 0, r.stderr
    assert len(maildrop_names(inst)) == 1


def test_postdrop_refuses_a_terminal(make_instance):
    import subprocess
    inst = make_instance(start=False)
    master, slave = os.openpty()
    try:
        r = subprocess.run([str(inst.bin / "postdrop")], stdin=slave, capture_output=True,
                           env={"PATH": "/usr/bin:/bin", "POSTHORN_CONFIG_DIR": str(inst.etc)},
                           timeout=30)
    finally:
        os.close(master)
        os.close(slave)
    assert r.returncode == EX_USAGE, (r.returncode, r.stderr)
    assert b"terminal" in r.stderr


def test_postdrop_interrupted_leaves_nothing(make_instance):
    """Killed while it reads its input: the temporary file goes away."""
    import signal
    import subprocess
    inst = make_instance()
    p = subprocess.Popen([str(inst.bin / "postdrop")], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env={"PATH": "/usr/bin:/bin", "POSTHORN_CONFIG_DIR": str(inst.etc)})
    p.stdin.write(GOOD[:20])
    p.stdin.flush()
    assert wait_for(lambda: maildrop_names(inst), timeout=10), "no temporary file appeared"
    assert all(n.startswith(".") for n in maildrop_names(inst))
    p.send_signal(signal.SIGTERM)
    _out, err = p.communicate(timeout=10)
    assert p.returncode == 75, (p.returncode, err)
    assert not maildrop_names(inst)


def test_pickup_handles_a_flood_in_batches(make_instance, request):
    """More files than one scan handles: all of them are delivered."""
    needs("pickup")
    if os.geteuid() == 0:
        uid = request.getfixturevalue("login_user").pw_uid
    else:
        uid = os.getuid()
    inst = make_instance()
    inst.stop()
    count = 230
    (inst.queue / "maildrop").mkdir(exist_ok=True)
    for i in range(count):
        data = maildrop_file(uid, submission("flood@localhost", ["flood@localhost"],
                                             f"Subject: flood {i}\n\nx\n".encode()))
        place(inst, queue_id(), data, uid=uid)
    inst.start()
    msgs = inst.maildir_messages("flood", count, timeout=120)
    assert len(msgs) == count, f"{len(msgs)} of {count} delivered"
    assert wait_for(lambda: not maildrop_names(inst))
    assert not corrupt_names(inst)


@pytest.mark.root
def test_postdrop_refuses_an_untrusted_config_dir(make_instance, login_user, tmp_path):
    """A user cannot point set-group-id postdrop at a main.cf of their own."""
    inst = make_instance(start=False)
    own = tmp_path / "own-etc"
    own.mkdir()
    (own / "main.cf").write_text((inst.etc / "main.cf").read_text())
    os.chown(own, login_user.pw_uid, -1)
    os.chown(own / "main.cf", login_user.pw_uid, -1)
    os.chmod(tmp_path, 0o755)
    r = inst.command("postdrop", "-c", str(own), input=GOOD, user=login_user.pw_name)
    assert r.returncode == 78, (r.returncode, r.stderr)
    assert b"not allowed for unprivileged users" in r.stderr
    assert not maildrop_names(inst)


def test_sendmail_through_postdrop_and_pickup(make_instance):
    """The real sendmail writes the submission stream this back end reads."""
    needs("pickup")
    from instance import SRCDIR
    if not (SRCDIR / "sendmail" / "sendmail").exists():
        pytest.skip("sendmail not built yet")
    inst = make_instance()
    subj = token("viasendmail")
    long_line = "w" * 70000
    msg = f"To: alice@localhost\nSubject: {subj}\n\n{long_line}\nlast\n"
    r = inst.command("sendmail", "-i", "-F", "J\u00fcrgen Tester", "-N", "success,delay",
                     "-R", "hdrs", "-V", "env+2Bid", "alice@localhost",
                     input=msg.encode())
    assert r.returncode == 0, r.stderr
    msgs = inst.maildir_messages("alice", 1)
    assert len(msgs) == 1, f"not delivered; log:\n{inst.log_text()[-3000:]}"
    added, rest = split_delivered(msgs[0])
    assert f"from userid {os.getuid()}".encode() in added["Received"]
    assert f"Subject: {subj}".encode() in rest
    assert (long_line + "\nlast\n").encode() in rest


def test_sendmail_t_extract_flag_reaches_cleanup(make_instance):
    """sendmail -t: pickup keeps REC_FLAG_EXTRACT, cleanup takes the
    recipients from the header."""
    needs("pickup")
    from instance import SRCDIR
    if not (SRCDIR / "sendmail" / "sendmail").exists():
        pytest.skip("sendmail not built yet")
    inst = make_instance()
    subj = token("extract")
    msg = f"To: bob@localhost\nSubject: {subj}\n\nbody\n"
    r = inst.command("sendmail", "-t", "-i", input=msg.encode())
    assert r.returncode == 0, r.stderr
    msgs = inst.maildir_messages("bob", 1)
    assert len(msgs) == 1, f"not delivered; log:\n{inst.log_text()[-3000:]}"
    assert f"Subject: {subj}".encode() in msgs[0]


def test_near_the_size_limit_accepted_means_delivered(make_instance):
    """What sendmail reports as submitted is never refused later for its
    size: pickup's Received: and cleanup's Message-ID:, Date: and From:
    fit in the headroom postdrop keeps below message_size_limit."""
    needs("pickup")
    limit = 20000
    inst = make_instance(main={"message_size_limit": str(limit)})
    accepted = []
    for size in range(limit - 4000, limit + 1, 250):
        subject = token(f"size{size}")
        text = f"Subject: {subject}\n\n" + ("x" * 70 + "\n") * (size // 71)
        r = inst.command("sendmail", "-i", "-F", "N" * 400, "alice@localhost", input=text)
        if r.returncode == 0:
            accepted.append(subject)
        else:
            # refused by sendmail itself, or by postdrop with the headroom
            assert r.returncode == 65, r.stderr
            assert ("message file too big" in r.stderr
                    or "message size exceeds the limit" in r.stderr), r.stderr
    assert accepted, "nothing near the limit was accepted"
    assert len(accepted) < 17, "the largest messages must be refused"
    for subject in accepted:
        assert wait_for(lambda: any(subject.encode() in m
                                    for m in inst.maildir_messages("alice", 0))), subject
    assert corrupt_names(inst) == []
