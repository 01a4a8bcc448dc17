""".forward files, :include: lists, forwarding to remote addresses and
mail loop detection (Delivered-To:) in local(8).  The .forward tests use
the real account of the login_user fixture ("phtest") and remove its
.forward again afterwards."""
import os
import time

import pytest

from conftest import needs
from mailutil import token, message, send_raw, split_delivered
from relayutil import FAST_RETRY, wait_status


def send(inst, rcpt, headers=(), sender="sender@client.example"):
    subject = token("fwd")
    content = message(subject, to=rcpt, headers=headers, sender=sender)
    r = send_raw(inst, sender, [rcpt], content)
    assert r["end"][0] == 250, r["end"]
    return subject


@pytest.fixture
def forward_file(login_user):
    """write(text) puts text in phtest's .forward (owned by phtest, mode
    0644); the file is removed at teardown."""
    path = os.path.join(login_user.pw_dir, ".forward")

    def write(text):
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, login_user.pw_uid, login_user.pw_gid)
        os.chmod(path, 0o644)
        return path

    yield write
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def user_dir(inst, pw, name):
    """A directory of the instance that the user pw owns."""
    d = inst.dir / name
    d.mkdir(exist_ok=True)
    os.chown(d, pw.pw_uid, pw.pw_gid)
    return d


def wait_file(path, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and path.stat().st_size > 0:
            time.sleep(0.2)
            return path.read_bytes()
        time.sleep(0.1)
    return b""


def test_forward_to_local_address(make_instance, forward_file, login_user):
    inst = make_instance()
    forward_file("# forward everything\nfwdtarget@localhost\n")
    subj = send(inst, f"{login_user.pw_name}@localhost")
    msgs = inst.maildir_messages("fwdtarget", 1)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert subj.encode() in msgs[0]
    assert not inst.maildir_messages(login_user.pw_name, 1, timeout=1)
    st = wait_status(inst, f"{login_user.pw_name}@localhost", "sent")
    assert st, inst.log_text()[-3000:]


def test_forward_to_command_runs_as_user(make_instance, forward_file, login_user):
    inst = make_instance()
    out = user_dir(inst, login_user, "out")
    forward_file(f'"|(id -u; echo home=$HOME; pwd; cat) > {out}/cmd.txt"\n')
    subj = send(inst, f"{login_user.pw_name}@localhost")
    data = wait_file(out / "cmd.txt")
    assert data, inst.log_text()[-3000:]
    lines = data.decode().splitlines()
    assert lines[0] == str(login_user.pw_uid)
    assert lines[1] == f"home={login_user.pw_dir}"
    assert lines[2] == login_user.pw_dir
    assert subj in data.decode()
    assert f"Delivered-To: {login_user.pw_name}@localhost" in data.decode()


def test_forward_to_file_and_keep_copy(make_instance, forward_file, login_user):
    inst = make_instance()
    out = user_dir(inst, login_user, "out")
    user_dir(inst, login_user, "mail/" + login_user.pw_name)
    forward_file(f"{out}/mbox, \\{login_user.pw_name}\n")
    subj = send(inst, f"{login_user.pw_name}@localhost")
    data = wait_file(out / "mbox")
    assert subj.encode() in data, inst.log_text()[-3000:]
    assert data.startswith(b"From sender@client.example ")
    assert os.stat(out / "mbox").st_uid == login_user.pw_uid
    msgs = inst.maildir_messages(login_user.pw_name, 1)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    added, rest = split_delivered(msgs[0])
    assert subj.encode() in rest
    assert added["Delivered-To"] == f"{login_user.pw_name}@localhost".encode()


def test_forward_files_not_allowed(make_instance, forward_file, login_user):
    inst = make_instance(main={"allow_mail_to_files": "alias"})
    out = user_dir(inst, login_user, "out")
    forward_file(f"{out}/mbox\n")
    send(inst, f"{login_user.pw_name}@localhost")
    st = wait_status(inst, f"{login_user.pw_name}@localhost", "bounced")
    assert st, inst.log_text()[-3000:]
    assert st[0].group("dsn") == "5.7.1"
    assert not (out / "mbox").exists()


def test_group_writable_forward_is_ignored(make_instance, forward_file, login_user):
    inst = make_instance()
    path = forward_file("elsewhere@localhost\n")
    os.chmod(path, 0o666)
    user_dir(inst, login_user, "mail/" + login_user.pw_name)
    send(inst, f"{login_user.pw_name}@localhost")
    assert len(inst.maildir_messages(login_user.pw_name, 1)) == 1, inst.log_text()[-3000:]
    assert not inst.maildir_messages("elsewhere", 1, timeout=1)


def test_forward_to_remote_address_through_cleanup(make_instance, forward_file, login_user,
                                                   sinks):
    needs("smtp")
    sink = sinks()
    sink.dsn = True
    main = dict(FAST_RETRY)
    main["relayhost"] = f"[{sink.host}]:{sink.port}"
    inst = make_instance(main=main)
    forward_file("far@remote.test\n")
    subj = send(inst, f"{login_user.pw_name}@localhost")
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    m = msgs[0]
    assert m.mail_from == "sender@client.example"
    assert [a for a, _ in m.rcpts] == ["far@remote.test"]
    # The forwarded recipient keeps the original one for DSNs.
    assert f"ORCPT=rfc822;{login_user.pw_name}@localhost".lower() in str(m.rcpts[0][1]).lower(), m.rcpts
    assert subj.encode() in m.data
    assert f"Delivered-To: {login_user.pw_name}@localhost".encode() in m.data
    st = wait_status(inst, f"{login_user.pw_name}@localhost", "sent")
    assert st and "forwarded as" in st[0].group("text"), inst.log_text()[-3000:]


def test_alias_to_remote_address(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    main = dict(FAST_RETRY)
    main["relayhost"] = f"[{sink.host}]:{sink.port}"
    inst = make_instance(main=main, aliases="postmaster: root\nteam: a@remote.test, b@remote.test, carol\n")
    subj = send(inst, "team@localhost")
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert sorted(a for a, _ in msgs[0].rcpts) == ["a@remote.test", "b@remote.test"]
    assert b"Delivered-To: team@localhost" in msgs[0].data
    assert subj.encode() in inst.maildir_messages("carol", 1)[0]


def test_include_list(make_instance):
    inst = make_instance(aliases="postmaster: root\nlist: :include:$D/etc/list.txt\n",
                         start=False)
    (inst.etc / "list.txt").write_text("# members\nincl1\n\n  incl2@localhost, incl3\n")
    os.chmod(inst.etc / "list.txt", 0o644)
    inst.start()
    subj = send(inst, "list@localhost")
    for u in ("incl1", "incl2", "incl3"):
        msgs = inst.maildir_messages(u, 1)
        assert len(msgs) == 1, (u, inst.log_text()[-3000:])
        assert subj.encode() in msgs[0]


def test_include_commands_need_include_permission(make_instance):
    inst = make_instance(aliases="postmaster: root\nlist: :include:$D/etc/list.txt\n",
                         start=False)
    (inst.etc / "list.txt").write_text(f'"|cat > {inst.dir}/out.txt"\n')
    inst.start()
    send(inst, "list@localhost")
    st = wait_status(inst, "list@localhost", "bounced")
    assert st and st[0].group("dsn") == "5.7.1", inst.log_text()[-3000:]


def test_delivered_to_loop_bounces(make_instance):
    inst = make_instance()
    send(inst, "looper@localhost", headers=["Delivered-To: Looper@localhost"])
    st = wait_status(inst, "looper@localhost", "bounced")
    assert st, inst.log_text()[-3000:]
    assert st[0].group("dsn") == "5.4.6"
    assert "mail forwarding loop for looper@localhost" in st[0].group("text")
    assert not inst.maildir_messages("looper", 1, timeout=1)


def test_alias_loop_terminates(make_instance):
    inst = make_instance(aliases="postmaster: root\nloopa: loopb\nloopb: loopa, loopc\n")
    send(inst, "loopa@localhost")
    assert inst.wait_queue_empty(timeout=20), inst.queue_files()
    assert wait_status(inst, "loopa@localhost", "sent"), inst.log_text()[-3000:]
    # One copy each, duplicates removed within the expansion.
    assert len(inst.maildir_messages("loopc", 1)) == 1
    assert len(inst.maildir_messages("loopa", 1)) == 1
    time.sleep(1)
    assert len(inst.maildir_messages("loopa", 1)) == 1


def test_forward_naming_its_own_user_keeps_mail(make_instance, forward_file, login_user):
    inst = make_instance()
    user_dir(inst, login_user, "mail/" + login_user.pw_name)
    forward_file(f"{login_user.pw_name}, selfcopy@localhost\n")
    subj = send(inst, f"{login_user.pw_name}@localhost")
    mine = inst.maildir_messages(login_user.pw_name, 1)
    assert len(mine) == 1 and subj.encode() in mine[0], inst.log_text()[-3000:]
    assert len(inst.maildir_messages("selfcopy", 1)) == 1


def test_include_loop_terminates(make_instance):
    inst = make_instance(aliases="postmaster: root\nring: :include:$D/etc/ring1\n",
                         start=False)
    (inst.etc / "ring1").write_text(f"ringmember1\n:include:{inst.etc}/ring2\n")
    (inst.etc / "ring2").write_text(f"ringmember2\n:include:{inst.etc}/ring1\n")
    inst.start()
    send(inst, "ring@localhost")
    assert inst.wait_queue_empty(timeout=20), inst.queue_files()
    for u in ("ringmember1", "ringmember2"):
        assert len(inst.maildir_messages(u, 1)) == 1, (u, inst.log_text()[-3000:])
    assert wait_status(inst, "ring@localhost", "sent"), inst.log_text()[-3000:]


def test_forward_file_per_extension(make_instance, forward_file, login_user):
    inst = make_instance(main={"recipient_delimiter": "+"})
    forward_file("plainfwd@localhost\n")
    ext_path = os.path.join(login_user.pw_dir, ".forward+list")
    with open(ext_path, "w") as f:
        f.write("listfwd@localhost\n")
    os.chown(ext_path, login_user.pw_uid, login_user.pw_gid)
    try:
        send(inst, f"{login_user.pw_name}+list@localhost")
        assert len(inst.maildir_messages("listfwd", 1)) == 1, inst.log_text()[-3000:]
        send(inst, f"{login_user.pw_name}+other@localhost")
        assert len(inst.maildir_messages("plainfwd", 1)) == 1, inst.log_text()[-3000:]
        assert not inst.maildir_messages("listfwd", 2, timeout=1)[1:]
    finally:
        os.unlink(ext_path)
