"""local(8) delivery to |command destinations named in aliases: the
command runs as default_privs (the alias table belongs to root), with a
clean environment, the message on its standard input, a time limit, and
its exit status mapped to delivered / deferred / bounced."""
import os
import pwd
import time

import pytest

from instance import identities
from mailutil import token, message, send_raw
from relayutil import wait_status


def out_dir(inst):
    """A directory the command's user can write to."""
    d = inst.dir / "out"
    d.mkdir(exist_ok=True)
    os.chmod(d, 0o777)
    return d


def send(inst, rcpt, subject=None, headers=()):
    subject = subject or token("cmd")
    content = message(subject, to=rcpt, headers=headers)
    r = send_raw(inst, "sender@client.example", [rcpt], content)
    assert r["end"][0] == 250, r["end"]
    return subject


ALIASES = """\
postmaster: root
cmdtee: "|/usr/bin/tee -a $D/out/tee.txt"
cmdenv: "|(env; echo uid=`id -u`; pwd) > $D/out/env.txt"
cmdtemp: "|echo trying again later; exit 75"
cmdfail: "|echo no such mailbox here >&2; exit 1"
cmdsleep: "|echo $$ > $D/out/sleep.pid; exec sleep 60"
cmdnotfound: |/nonexistent/program
"""


@pytest.fixture
def cmd_inst(make_instance):
    inst = make_instance(aliases=ALIASES, start=False,
                         main={"command_time_limit": "3s"})
    out_dir(inst)
    inst.start()
    return inst


def wait_file(path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and path.stat().st_size > 0:
            time.sleep(0.2)
            return path.read_bytes()
        time.sleep(0.1)
    return b""


def test_command_gets_message_on_stdin(cmd_inst):
    inst = cmd_inst
    subj = send(inst, "cmdtee@localhost")
    data = wait_file(inst.dir / "out" / "tee.txt")
    assert subj.encode() in data, inst.log_text()[-3000:]
    first = data.split(b"\n", 1)[0]
    assert first.startswith(b"From sender@client.example "), first
    assert b"\nReturn-Path: <sender@client.example>\n" in data
    assert b"\nDelivered-To: cmdtee@localhost\n" in data
    st = wait_status(inst, "cmdtee@localhost", "sent")
    assert st and st[0].group("dsn") == "2.0.0", inst.log_text()[-3000:]
    assert inst.wait_queue_empty()


def test_command_environment_and_identity(cmd_inst):
    inst = cmd_inst
    send(inst, "cmdenv@localhost")
    data = wait_file(inst.dir / "out" / "env.txt").decode()
    assert data, inst.log_text()[-3000:]
    env = dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
    _owner, privs = identities()
    pw = pwd.getpwnam(privs)
    assert env["uid"] == str(pw.pw_uid)
    assert env["SENDER"] == "sender@client.example"
    assert env["RECIPIENT"] == "cmdenv@localhost"
    assert env["LOCAL"] == "cmdenv"
    assert env["DOMAIN"] == "localhost"
    assert env["EXTENSION"] == ""
    assert env["ORIGINAL_RECIPIENT"] == "cmdenv@localhost"
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["USER"] == privs and env["LOGNAME"] == privs
    assert "HOME" in env and "SHELL" in env
    # Nothing of the daemon's own environment leaks through.
    assert "POSTHORN_CONFIG_DIR" not in env and "MAIL_CONFIG" not in env
    assert set(env) - {"uid", "PWD", "SHLVL", "_", "OLDPWD", "TZ", "LANG"} <= {
        "HOME", "LOGNAME", "USER", "SHELL", "PATH", "SENDER", "RECIPIENT",
        "LOCAL", "DOMAIN", "EXTENSION", "ORIGINAL_RECIPIENT"}, env


def test_exit_75_defers(cmd_inst):
    inst = cmd_inst
    send(inst, "cmdtemp@localhost")
    st = wait_status(inst, "cmdtemp@localhost", "deferred")
    assert st, inst.log_text()[-3000:]
    assert st[0].group("dsn").startswith("4."), st[0].group(0)
    assert "status 75" in st[0].group("text")
    assert "trying again later" in st[0].group("text")


def test_exit_1_bounces_with_output(cmd_inst):
    inst = cmd_inst
    send(inst, "cmdfail@localhost")
    st = wait_status(inst, "cmdfail@localhost", "bounced")
    assert st, inst.log_text()[-3000:]
    assert st[0].group("dsn").startswith("5."), st[0].group(0)
    assert "no such mailbox here" in st[0].group("text")


def test_missing_program_bounces(cmd_inst):
    inst = cmd_inst
    send(inst, "cmdnotfound@localhost")
    st = wait_status(inst, "cmdnotfound@localhost", "bounced")
    assert st, inst.log_text()[-3000:]
    assert "/nonexistent/program" in st[0].group("text")


@pytest.mark.timeout(60)
def test_time_limit_kills_and_defers(cmd_inst):
    inst = cmd_inst
    send(inst, "cmdsleep@localhost")
    st = wait_status(inst, "cmdsleep@localhost", "deferred", timeout=30)
    assert st, inst.log_text()[-3000:]
    assert "time limit" in st[0].group("text"), st[0].group(0)
    # The sleeping command (its pid written before the exec) is gone.
    pid = int((inst.dir / "out" / "sleep.pid").read_text())
    deadline = time.time() + 5
    while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
        time.sleep(0.1)
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        state = "gone"
    assert state in ("gone", "Z", "X"), f"command {pid} still running"


def test_commands_not_allowed_bounce(make_instance):
    inst = make_instance(aliases=ALIASES, start=False,
                         main={"allow_mail_to_commands": ""})
    out_dir(inst)
    inst.start()
    send(inst, "cmdtee@localhost")
    st = wait_status(inst, "cmdtee@localhost", "bounced")
    assert st, inst.log_text()[-3000:]
    assert st[0].group("dsn") == "5.7.1"
    assert "mail to command is restricted" in st[0].group("text")
    assert not (inst.dir / "out" / "tee.txt").exists()


def test_no_delivered_to_when_not_asked(make_instance):
    inst = make_instance(aliases=ALIASES, start=False,
                         main={"prepend_delivered_header": "forward"})
    out_dir(inst)
    inst.start()
    subj = send(inst, "cmdtee@localhost")
    data = wait_file(inst.dir / "out" / "tee.txt")
    assert subj.encode() in data, inst.log_text()[-3000:]
    assert b"Delivered-To:" not in data


def test_alias_table_owner_runs_commands(make_instance, login_user):
    """A table that belongs to a user runs its commands as that user."""
    inst = make_instance(aliases="postmaster: root\nowned: \"|id -u > $D/out/owner.txt\"\n",
                         start=False)
    out_dir(inst)
    os.chown(inst.etc / "aliases", login_user.pw_uid, login_user.pw_gid)
    inst.start()
    send(inst, "owned@localhost")
    data = wait_file(inst.dir / "out" / "owner.txt")
    assert data.strip() == str(login_user.pw_uid).encode(), inst.log_text()[-3000:]
