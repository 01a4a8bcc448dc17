"""Run as root: the real privilege separation.  smtpd, cleanup and qmgr run
as mail_owner, chrooted into the queue directory; master and local keep
root; deliveries run as the recipient or default_privs, never as
mail_owner."""
import os
import pwd
import time

import pytest

from mailutil import token, message, send_raw

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def ids(pid):
    """(real, effective, saved, fs) uids and gids of a process."""
    uid = gid = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                uid = tuple(int(x) for x in line.split()[1:])
            elif line.startswith("Gid:"):
                gid = tuple(int(x) for x in line.split()[1:])
            elif line.startswith("Groups:"):
                groups = [int(x) for x in line.split()[1:]]
    return uid, gid, groups


def test_daemons_run_as_mail_owner_in_chroot(inst):
    owner = pwd.getpwnam("posthorn")
    # Make every service run: one delivery does it.
    send_raw(inst, "s@client.example", ["priv@localhost"], message(token("priv")))
    assert inst.maildir_messages("priv", 1)
    # smtpd runs while a client is connected.
    s = inst.raw()
    for prog in ("smtpd", "cleanup", "qmgr"):
        pids = inst.wait_for_process(prog)
        assert pids, f"no {prog} process"
        for pid in pids:
            uid, gid, groups = ids(pid)
            assert uid == (owner.pw_uid,) * 4, f"{prog} uids {uid}"
            assert gid == (owner.pw_gid,) * 4, f"{prog} gids {gid}"
            assert set(groups) <= {owner.pw_gid}, f"{prog} groups {groups}"
            root = os.readlink(f"/proc/{pid}/root")
            assert root == str(inst.queue), f"{prog} root is {root}"
    s.close()


def test_master_and_local_keep_root(inst):
    masters = inst.pids_of("master")
    assert len(masters) == 1
    uid, gid, _ = ids(masters[0])
    assert uid[0] == 0 and uid[1] == 0
    assert os.readlink(f"/proc/{masters[0]}/root") == "/"
    send_raw(inst, "s@client.example", ["priv2@localhost"], message(token("priv")))
    assert inst.maildir_messages("priv2", 1)
    for pid in inst.pids_of("local"):
        uid, _, _ = ids(pid)
        # An idle local process must still be able to become any recipient.
        assert uid[1] == 0 or uid[0] == 0, f"idle local runs as {uid}"
        assert os.readlink(f"/proc/{pid}/root") == "/"


def test_delivery_never_as_mail_owner(inst):
    owner = pwd.getpwnam("posthorn")
    nobody = pwd.getpwnam("nobody")
    user = token("unknown")
    send_raw(inst, "s@client.example", [f"{user}@localhost"], message(token("p")))
    assert inst.maildir_messages(user, 1)
    new = inst.mail / user / "new"
    files = list(new.iterdir())
    assert len(files) == 1
    st = files[0].stat()
    assert st.st_uid == nobody.pw_uid, f"delivered file owned by uid {st.st_uid}"
    assert st.st_uid != owner.pw_uid


def test_queue_files_owned_by_mail_owner(inst):
    owner = pwd.getpwnam("posthorn")
    send_raw(inst, "s@client.example", ["far@example.com"], message(token("q")))

    deadline = time.time() + 15
    while time.time() < deadline and not inst.queue_files("deferred"):
        time.sleep(0.2)
    files = inst.queue_files("deferred")
    assert files
    for f in files:
        st = os.stat(inst.queue / f)
        assert st.st_uid == owner.pw_uid
        assert st.st_mode & 0o077 == 0, f"{f} mode {oct(st.st_mode)}"
