"""Nothing acknowledged with 250 is ever lost: across a restart of the
whole system, with mail sitting in deferred/ or incoming/, and when
daemons are SIGKILLed in the middle of a load."""
import os
import re
import signal
import socket
import threading
import time

import pytest

from mailutil import token, message, send_raw, split_delivered, lf

FAST_RETRY = {
    "queue_run_delay": "1s",
    "minimal_backoff_time": "1s",
    "maximal_backoff_time": "2s",
}


def queue_ids(files):
    return {os.path.basename(f) for f in files if not os.path.basename(f).startswith(".")}


def test_deferred_mail_survives_restart(inst):
    subj = token("defer")
    r = send_raw(inst, "s@client.example", ["someone@example.com"], message(subj))
    assert r["rcpt"][0][0] == 250
    assert r["end"][0] == 250
    deadline = time.time() + 20
    while time.time() < deadline and not inst.queue_files("deferred"):
        time.sleep(0.2)
    deferred = queue_ids(inst.queue_files("deferred"))
    assert len(deferred) == 1, inst.queue_files()
    assert inst.wait_log("status=deferred")
    assert re.search(r"to=<someone@example\.com>.*status=deferred", inst.log_text())

    inst.stop()
    assert queue_ids(inst.queue_files("deferred")) == deferred
    inst.start()
    time.sleep(1)
    # Still deferred (no route), still exactly one copy, not lost.
    assert queue_ids(inst.queue_files()) == deferred


def test_incoming_mail_survives_restart(inst):
    qmgr = inst.wait_for_process("qmgr")
    assert qmgr, "qmgr is not running"
    inst.kill("qmgr", signal.SIGSTOP)
    subj = token("incoming")
    content = message(subj)
    r = send_raw(inst, "s@client.example", ["mona@localhost"], content)
    assert r["end"][0] == 250
    assert len(queue_ids(inst.queue_files("incoming"))) == 1, inst.queue_files()
    assert inst.maildir_messages("mona", 1, timeout=1) == []
    # Stop everything while qmgr is frozen (it is SIGKILLed as a leftover).
    inst.stop()
    assert not inst.pids_of()
    assert len(queue_ids(inst.queue_files())) == 1
    inst.start()
    msgs = inst.maildir_messages("mona", 1, timeout=20)
    assert len(msgs) == 1
    assert split_delivered(msgs[0])[1] == lf(content)
    assert inst.wait_queue_empty()


def test_failed_delivery_retried_after_restart(make_instance):
    """Without a local service, delivery fails; the message must stay
    queued and be delivered once local exists."""
    inst = make_instance(main=FAST_RETRY, local=False)
    content = message(token("active"))
    r = send_raw(inst, "s@client.example", ["nina@localhost"], content)
    assert r["end"][0] == 250
    # Without a local service the delivery cannot complete.
    time.sleep(2)
    assert queue_ids(inst.queue_files()), "message vanished without delivery"
    inst.stop()
    inst.local = True
    inst.write()
    inst.start()
    msgs = inst.maildir_messages("nina", 1, timeout=30)
    assert len(msgs) == 1, inst.queue_files()
    assert split_delivered(msgs[0])[1] == lf(content)


def send_load(inst, tag, acked, errors, stop, limit=75, pause=0.03):
    """Send messages one after another until stop is set (or limit),
    reconnecting after any failure; record the Subject token of every
    message that got 250."""
    i = 0
    s = None
    while i < limit and not stop.is_set():
        subj = f"{tag}-{i}"
        try:
            if s is None:
                s = inst.raw(timeout=20)
                if s.banner[0] != 220 or s.cmd("EHLO client.example")[0] != 250:
                    raise OSError("no session")
            if s.cmd("MAIL FROM:<load@client.example>")[0] != 250:
                raise OSError("MAIL")
            if s.cmd("RCPT TO:<loaduser@localhost>")[0] != 250:
                raise OSError("RCPT")
            if s.cmd("DATA")[0] != 354:
                raise OSError("DATA")
            s.send(message(subj, body=b"load test body\r\n" * 20) + b".\r\n")
            code, _ = s.reply(timeout=30)
            if code == 250:
                acked.append(subj)
            else:
                errors.append((subj, code))
                s.cmd("RSET")
            i += 1
            time.sleep(pause)
        except (OSError, socket.timeout) as e:
            errors.append((subj, repr(e)))
            if s is not None:
                s.close()
            s = None
            i += 1
            time.sleep(0.05)
    if s is not None:
        try:
            s.cmd("QUIT")
        except OSError:
            pass
        s.close()


@pytest.mark.timeout(300)
def test_sigkill_daemons_under_load_loses_nothing(make_instance):
    """4 clients send 300 messages while qmgr, cleanup and smtpd are
    SIGKILLed in turn every 0.25 s; every message that got 250 must be
    delivered (duplicates are allowed, losses are not)."""
    inst = make_instance(main=FAST_RETRY)
    acked, errors = [], []
    stop = threading.Event()
    threads = [threading.Thread(target=send_load, args=(inst, f"L{k}", acked, errors, stop))
               for k in range(4)]
    for t in threads:
        t.start()
    kills = 0
    victims = ["qmgr", "cleanup", "smtpd"]
    deadline = time.time() + 90
    while any(t.is_alive() for t in threads) and time.time() < deadline:
        time.sleep(0.25)
        if inst.kill(victims[kills % 3], signal.SIGKILL):
            kills += 1
    stop.set()
    for t in threads:
        t.join()
    assert kills >= 6, f"only {kills} daemons were killed during the load"
    assert len(acked) >= 50, f"too few messages accepted: {len(acked)}; errors {errors[:10]}"

    # New mail still flows after the load (master replaced every killed
    # daemon without throttling the service).
    content = message(token("after"))
    r = send_raw(inst, "s@client.example", ["afterload@localhost"], content)
    assert r["end"][0] == 250
    assert len(inst.maildir_messages("afterload", 1, timeout=20)) == 1

    # Let master respawn what is needed and the queue drain.
    deadline = time.time() + 120
    delivered = set()
    while time.time() < deadline:
        msgs = inst.maildir_messages("loaduser", len(acked), timeout=1)
        delivered = set()
        for m in msgs:
            found = re.search(rb"(?m)^Subject: (L\d-\d+)$", m)
            if found:
                delivered.add(found.group(1).decode())
        if set(acked) <= delivered and not inst.queue_files("incoming") \
                and not inst.queue_files("active"):
            break
        time.sleep(1)
    missing = sorted(set(acked) - delivered)
    assert not missing, (f"{len(missing)} of {len(acked)} acknowledged messages not "
                         f"delivered: {missing[:20]}; queue: {inst.queue_files()[:20]}")
    assert not inst.queue_files("corrupt"), inst.queue_files("corrupt")


def make_queue_id(seconds, usec, rnd):
    """A queue id as lib/queue_id.c makes them: 7 + 4 + 4 base-32 digits."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUV"

    def digits(value, count):
        return "".join(alphabet[(value >> (5 * (count - 1 - i))) & 31] for i in range(count))
    return digits(seconds, 7) + digits(usec, 4) + digits(rnd, 4)


def test_corrupt_queue_file_is_quarantined(inst):
    """A queue file that cannot be parsed goes to corrupt/ with a log line;
    qmgr keeps serving and other mail is delivered."""
    bad_id = make_queue_id(int(time.time()) - 5, 12345, 777)
    path = inst.queue / "incoming" / bad_id
    path.write_bytes(b"V\x011Z\x05hello-this-is-not-a-queue-file")
    if os.geteuid() == 0:
        st = os.stat(inst.queue / "incoming")
        os.chown(path, st.st_uid, st.st_gid)
    os.chmod(path, 0o600)
    content = message(token("after-corrupt"))
    r = send_raw(inst, "s@client.example", ["carol@localhost"], content)
    assert r["end"][0] == 250
    msgs = inst.maildir_messages("carol", 1, timeout=20)
    assert len(msgs) == 1
    assert split_delivered(msgs[0])[1] == lf(content)
    assert inst.wait_log(f"{bad_id}: corrupt queue file")
    assert queue_ids(inst.queue_files("corrupt")) == {bad_id}
    assert bad_id not in queue_ids(inst.queue_files("incoming") + inst.queue_files("active"))
    assert inst.pids_of("qmgr"), "qmgr died on a corrupt file"
