"""qmgr's outbound scheduling (issue 3): deferral and retry without
duplicates, a dead destination never starving a healthy one, connection
reuse, recipient limits per transaction, timeouts, and no loss when smtp
and qmgr are SIGKILLed during delivery."""
import os
import signal
import threading
import time

import pytest

from conftest import needs
from mailutil import token, message, send_raw
from relayutil import FAST_RETRY, status_lines, wait_status, split_received


def relay_main(sink, **extra):
    main = dict(FAST_RETRY)
    main["relayhost"] = f"[{sink.host}]:{sink.port}"
    main.update(extra)
    return main


def routes(**dest):
    """transport_maps with one domain -> smtp:[127.0.0.1]:port per item."""
    items = ", ".join(f"{d}=smtp:[127.0.0.1]:{p}" for d, p in dest.items())
    return f"inline:{{ {items} }}"


def wait_for(predicate, timeout=10.0):
    """Poll predicate until it holds or timeout seconds pass."""
    deadline = time.time() + timeout
    while not predicate():
        if time.time() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_4xx_deferred_then_delivered_once(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    sink.rcpt_default = "451 4.3.0 try again later"
    inst = make_instance(main=relay_main(sink))
    rcpt = "later@remote.test"
    content = message(token("retry"), to=rcpt)
    assert send_raw(inst, "s@client.example", [rcpt], content)["end"][0] == 250
    lines = wait_status(inst, rcpt, "deferred", timeout=20)
    assert lines, inst.log_text()[-3000:]
    assert lines[0].group("dsn").startswith("4."), lines[0].group(0)
    assert "451" in lines[0].group("text")
    assert sink.transactions == 0

    sink.rcpt_default = "250 2.1.5 Ok"
    inst.flush()
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert split_received(msgs[0].data)[1] == content
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"), timeout=20)
    assert wait_status(inst, rcpt, "sent")
    time.sleep(2.5)                       # retries would have happened by now
    inst.flush()
    time.sleep(1)
    assert sink.transactions == 1, "delivered more than once"
    assert len(status_lines(inst, rcpt, "sent")) == 1


def test_data_timeout_defers_then_delivers(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    sink.stall_at = "dot"
    inst = make_instance(main=relay_main(sink, smtp_data_done_timeout="2s"))
    rcpt = "t@remote.test"
    content = message(token("timeout"), to=rcpt)
    assert send_raw(inst, "s@client.example", [rcpt], content)["end"][0] == 250
    lines = wait_status(inst, rcpt, "deferred", timeout=20)
    assert lines, inst.log_text()[-3000:]
    sink.stall_at = None
    inst.flush()
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"), timeout=20)


def test_dead_destination_does_not_starve_healthy_one(make_instance, sinks):
    """One next hop accepts connections and then says nothing (its
    deliveries hang until smtp_helo_timeout), another refuses
    connections; the healthy one's mail is delivered promptly while the
    others' mail stays queued."""
    needs("smtp")
    healthy = sinks()
    stalled = sinks()
    stalled.on_connect = "stall"
    refused = sinks(start=False)          # nothing listens there
    inst = make_instance(main=dict(
        FAST_RETRY,
        transport_maps=routes(**{"healthy.test": healthy.port,
                                 "stalled.test": stalled.port,
                                 "refused.test": refused.port}),
        smtp_helo_timeout="60s", smtp_connect_timeout="5s"))
    n_dead, n_ok = 15, 30

    def send_many(domain, n, tag):
        for i in range(n):
            rc = f"u{i}@{domain}"
            r = send_raw(inst, "s@client.example", [rc], message(token(f"{tag}{i}"), to=rc))
            assert r["end"][0] == 250

    # The dead destinations' mail first, so it is ahead in the queue.
    send_many("stalled.test", n_dead, "st")
    send_many("refused.test", n_dead, "rf")
    t0 = time.time()
    send_many("healthy.test", n_ok, "ok")
    msgs = healthy.wait_messages(n_ok, timeout=20)
    elapsed = time.time() - t0
    assert len(msgs) == n_ok, (f"only {len(msgs)} of {n_ok} healthy messages in "
                               f"{elapsed:.1f}s; log:\n{inst.log_text()[-3000:]}")
    assert elapsed < 15, f"healthy mail took {elapsed:.1f}s"
    assert stalled.transactions == 0
    assert stalled.connections >= 1, "the stalled destination was never tried"
    # The dead destinations' mail is still queued, none lost.
    queued = [f for f in inst.queue_files() if not f.startswith("corrupt")]
    assert len(queued) == 2 * n_dead, (len(queued), inst.queue_files())


def test_connection_reuse(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    inst = make_instance(main=relay_main(sink))
    n = 10
    for i in range(n):
        rc = f"c{i}@remote.test"
        assert send_raw(inst, "s@client.example", [rc], message(token(f"reuse{i}"), to=rc))["end"][0] == 250
    msgs = sink.wait_messages(n, timeout=30)
    assert len(msgs) == n, inst.log_text()[-3000:]
    assert sink.transactions == n
    assert sink.connections <= n // 2, \
        f"{sink.connections} connections for {n} messages: no connection reuse"
    # The status lines say so too (Postfix's conn_use=N on reuse).
    sent = [wait_status(inst, f"c{i}@remote.test", "sent") for i in range(n)]
    assert all(len(x) == 1 for x in sent), inst.log_text()[-3000:]
    assert any(x[0].group("conn_use") for x in sent), "no conn_use=N on any status line"
    assert inst.wait_queue_empty()


def test_dead_destination_is_suspended(make_instance, sinks):
    """A destination whose deliveries fail at connection level (here: the
    greeting never comes) is marked dead after about a window's worth of
    failures: the rest of its queued mail is deferred ("delivery
    temporarily suspended") without new connections."""
    needs("smtp")
    sink = sinks()
    sink.on_connect = "stall"
    inst = make_instance(main=relay_main(sink, minimal_backoff_time="60s",
                                         maximal_backoff_time="120s",
                                         queue_run_delay="60s",
                                         smtp_helo_timeout="3s",
                                         initial_destination_concurrency="5"))
    rcpts = [f"d{i}@remote.test" for i in range(12)]
    for rc in rcpts:
        assert send_raw(inst, "s@client.example", [rc], message(token("dead"), to=rc))["end"][0] == 250
    for rc in rcpts:
        st = wait_status(inst, rc, "deferred", timeout=30)
        assert st, f"{rc} not deferred; log:\n{inst.log_text()[-3000:]}"
    assert inst.log_matches(r"delivery (temporarily )?suspended"), inst.log_text()[-3000:]
    assert sink.connections <= 7, \
        f"{sink.connections} connections for {len(rcpts)} messages to a dead destination"
    # The status line is logged before the file leaves active/.
    assert wait_for(lambda: len(inst.queue_files("deferred")) == len(rcpts)), inst.queue_files()


def test_4xx_greeting_counts_against_the_destination(make_instance, sinks):
    """A host that answers every connection with 421 is a failing site,
    like one that refuses connections: after a window of failures the
    destination is suspended and its queued mail waits without new
    connections."""
    needs("smtp")
    sink = sinks()
    sink.greeting = "421 4.3.2 sink.test Service not available"
    inst = make_instance(main=relay_main(sink, minimal_backoff_time="60s",
                                         maximal_backoff_time="120s",
                                         queue_run_delay="60s",
                                         initial_destination_concurrency="2"))
    rcpts = [f"g{i}@remote.test" for i in range(12)]
    for rc in rcpts:
        assert send_raw(inst, "s@client.example", [rc], message(token("greet"), to=rc))["end"][0] == 250
    for rc in rcpts:
        assert wait_status(inst, rc, "deferred", timeout=30), inst.log_text()[-3000:]
    assert inst.log_matches(r"delivery (temporarily )?suspended"), inst.log_text()[-3000:]
    assert sink.connections < len(rcpts), \
        f"{sink.connections} connections for {len(rcpts)} messages to a failing site"
    # The status line is logged before the file leaves active/.
    assert wait_for(lambda: len(inst.queue_files("deferred")) == len(rcpts)), inst.queue_files()


def test_recipient_limit_splits_transactions(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    inst = make_instance(main=relay_main(sink, smtp_destination_recipient_limit="2",
                                         default_destination_recipient_limit="2"))
    rcpts = [f"m{i}@remote.test" for i in range(5)]
    content = message(token("limit"), to=rcpts[0])
    assert send_raw(inst, "s@client.example", rcpts, content)["end"][0] == 250
    deadline = time.time() + 20
    while time.time() < deadline and sum(len(m.accepted) for m in sink.messages) < 5:
        time.sleep(0.1)
    got = sorted(a for m in sink.messages for a in m.accepted)
    assert got == rcpts, inst.log_text()[-3000:]
    assert all(len(m.rcpts) <= 2 for m in sink.messages), [m.accepted for m in sink.messages]
    assert sink.transactions == 3
    assert all(split_received(m.data)[1] == content for m in sink.messages)


def test_sink_recovers_after_refusing(make_instance, sinks):
    """Connections refused: deferred (the destination may be marked dead
    for a while); once the sink listens again everything gets through."""
    needs("smtp")
    sink = sinks(start=False)
    inst = make_instance(main=relay_main(sink))
    rcpts = [f"w{i}@remote.test" for i in range(5)]
    for rc in rcpts:
        assert send_raw(inst, "s@client.example", [rc], message(token("wait"), to=rc))["end"][0] == 250
    assert wait_status(inst, rcpts[0], "deferred", timeout=20), inst.log_text()[-3000:]
    sink.start()
    deadline = time.time() + 40
    while time.time() < deadline and sink.transactions < 5:
        inst.flush()
        time.sleep(1)
    assert sorted(a for m in sink.messages for a in m.accepted) == rcpts, \
        inst.log_text()[-3000:]
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"), timeout=20)


@pytest.mark.timeout(240)
def test_sigkill_smtp_and_qmgr_during_delivery(make_instance, sinks):
    """Messages flow to a slow sink while smtp processes and qmgr are
    SIGKILLed repeatedly.  Every message must arrive; a message may arrive
    twice only when a kill landed between the sink's 250 and the done
    mark, so duplicates are few."""
    needs("smtp")
    sink = sinks()
    sink.reply_delay = 0.02
    inst = make_instance(main=relay_main(sink))
    n = 100
    mids = []
    stop = threading.Event()
    kills = {"smtp": 0, "qmgr": 0}
    kill_times = []

    def killer():
        while not stop.is_set():
            time.sleep(0.4)
            for prog in ("smtp", "qmgr"):
                if inst.kill(prog, signal.SIGKILL):
                    kills[prog] += 1
                    kill_times.append(time.time())
                time.sleep(0.2)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    try:
        for i in range(n):
            subj = token(f"kill{i}")
            mids.append(f"<{subj}@client.example>")
            rc = f"k{i}@remote.test"
            r = send_raw(inst, "s@client.example", [rc], message(subj, to=rc))
            assert r["end"][0] == 250, r["end"]
            time.sleep(0.03)
        time.sleep(2)
    finally:
        stop.set()
        t.join()
    assert kills["smtp"] + kills["qmgr"] > 0, "nothing was killed"
    # After the kills: qmgr restarts (master respawns it); push retries.
    deadline = time.time() + 90
    while time.time() < deadline:
        got = {mid for (mid, _rc) in sink.deliveries_by_message_id()}
        if all(m in got for m in mids) and not inst.queue_files("active") \
                and not inst.queue_files("incoming") and not inst.queue_files("deferred"):
            break
        inst.flush()
        time.sleep(1)
    counts = sink.deliveries_by_message_id()
    per_mid = {}
    for (mid, _rc), c in counts.items():
        per_mid[mid] = per_mid.get(mid, 0) + c
    lost = [m for m in mids if m not in per_mid]
    assert not lost, (f"{len(lost)} messages lost (kills {kills}); log:\n"
                      f"{inst.log_text()[-3000:]}")
    dups = {m: c for m, c in per_mid.items() if c > 1}
    print(f"kills {kills}, {len(dups)} duplicates, {sink.connections} connections")
    total_kills = kills["smtp"] + kills["qmgr"]
    assert len(dups) <= max(5, 2 * total_kills), \
        f"{len(dups)} messages delivered more than once: {dups} (kills {kills})"
    # A duplicate is legitimate only when its first copy was accepted just
    # before a kill (the done mark could not be written).
    first = {}
    with sink.lock:
        for m in sink.messages:
            mid = (m.header("Message-ID") or "").strip()
            first.setdefault(mid, m.when)
    for mid in dups:
        t_first = first[mid]
        assert any(0 <= k - t_first <= 3.0 for k in kill_times), \
            (f"{mid} delivered {dups[mid]} times but no kill followed its first "
             f"delivery within 3s (kills at {kill_times}, first at {t_first})")
    # A restart delivers nothing again.
    before = sink.transactions
    inst.restart()
    inst.flush()
    time.sleep(2)
    assert sink.transactions == before, "mail delivered again after a restart"
    assert not inst.queue_files("deferred") and not inst.queue_files("active")


STAGE_TIMEOUTS = {
    "banner": "smtp_helo_timeout",
    "ehlo": "smtp_helo_timeout",
    "mail": "smtp_mail_timeout",
    "rcpt": "smtp_rcpt_timeout",
    "data": "smtp_data_init_timeout",
    "dot": "smtp_data_done_timeout",
}


@pytest.mark.parametrize("stage", list(STAGE_TIMEOUTS))
def test_stage_timeout_defers(make_instance, sinks, stage):
    """The peer stops answering at one stage: that stage's time limit
    ends the attempt, the mail is deferred (not lost, not bounced) and
    goes out once the peer answers again."""
    needs("smtp")
    sink = sinks()
    sink.stall_at = stage
    timeouts = {p: "2s" for p in set(STAGE_TIMEOUTS.values())}
    inst = make_instance(main=relay_main(sink, **timeouts))
    rcpt = f"{stage}@remote.test"
    t0 = time.time()
    content = message(token(f"to-{stage}"), to=rcpt)
    assert send_raw(inst, "s@client.example", [rcpt], content)["end"][0] == 250
    st = wait_status(inst, rcpt, "deferred", timeout=20)
    assert st, f"not deferred; log:\n{inst.log_text()[-3000:]}"
    assert time.time() - t0 < 12, "the stage time limit was not applied"
    assert st[0].group("dsn").startswith("4."), st[0].group(0)
    assert sink.transactions == 0
    sink.stall_at = None
    deadline = time.time() + 20
    while time.time() < deadline and sink.transactions < 1:
        inst.flush()
        time.sleep(1)
    assert sink.transactions == 1, inst.log_text()[-3000:]
    assert split_received(sink.messages[0].data)[1] == content


def test_deferred_relay_mail_survives_restart(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    sink.rcpt_default = "450 4.2.0 later"
    inst = make_instance(main=relay_main(sink))
    rcpts = ["p1@remote.test", "p2@remote.test"]
    content = message(token("restart"), to=rcpts[0])
    assert send_raw(inst, "s@client.example", rcpts, content)["end"][0] == 250
    for rc in rcpts:
        assert wait_status(inst, rc, "deferred", timeout=20), inst.log_text()[-3000:]
    inst.stop()
    assert inst.queue_files("deferred"), inst.queue_files()
    sink.rcpt_default = "250 2.1.5 Ok"
    inst.start()
    deadline = time.time() + 20
    while time.time() < deadline and sink.transactions < 1:
        inst.flush()
        time.sleep(1)
    assert sorted(a for m in sink.messages for a in m.accepted) == rcpts, inst.log_text()[-3000:]
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"), timeout=20)
    time.sleep(2)
    assert sink.transactions == 1
    # The defer log is gone with the message.
    left = [os.path.join(dp, f) for q in ("defer", "bounce", "trace")
            for dp, _d, files in os.walk(inst.queue / q) for f in files]
    assert left == [], f"status logs left behind: {left}"
