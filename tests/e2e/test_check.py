"""posthorn check and status on good and broken instances."""
import os

import pytest


def test_check_clean_on_good_instance(make_instance):
    inst = make_instance(start=False)
    r = inst.posthorn("check")
    assert r.returncode == 0, r.stdout + r.stderr
    inst.start()
    r = inst.posthorn("check")
    assert r.returncode == 0, r.stdout + r.stderr


def test_check_reports_mail_owner_root(make_instance):
    inst = make_instance(main={"mail_owner": "root"}, start=False)
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "mail_owner" in r.stdout + r.stderr


@pytest.mark.skipif(os.geteuid() != 0,
                    reason="as a normal user every daemon runs as that user; mail_owner is unused")
def test_check_reports_unknown_mail_owner(make_instance):
    inst = make_instance(main={"mail_owner": "no-such-user-xyzzy"}, start=False)
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no-such-user-xyzzy" in r.stdout + r.stderr


def test_check_reports_bad_value(make_instance):
    inst = make_instance(main={"smtpd_timeout": "banana"}, start=False)
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "smtpd_timeout" in r.stdout + r.stderr


def test_check_reports_bad_master_cf(make_instance):
    inst = make_instance(start=False)
    with open(inst.etc / "master.cf", "a") as f:
        f.write("broken inet n\n")
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "master.cf" in r.stdout + r.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_check_reports_queue_dir_not_traversable(make_instance):
    inst = make_instance(start=False)
    os.chmod(inst.queue, 0o700)
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "queue" in r.stdout + r.stderr


def test_status(make_instance):
    inst = make_instance(start=False)
    r = inst.posthorn("status")
    assert r.returncode != 0, r.stdout + r.stderr
    inst.start()
    r = inst.posthorn("status")
    assert r.returncode == 0, r.stdout + r.stderr
    inst.stop()
    r = inst.posthorn("status")
    assert r.returncode != 0, r.stdout + r.stderr


def test_start_stop_leaves_no_processes(make_instance):
    inst = make_instance()
    assert inst.pids_of("master")
    assert inst.pids_of("qmgr") or inst.wait_for_process("qmgr")
    r = inst.posthorn("stop")
    assert r.returncode == 0, r.stdout + r.stderr
    assert inst.wait_gone(15), f"still running: {inst.processes()}"
    assert not inst.wait_listening(timeout=1)


def test_check_reports_public_cleanup(make_instance):
    """cleanup must be private: smtpd connects to private/cleanup."""
    inst = make_instance(start=False)
    mcf = inst.etc / "master.cf"
    text = mcf.read_text()
    assert "\ncleanup      unix  - - y - 0 cleanup" in text
    mcf.write_text(text.replace("cleanup      unix  - - y", "cleanup      unix  n - y"))
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "cleanup must be private" in r.stdout + r.stderr


def test_check_reports_missing_local(make_instance):
    inst = make_instance(start=False, local=False)
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'no private service "local"' in r.stdout + r.stderr


def test_check_reports_missing_transport_service(make_instance):
    """default_transport names a service master.cf must have."""
    inst = make_instance(main={"default_transport": "smtp-out"}, start=False)
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'no private service "smtp-out"' in r.stdout + r.stderr


@pytest.mark.skipif(os.geteuid() != 0,
                    reason="a development instance needs no set-group-id commands")
def test_check_reports_postdrop_without_setgid(make_instance):
    inst = make_instance(start=False)
    postdrop = inst.bin / "postdrop"
    os.chmod(postdrop, 0o755)
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{postdrop} must be owned by root, group posthorndrop, mode 2755" in r.stdout + r.stderr
    assert "chmod 2755" in r.stdout + r.stderr
    os.chmod(postdrop, 0o2755)
    assert inst.posthorn("check").returncode == 0


def test_check_reports_missing_showq(make_instance):
    inst = make_instance(start=False)
    master = inst.etc / "master.cf"
    master.write_text("".join(l for l in master.read_text().splitlines(True)
                              if not l.startswith("showq")))
    r = inst.posthorn("check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert 'no "showq" service' in r.stdout + r.stderr
