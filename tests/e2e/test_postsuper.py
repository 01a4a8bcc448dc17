"""postsuper (issue 4): hold, release, delete and requeue by id, "ALL"
and ids on standard input, on a running instance; the structure check
and repair (-s); the purge of stale temporary files (-p); and
"postsuper -h/-H/-d/-r on a queue under load loses or duplicates nothing
else": every message not deleted is delivered exactly once."""
import os
import pwd
import random
import re
import threading
import time

import pytest

from conftest import needs
from instance import built
from mailutil import token, message, send_raw
from relayutil import FAST_RETRY, status_logs_left, wait_status

pytestmark = pytest.mark.skipif(not built("postsuper") or not built("postcat"),
                                reason="postsuper/postcat not built")


def relay_main(sink, **extra):
    main = dict(FAST_RETRY)
    main["relayhost"] = f"[{sink.host}]:{sink.port}"
    main.update(extra)
    return main


def ids_in(inst, queue):
    return sorted(os.path.basename(p) for p in inst.queue_files(queue))


def wait_for(predicate, timeout=20.0):
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            return False
        time.sleep(0.1)
    return True


def postsuper(inst, *args, input=None, ok=True):
    r = inst.command("postsuper", *args, input=input)
    if ok:
        assert r.returncode == 0, f"postsuper {args}: {r.returncode}\n{r.stderr}"
    return r


def subject_of(inst, qid):
    r = inst.command("postcat", "-q", "-h", qid)
    assert r.returncode == 0, r.stderr
    m = re.search(r"^Subject: (.*)$", r.stdout, re.M)
    return m.group(1) if m else None


def deferred_messages(inst, sink, n, tag):
    """Send n messages that the sink defers; wait until all n sit in
    deferred/.  Returns {queue id: subject}."""
    subjects = []
    for i in range(n):
        subj = token(f"{tag}{i}")
        rc = f"r{i}@remote.test"
        assert send_raw(inst, "s@client.example", [rc], message(subj, to=rc))["end"][0] == 250
        subjects.append(subj)
    assert wait_for(lambda: len(ids_in(inst, "deferred")) == n
                    and not ids_in(inst, "incoming") and not ids_in(inst, "active")), \
        inst.log_text()[-3000:]
    got = {qid: subject_of(inst, qid) for qid in ids_in(inst, "deferred")}
    assert sorted(got.values()) == sorted(subjects)
    return got


def delivered_subjects(sink):
    out = []
    for m in sink.wait_messages(0, timeout=0):
        s = m.header("Subject")
        out.append(s.strip() if s else None)
    return out


def test_refused_to_other_users(make_instance, login_user):
    inst = make_instance(qmgr=False)
    r = inst.command("postsuper", "-d", "ALL", user="phtest")
    assert r.returncode == 1
    assert "postsuper: fatal: use of this command is reserved for the superuser" in r.stderr
    # mail_owner itself may.
    r = inst.command("postsuper", "-p", user="posthorn")
    assert r.returncode == 0, r.stderr
    assert "postsuper: Purged: 0 temporary files" in r.stderr


def test_usage_and_bad_ids(inst):
    r = inst.command("postsuper")
    assert r.returncode == 1 and "usage" in r.stderr
    r = inst.command("postsuper", "-d", "../../etc/passwd")
    assert r.returncode == 1
    assert "postsuper: fatal: invalid queue id" in r.stderr
    r = inst.command("postsuper", "-d", "ALL", "nosuchqueue")
    assert r.returncode == 1 and "fatal" in r.stderr
    r = inst.command("postsuper", "-H", "ALL", "deferred")
    assert r.returncode == 1 and "fatal" in r.stderr
    # A valid id that is not queued: a warning, exit 0.
    r = postsuper(inst, "-d", "0123456789ABCDE")
    assert "warning: 0123456789ABCDE: no such message" in r.stderr
    assert "postsuper: Deleted: 0 messages" in r.stderr


def test_hold_release_delete(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    sink.rcpt_default = "451 4.3.0 try again later"
    inst = make_instance(main=relay_main(sink))
    msgs = deferred_messages(inst, sink, 3, "hrd")
    a, b, c = sorted(msgs)

    r = postsuper(inst, "-h", a, "-h", b)
    assert "postsuper: Placed on hold: 2 messages" in r.stderr
    assert ids_in(inst, "hold") == sorted([a, b])
    assert inst.wait_log(f"{a}: placed on hold")

    # Only the message not on hold goes out.
    sink.rcpt_default = "250 2.1.5 Ok"
    inst.flush()
    assert len(sink.wait_messages(1)) == 1, inst.log_text()[-3000:]
    time.sleep(2.5)                 # several retry runs with FAST_RETRY
    inst.flush()
    time.sleep(1)
    assert delivered_subjects(sink) == [msgs[c]]
    assert ids_in(inst, "hold") == sorted([a, b])

    # Release one: delivered promptly (no flush needed).
    r = postsuper(inst, "-H", a)
    assert "postsuper: Released from hold: 1 message" in r.stderr
    assert len(sink.wait_messages(2)) == 2, inst.log_text()[-3000:]
    assert sorted(delivered_subjects(sink)) == sorted([msgs[a], msgs[c]])

    # Delete the other, with its status logs.
    defer_log = inst.queue / "defer" / b[-1] / b
    assert defer_log.exists()
    r = postsuper(inst, "-d", b)
    assert "postsuper: Deleted: 1 message" in r.stderr
    assert not ids_in(inst, "hold")
    assert not defer_log.exists()
    assert inst.wait_log(f"{b}: removed")
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred", "hold"))
    time.sleep(1)
    assert len(sink.messages) == 2


def test_stdin_and_all(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    sink.rcpt_default = "451 4.3.0 try again later"
    inst = make_instance(main=relay_main(sink))
    msgs = deferred_messages(inst, sink, 4, "all")
    ids = sorted(msgs)

    r = postsuper(inst, "-h", "-", input=f"{ids[0]}\n\n  {ids[1]}  \nnot-an-id\n")
    assert "postsuper: Placed on hold: 2 messages" in r.stderr
    assert "invalid queue id: not-an-id" in r.stderr
    assert ids_in(inst, "hold") == ids[:2]
    r = postsuper(inst, "-H", "ALL")
    assert "postsuper: Released from hold: 2 messages" in r.stderr
    assert not ids_in(inst, "hold")
    # Released mail is tried at once (and deferred again by the sink).
    assert wait_for(lambda: ids_in(inst, "deferred") == ids and not ids_in(inst, "active"))
    r = postsuper(inst, "-h", "ALL", "deferred")
    assert ids_in(inst, "hold") == ids
    r = postsuper(inst, "-d", "ALL")
    assert "postsuper: Deleted: 4 messages" in r.stderr
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred", "hold"))
    for qid in ids:
        for log in ("defer", "bounce", "trace"):
            assert not (inst.queue / log / qid[-1] / qid).exists()
    assert sink.transactions == 0


def test_requeue_takes_the_new_route(make_instance, sinks):
    """A deferred message waits for a long retry; after the route changes
    and a reload, postsuper -r sends it through the new route at once."""
    needs("smtp")
    old = sinks()
    old.rcpt_default = "451 4.3.0 try again later"
    new = sinks()
    slow = {"queue_run_delay": "300s", "minimal_backoff_time": "300s",
            "maximal_backoff_time": "600s"}
    inst = make_instance(main=relay_main(old, **slow))
    msgs = deferred_messages(inst, old, 1, "rq")
    (qid,) = msgs
    inst.main_overrides["relayhost"] = f"[{new.host}]:{new.port}"
    inst.write()
    assert inst.posthorn("reload").returncode == 0
    time.sleep(1)
    assert new.transactions == 0
    r = postsuper(inst, "-r", qid)
    assert "postsuper: Requeued: 1 message" in r.stderr
    got = new.wait_messages(1, timeout=20)
    assert len(got) == 1, inst.log_text()[-3000:]
    assert got[0].header("Subject").strip() == msgs[qid]
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred", "hold"))
    assert wait_status(inst, "r0@remote.test", "sent")


@pytest.mark.timeout(300)
def test_under_load_nothing_lost_or_duplicated(make_instance, sinks):
    """200 messages through SMTP to a sink while postsuper holds,
    releases, requeues and deletes a subset in a loop.  Deletes only hit
    held messages (a held message may have been delivered just before it
    was held, so a deleted one arrives at most once); every other message
    arrives exactly once."""
    needs("smtp")
    sink = sinks()
    sink.reply_delay = 0.02           # keeps messages in active/ for a while
    inst = make_instance(main=relay_main(sink))
    n = 200
    subjects = [token(f"load{i}-") for i in range(n)]
    send_errors = []

    def sender():
        try:
            for i, subj in enumerate(subjects):
                rc = f"u{i}@remote.test"
                r = send_raw(inst, "s@client.example", [rc], message(subj, to=rc))
                if r["end"][0] != 250:
                    send_errors.append((subj, r["end"]))
        except Exception as e:          # reported below
            send_errors.append(repr(e))

    t = threading.Thread(target=sender)
    t.start()
    rnd = random.Random(4)
    deleted = {}                        # queue id -> subject
    rounds = 0
    while t.is_alive() or rounds < 20:
        rounds += 1
        live = ids_in(inst, "incoming") + ids_in(inst, "active") + ids_in(inst, "deferred")
        if live:
            pick = rnd.sample(live, min(len(live), 4))
            postsuper(inst, "-h", pick[0], *(["-r", pick[1]] if len(pick) > 1 else []))
            if len(pick) > 2:
                postsuper(inst, "-r", "-", input="\n".join(pick[2:]) + "\n")
        held = ids_in(inst, "hold")
        if held and rounds % 3 == 0:
            victim = rnd.choice(held)
            subj = subject_of(inst, victim) if (inst.queue / "hold" / victim).exists() else None
            r = postsuper(inst, "-d", victim, "hold")
            if "Deleted: 1 message" in r.stderr:
                deleted[victim] = subj
        if held and rounds % 2 == 0:
            postsuper(inst, "-H", "ALL")
        time.sleep(0.05)
    t.join()
    assert not send_errors, send_errors
    # Let everything go.
    postsuper(inst, "-H", "ALL")
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred", "hold"),
                                 timeout=120), inst.log_text()[-3000:]
    time.sleep(2)
    counts = {}
    for s in delivered_subjects(sink):
        counts[s] = counts.get(s, 0) + 1
    deleted_subjects = set(deleted.values())
    assert None not in deleted_subjects
    dups = {s: c for s, c in counts.items() if c > 1}
    assert not dups, f"delivered more than once: {dups}"
    missing = [s for s in subjects if s not in counts and s not in deleted_subjects]
    assert not missing, f"{len(missing)} lost: {missing[:5]}\n{inst.log_text()[-3000:]}"
    assert set(counts) <= set(subjects)
    log = inst.log_text()
    assert "placed on hold" in log and "requeued" in log and "released from hold" in log
    assert not list((inst.queue / "corrupt").iterdir())
    # No orphaned status logs: qmgr removes what it wrote for a message
    # deleted under it.
    assert not status_logs_left(inst)


def test_structure_check_repairs(make_instance):
    inst = make_instance(qmgr=False)
    for i in range(2):
        subj = token(f"s{i}")
        assert send_raw(inst, "s@client.example", ["x@localhost"],
                        message(subj))["end"][0] == 250
    assert wait_for(lambda: len(ids_in(inst, "incoming")) == 2)
    a, b = ids_in(inst, "incoming")
    q = inst.queue
    # a: into the wrong hash directory of deferred/
    wrong = "A" if a[-1] != "A" else "B"
    (q / "deferred" / wrong).mkdir(exist_ok=True)
    os.rename(q / "incoming" / a, q / "deferred" / wrong / a)
    # b: wrong mode and owner
    os.chmod(q / "incoming" / b, 0o644)
    if os.geteuid() == 0:
        os.chown(q / "incoming" / b, 0, 0)
    # an orphaned status log
    orphan = "0123456789ABCDE"
    (q / "defer" / orphan[-1]).mkdir(exist_ok=True)
    (q / "defer" / orphan[-1] / orphan).write_bytes(b"x")
    # a file that is no queue file
    (q / "hold" / "garbage").write_bytes(b"junk")
    # a queue directory with the wrong mode
    os.chmod(q / "hold", 0o755)

    r = postsuper(inst, "-s")
    assert (q / "deferred" / a[-1] / a).exists()
    assert not (q / "deferred" / wrong / a).exists()
    assert not (q / "defer" / orphan[-1] / orphan).exists()
    assert (q / "corrupt" / "garbage").exists()
    assert not (q / "hold" / "garbage").exists()
    st = os.stat(q / "incoming" / b)
    assert st.st_mode & 0o7777 == 0o600
    if os.geteuid() == 0:
        assert st.st_uid == pwd.getpwnam("posthorn").pw_uid
        assert os.stat(q / "hold").st_mode & 0o7777 == 0o700
    assert re.search(r"Structure check: [4-9] problems fixed", r.stderr), r.stderr
    # A second run finds nothing.
    r = postsuper(inst, "-s")
    assert "Structure check: 0 problems fixed" in r.stderr, r.stderr


def test_purge_stale_temp_files(make_instance):
    inst = make_instance(qmgr=False)
    q = inst.queue
    old = q / "incoming" / ".0123456789ABCDE"
    fresh = q / "incoming" / ".0123456789ABCDF"
    junk = q / "incoming" / ".something"
    for p in (old, fresh, junk):
        p.write_bytes(b"partial")
    two_days = time.time() - 2 * 86400
    os.utime(old, (two_days, two_days))
    os.utime(junk, (two_days, two_days))
    r = postsuper(inst, "-p")
    assert "postsuper: Purged: 1 temporary file" in r.stderr, r.stderr
    assert not old.exists()
    assert fresh.exists()
    assert junk.exists()
