"""sendmail(1), mailq and newaliases end to end: local submission through
postdrop and pickup into cleanup (-t extraction, Bcc removal, From: with
the full name), the envelope options, the "." rule, -bs, -bp, -bi, -bv,
exit codes, and real clients (s-nail, git send-email) using our sendmail."""
import os
import pwd
import shutil
import subprocess
import time

import pytest

from conftest import needs, LOGIN_USER
from instance import SRCDIR
from mailutil import token, split_delivered

EX_USAGE = 64
EX_DATAERR = 65
EX_NOUSER = 67


def need_submission():
    needs("postdrop", "pickup")


def need_command(name):
    if not (SRCDIR / name / name).exists():
        pytest.skip(f"not built yet: {name}/{name}")


def read_records(path):
    """A queue file as a list of (type, bytes)."""
    data = path.read_bytes()
    out, pos = [], 0
    while pos < len(data):
        rtype = chr(data[pos])
        pos += 1
        n, shift = 0, 0
        while True:
            b = data[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((rtype, data[pos:pos + n]))
        pos += n
    return out


def wait_incoming(inst, timeout=20):
    """The queue files in incoming/ (an instance without qmgr keeps them)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        files = [p for p in (inst.queue / "incoming").rglob("*")
                 if p.is_file() and not p.name.startswith(".")]
        if files:
            return files
        time.sleep(0.1)
    return []


def header_of(msg):
    return msg.split(b"\n\n", 1)[0]


def body_of(msg):
    return msg.split(b"\n\n", 1)[1]


def test_t_i_as_user_lands_in_maildir(make_instance, login_user):
    need_submission()
    inst = make_instance()
    subj = token("t")
    text = (f"To: Alice <alice@localhost>, carol@localhost\n"
            f"Bcc: bob@localhost\n"
            f"Subject: {subj}\n\n"
            f"line one\n.\nafter the dot\n")
    r = inst.command("sendmail", "-t", "-i", input=text, user=LOGIN_USER)
    assert r.returncode == 0, r.stderr
    for user in ("alice", "bob", "carol"):
        msgs = [m for m in inst.maildir_messages(user, 1) if subj.encode() in m]
        assert len(msgs) == 1, f"{user}: not delivered"
        added, msg = split_delivered(msgs[0])
        hdr = header_of(msg)
        assert b"Bcc:" not in hdr and b"bob@localhost" not in hdr, hdr
        assert b"From: posthorn test user <phtest@localhost>" in hdr, hdr
        assert b"\nMessage-ID: <" in hdr and b"\nDate: " in hdr
        assert body_of(msg) == b"line one\n.\nafter the dot\n"
        # the unqualified login name is qualified with $myorigin
        assert added["Return-Path"] == b"<phtest@localhost>", added
    assert inst.wait_queue_empty()


def test_options_reach_queue_file(make_instance, login_user):
    need_submission()
    inst = make_instance(qmgr=False)
    r = inst.command("sendmail", "-f", "Sender <owner@example.org>", "-F", "Jane Q. User",
                     "-N", "success,failure", "-R", "hdrs", "-V", "env+2Bid",
                     "x@localhost, Y <y@localhost>",
                     input="Subject: opts\n\nbody\n", user=LOGIN_USER)
    assert r.returncode == 0, r.stderr
    files = wait_incoming(inst)
    assert len(files) == 1, files
    recs = read_records(files[0])
    env = [(t, d) for t, d in recs if t in "SAYR"]
    assert ("S", b"owner@example.org") in env
    assert ("A", b"envid=env+id") in env
    assert ("A", b"ret=HDRS") in env
    assert ("A", b"full_name=Jane Q. User") in env
    rcpts = [d for t, d in recs if t == "R"]
    assert rcpts == [b"x@localhost", b"y@localhost"]
    assert [d for t, d in recs if t == "Y"] == [b"6", b"6"]
    lines = [d for t, d in recs if t == "L"]
    assert b'From: "Jane Q. User" <owner@example.org>' in lines, lines


def test_extracted_recipients_after_x(make_instance, login_user):
    need_submission()
    inst = make_instance(qmgr=False)
    r = inst.command("sendmail", "-t", "extra@localhost",
                     input="To: a@localhost\nCc: grp: b@localhost;\nBcc: c@localhost\n"
                           "Subject: x\n\nbody\n", user=LOGIN_USER)
    assert r.returncode == 0, r.stderr
    files = wait_incoming(inst)
    assert len(files) == 1
    recs = read_records(files[0])
    types = "".join(t for t, _ in recs)
    x = types.index("X")
    assert [d for t, d in recs[:x] if t == "R"] == [b"extra@localhost"]
    assert [d for t, d in recs[x:] if t == "R"] == [b"a@localhost", b"b@localhost",
                                                    b"c@localhost"]
    z = [d for t, d in recs if t == "Z"][0].split()
    assert z[2] == b"4", z
    assert not any(d.startswith(b"Bcc") for t, d in recs if t == "L")


def test_notify_applies_to_extracted_recipients(make_instance, login_user):
    """-N covers the recipients -t takes from the header, as in Postfix:
    each extracted R record after X is preceded by its Y record."""
    need_submission()
    inst = make_instance(qmgr=False)
    r = inst.command("sendmail", "-t", "-N", "success,delay", "cmd@localhost",
                     input="To: a@localhost, b@localhost\nSubject: n\n\nbody\n",
                     user=LOGIN_USER)
    assert r.returncode == 0, r.stderr
    files = wait_incoming(inst)
    assert len(files) == 1
    recs = [(t, d) for t, d in read_records(files[0]) if t in "XYR"]
    x = recs.index(("X", b""))
    assert recs[:x] == [("Y", b"10"), ("R", b"cmd@localhost")]
    assert recs[x + 1:] == [("Y", b"10"), ("R", b"a@localhost"),
                            ("Y", b"10"), ("R", b"b@localhost")]


def test_lone_dot_ends_message_without_i(make_instance):
    need_submission()
    inst = make_instance()
    subj = token("dot")
    r = inst.command("sendmail", "alice@localhost",
                     input=f"Subject: {subj}\n\nbefore\n.\nafter\n")
    assert r.returncode == 0, r.stderr
    msgs = [m for m in inst.maildir_messages("alice", 1) if subj.encode() in m]
    assert len(msgs) == 1
    assert body_of(msgs[0]) == b"before\n"
    # -oi keeps the dot, CRLF input is stored with LF.
    subj2 = token("oi")
    r = inst.command("sendmail", "-oi", "alice@localhost",
                     input=f"Subject: {subj2}\r\n\r\nbefore\r\n.\r\nafter\r\n".encode())
    assert r.returncode == 0, r.stderr
    deadline = time.time() + 20
    msgs = []
    while time.time() < deadline and not msgs:
        msgs = [m for m in inst.maildir_messages("alice", 2) if subj2.encode() in m]
        time.sleep(0.2)
    assert len(msgs) == 1
    assert body_of(msgs[0]) == b"before\n.\nafter\n"


def test_bs_conversation(make_instance):
    need_submission()
    inst = make_instance()
    subj = token("bs")
    script = ("EHLO client.example\r\n"
              "MAIL FROM:<bs@example.org>\r\n"
              "RCPT TO:<alice@localhost>\r\n"
              "DATA\r\n"
              f"Subject: {subj}\r\n\r\n..leading dot\r\n.\r\n"
              "QUIT\r\n")
    r = inst.command("sendmail", "-bs", input=script.encode())
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    lines = out.split("\r\n")
    assert lines[0].startswith("220 "), out
    assert any(l.startswith("250-") for l in lines), out
    assert "354 " in out and "250 2.0.0 Ok: queued" in out, out
    assert lines[-2].startswith("221 "), out
    assert "\n" not in out.replace("\r\n", ""), "replies must end in CRLF"
    msgs = [m for m in inst.maildir_messages("alice", 1) if subj.encode() in m]
    assert len(msgs) == 1
    added, rest = split_delivered(msgs[0])
    assert added["Return-Path"] == b"<bs@example.org>"
    assert rest.endswith(b"\n\n.leading dot\n")


def test_mailq_lists_queue(make_instance):
    need_submission()
    need_command("postqueue")
    inst = make_instance(qmgr=False)
    r = inst.command("sendmail", "-f", "lister@example.org", "someone@localhost",
                     input="Subject: q\n\nx\n")
    assert r.returncode == 0, r.stderr
    assert wait_incoming(inst)
    for argv in (("mailq",), ("sendmail", "-bp")):
        r = inst.command(*argv)
        assert r.returncode == 0, r.stderr
        assert "lister@example.org" in r.stdout, r.stdout
        assert "someone@localhost" in r.stdout, r.stdout


def test_newaliases_rebuilds_alias_database(make_instance):
    need_command("postalias")
    inst = make_instance(start=False)
    (inst.etc / "aliases").write_text("postmaster: root\nteam: alice, bob\n")
    r = inst.command("postconf", "-e", f"alias_database=hash:{inst.etc}/aliases")
    assert r.returncode == 0, r.stderr
    for argv in (("newaliases",), ("sendmail", "-bi"), ("sendmail", "-I")):
        db = inst.etc / "aliases.db"
        if db.exists():
            db.unlink()
        r = inst.command(*argv)
        assert r.returncode == 0, (argv, r.stderr)
        assert db.exists(), argv
    r = inst.command("postalias", "-q", "team", f"hash:{inst.etc}/aliases")
    assert r.stdout.strip() == "alice, bob"


def test_bv_reports_routing(make_instance):
    inst = make_instance(start=False, aliases="team: alice, bob\n",
                         main={"transport_maps": "inline:{ { bad.example = error:no such domain } }"})
    r = inst.command("sendmail", "-bv", "team@localhost", "user@remote.example")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0].startswith("team@localhost: deliverable: transport=local nexthop=localhost")
    assert "alias=alice, bob" in out[0]
    assert out[1] == "user@remote.example: deliverable: transport=smtp nexthop=remote.example"
    r = inst.command("sendmail", "-bv", "alice@localhost", "x@bad.example")
    assert r.returncode == EX_NOUSER, (r.stdout, r.stderr)
    assert r.stdout.splitlines()[1] == "x@bad.example: undeliverable: no such domain"
    r = inst.command("sendmail", "-bv", "broken@")
    assert r.returncode == EX_NOUSER, (r.stdout, r.stderr)
    assert "bad address syntax" in r.stdout


def test_exit_codes(make_instance):
    inst = make_instance(start=False)
    r = inst.command("sendmail", "-Z", "a@localhost", input="x\n")
    assert r.returncode == EX_USAGE
    assert r.stderr.startswith("sendmail: fatal: "), r.stderr
    assert len(r.stderr.splitlines()) == 1
    r = inst.command("sendmail", input="x\n")
    assert r.returncode == EX_USAGE
    assert "Recipient addresses must be specified" in r.stderr
    r = inst.command("sendmail", "-t", input="Subject: none\nTo: list:;\n\nx\n")
    assert r.returncode == EX_DATAERR
    assert "No recipient addresses found in message header" in r.stderr
    r = inst.command("sendmail", "-N", "sometimes", "a@localhost", input="x\n")
    assert r.returncode == EX_USAGE
    r = inst.command("sendmail", "-R", "body", "a@localhost", input="x\n")
    assert r.returncode == EX_USAGE
    r = inst.command("sendmail", "a@localhost\n", input="x\n")
    assert r.returncode == EX_USAGE
    r = inst.command("sendmail", "-bx", input="x\n")
    assert r.returncode == EX_USAGE


def test_legacy_options_accepted(make_instance):
    need_submission()
    inst = make_instance()
    subj = token("legacy")
    r = inst.command("sendmail", "-oem", "-odi", "-o", "x", "-L", "label", "-h", "5",
                     "-B", "8BITMIME", "-U", "-m", "-n", "-X", "/dev/null", "-ODeliveryMode=b",
                     "alice@localhost", input=f"Subject: {subj}\n\nx\n")
    assert r.returncode == 0, r.stderr
    assert [m for m in inst.maildir_messages("alice", 1) if subj.encode() in m]


def test_submit_users_denied(make_instance, login_user):
    need_submission()
    inst = make_instance(main={"authorized_submit_users": "root"})
    r = inst.command("sendmail", "alice@localhost", input="x\n", user=LOGIN_USER)
    assert r.returncode == 77, r.stderr     # EX_NOPERM
    assert "not allowed to submit mail" in r.stderr


def test_snail_uses_our_sendmail(make_instance, login_user, tmp_path):
    need_submission()
    if shutil.which("s-nail") is None:
        pytest.skip("s-nail not installed")
    inst = make_instance()
    subj = token("snail")
    # A home (and TMPDIR) the user can reach: the instance directory is 0755.
    home = inst.dir / "snail-home"
    home.mkdir()
    os.chown(home, login_user.pw_uid, login_user.pw_gid)
    argv = ["setpriv", f"--reuid={login_user.pw_uid}", f"--regid={login_user.pw_gid}",
            "--init-groups", "--reset-env", "env", f"HOME={home}", "MAILRC=/dev/null",
            f"TMPDIR={home}",
            f"POSTHORN_CONFIG_DIR={inst.etc}", "PATH=/usr/bin:/bin",
            "s-nail", "-S", f"mta={inst.bin}/sendmail", "-S", "expandaddr",
            "-s", subj, "alice@localhost"]
    r = subprocess.run(argv, input="Hello from s-nail.\n", capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    msgs = [m for m in inst.maildir_messages("alice", 1) if subj.encode() in m]
    assert len(msgs) == 1
    assert b"Hello from s-nail." in msgs[0]


def test_git_send_email_uses_our_sendmail(make_instance, tmp_path):
    need_submission()
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True)
    if exec_path.returncode != 0 or not os.path.exists(
            os.path.join(exec_path.stdout.strip(), "git-send-email")):
        pytest.skip("git send-email not installed")
    if subprocess.run(["perl", "-MMail::Address", "-e1"], capture_output=True).returncode != 0:
        pytest.skip("git send-email needs Mail::Address (Debian libmailtools-perl)")
    # git send-email wants a dot in the domain.
    inst = make_instance(main={"mydestination": "localhost, posthorn.example"})
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1",
           "POSTHORN_CONFIG_DIR": str(inst.etc)}

    def git(*args):
        r = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout

    subj = token("patch")
    git("init", "-q")
    git("config", "user.name", "Patch Author")
    git("config", "user.email", "author@example.org")
    git("config", "sendemail.confirm", "never")
    (repo / "file.txt").write_text("hello\n")
    git("add", "file.txt")
    git("commit", "-q", "-m", subj)
    patch = git("format-patch", "-1", "-o", str(tmp_path / "out")).strip()
    git("send-email", f"--smtp-server={inst.bin}/sendmail", "--to=bob@posthorn.example",
        "--no-validate", "--suppress-cc=all", "--quiet", patch)
    msgs = [m for m in inst.maildir_messages("bob", 1) if subj.encode() in m]
    assert len(msgs) == 1
    assert b"From: Patch Author <author@example.org>" in msgs[0]
    assert b"+hello" in msgs[0]
