"""Outbound delivery (issue 3): mail for other domains leaves through the
smtp delivery agent, to a relayhost, to MX hosts found in the session's
private DNS (tests/e2e/dnsserver.py), or by LMTP, and arrives byte-exact at
the sink servers (tests/e2e/sink.py) that play the remote MTAs."""
import re
import socket
import time

import pytest

from conftest import needs
from mailutil import token, message, send_raw
from relayutil import (FAST_RETRY, STATUS_RE, status_lines, wait_status,
                       mx_route, split_received, wait_dsns)


def relay_instance(make_instance, sink, **extra):
    main = dict(FAST_RETRY)
    main["relayhost"] = f"[{sink.host}]:{sink.port}"
    main.update(extra)
    return make_instance(main=main)


def mx_sinks(sinks, hosts):
    """Sinks on the same free port of several loopback addresses."""
    from sink import free_port
    port = free_port(hosts[0], also=hosts[1:])
    return [sinks(h, port) for h in hosts]


def mx_instance(make_instance, port, domain, **extra):
    main = dict(FAST_RETRY)
    main.update(mx_route(domain, port))
    main.update(extra)
    return make_instance(main=main)


# relayhost ---------------------------------------------------------------------
def test_relayed_message_arrives_byte_exact(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    inst = relay_instance(make_instance, sink)
    subj = token("relay")
    body = (b"First line.\r\n.leading dot\r\n..two dots\r\n.\r\n\r\n"
            b"  indented\r\n" + b"x" * 900 + b"\r\nlast\r\n")
    content = message(subj, body=body, to="rcpt@remote.test")
    r = send_raw(inst, "sender@client.example", ["rcpt@remote.test"], content)
    assert r["rcpt"][0][0] == 250, r["rcpt"]
    assert r["end"][0] == 250, r["end"]

    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, f"not relayed; log:\n{inst.log_text()[-3000:]}"
    m = msgs[0]
    assert m.mail_from == "sender@client.example"
    assert [a for a, _ in m.rcpts] == ["rcpt@remote.test"]
    received, rest = split_received(m.data)
    assert rest == content, "content changed on the way"
    assert b"by localhost" in received, received
    assert b"127.0.0.1" in received and b"client.example" in received, received
    assert m.helo == "localhost", m.helo          # smtp_helo_name = $myhostname

    lines = wait_status(inst, "rcpt@remote.test", "sent")
    assert len(lines) == 1, inst.log_text()[-3000:]
    st = lines[0]
    assert st.group("relay") == f"127.0.0.1[127.0.0.1]:{sink.port}", st.group(0)
    assert st.group("dsn").startswith("2."), st.group(0)
    assert "250" in st.group("text"), st.group(0)
    assert inst.wait_queue_empty(), inst.queue_files()
    assert not inst.queue_files("deferred")
    # Every recipient status line in the log has Postfix's shape.
    for line in inst.log_text().splitlines():
        if " to=<" in line and " status=" in line:
            assert STATUS_RE.search(line), f"status line of another shape: {line}"


def test_multiple_recipients_one_transaction(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    inst = relay_instance(make_instance, sink)
    rcpts = [f"r{i}@remote.test" for i in range(3)]
    content = message(token("multi"), to=rcpts[0])
    r = send_raw(inst, "s@client.example", rcpts, content)
    assert r["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=20)
    time.sleep(1)
    assert sink.transactions == 1, [m.accepted for m in sink.messages]
    assert sorted(sink.messages[0].accepted) == rcpts
    for rc in rcpts:
        assert wait_status(inst, rc, "sent"), rc
    assert inst.wait_queue_empty()


def test_helo_fallback_when_ehlo_refused(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    sink.esmtp = False
    inst = relay_instance(make_instance, sink)
    content = message(token("helo"), to="h@remote.test")
    assert send_raw(inst, "s@client.example", ["h@remote.test"], content)["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert split_received(msgs[0].data)[1] == content
    verbs = [c.split()[0].upper() for _, c in sink.commands]
    assert "EHLO" in verbs and "HELO" in verbs, verbs
    # No ESMTP parameters after a HELO.
    assert msgs[0].mail_params == [], msgs[0].mail_params


def test_message_too_big_for_peer_is_bounced_without_data(make_instance, sinks):
    needs("smtp", "bounce")
    sink = sinks()
    sink.size_limit = 2000
    inst = relay_instance(make_instance, sink)
    content = message(token("big"), body=b"y" * 70 + b"\r\n" * 1 + (b"z" * 76 + b"\r\n") * 60,
                      to="big@remote.test", sender="someone@localhost")
    r = send_raw(inst, "someone@localhost", ["big@remote.test"], content)
    assert r["end"][0] == 250
    lines = wait_status(inst, "big@remote.test", "bounced", timeout=20)
    assert lines, inst.log_text()[-3000:]
    assert lines[0].group("dsn").startswith("5.3.4") or lines[0].group("dsn").startswith("5."), \
        lines[0].group(0)
    assert not any(c.upper().startswith("DATA") for _, c in sink.commands), sink.commands
    assert sink.transactions == 0
    dsns = wait_dsns(inst, "someone", 1)
    assert len(dsns) == 1
    rr = dsns[0].assert_well_formed().recipient("big@remote.test")
    assert rr is not None and rr.get("Action").strip().lower() == "failed"


def test_smtputf8_needed_but_peer_lacks_it_bounces(make_instance, sinks):
    needs("smtp", "bounce")
    sink = sinks()
    sink.smtputf8 = False
    inst = relay_instance(make_instance, sink)
    rcpt = "jörg@remote.test"
    s = inst.raw()
    assert s.cmd("EHLO client.example")[0] == 250
    assert s.cmd("MAIL FROM:<someone@localhost> SMTPUTF8")[0] == 250
    assert s.cmd(f"RCPT TO:<{rcpt}>")[0] == 250
    assert s.cmd("DATA")[0] == 354
    content = message(token("utf8"), to="j@remote.test")
    s.send(content + b".\r\n")
    assert s.reply()[0] == 250
    s.cmd("QUIT")
    s.close()
    lines = wait_status(inst, rcpt, "bounced", timeout=20)
    assert lines, inst.log_text()[-3000:]
    assert sink.transactions == 0
    dsns = wait_dsns(inst, "someone", 1)
    assert len(dsns) == 1
    dsn = dsns[0].assert_well_formed()
    text = (dsn.text or b"").decode("utf-8", "replace") + str(dsn.recipients[0])
    assert "SMTPUTF8" in text.upper(), text


def test_8bit_body_and_long_header_relayed_exactly(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    inst = relay_instance(make_instance, sink)
    body = "Grüße – café\r\n".encode() + bytes(range(0x80, 0x100)) + b"\r\n"
    content = message(token("8bit"), body=body, to="e@remote.test",
                      headers=["MIME-Version: 1.0",
                               "Content-Type: text/plain; charset=utf-8",
                               "Content-Transfer-Encoding: 8bit",
                               "X-Long: " + " ".join(["word"] * 60)])
    s = inst.raw()
    assert s.cmd("EHLO client.example")[0] == 250
    assert s.cmd("MAIL FROM:<s@client.example> BODY=8BITMIME")[0] == 250
    assert s.cmd("RCPT TO:<e@remote.test>")[0] == 250
    assert s.cmd("DATA")[0] == 354
    from mailutil import dot_stuff
    s.send(dot_stuff(content) + b".\r\n")
    assert s.reply()[0] == 250
    s.cmd("QUIT")
    s.close()
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert split_received(msgs[0].data)[1] == content
    assert "BODY=8BITMIME" in [p.upper() for p in msgs[0].mail_params], msgs[0].mail_params


# MX routing ---------------------------------------------------------------------
def test_mx_preference_order_and_fallback(make_instance, sinks, dns):
    needs("smtp")
    dom = token("pref") + ".test"
    dns.mx(dom, f"mx1.{dom}", 10).mx(dom, f"mx2.{dom}", 20)
    dns.a(f"mx1.{dom}", "127.0.0.2").a(f"mx2.{dom}", "127.0.0.3").apply()
    s1, s2 = mx_sinks(sinks, ["127.0.0.2", "127.0.0.3"])
    inst = mx_instance(make_instance, s1.port, dom)

    c1 = message(token("first"), to=f"a@{dom}")
    assert send_raw(inst, "s@client.example", [f"a@{dom}"], c1)["end"][0] == 250
    msgs = s1.wait_messages(1, timeout=20)
    assert len(msgs) == 1, f"not at the preferred MX; log:\n{inst.log_text()[-3000:]}"
    assert split_received(msgs[0].data)[1] == c1
    assert s2.connections == 0
    st = wait_status(inst, f"a@{dom}", "sent")
    assert st and st[0].group("relay") == f"mx1.{dom}[127.0.0.2]:{s1.port}", \
        st and st[0].group(0)

    # The preferred MX now refuses connections: the second one gets it.
    s1.stop()
    c2 = message(token("second"), to=f"b@{dom}")
    assert send_raw(inst, "s@client.example", [f"b@{dom}"], c2)["end"][0] == 250
    msgs = s2.wait_messages(1, timeout=20)
    assert len(msgs) == 1, f"no fallback to the second MX; log:\n{inst.log_text()[-3000:]}"
    assert split_received(msgs[0].data)[1] == c2
    st = wait_status(inst, f"b@{dom}", "sent")
    assert st and st[0].group("relay") == f"mx2.{dom}[127.0.0.3]:{s2.port}", \
        st and st[0].group(0)
    assert inst.wait_queue_empty()


def test_fallback_on_4xx_greeting(make_instance, sinks, dns):
    needs("smtp")
    dom = token("greet") + ".test"
    dns.mx(dom, f"mx1.{dom}", 10).mx(dom, f"mx2.{dom}", 20)
    dns.a(f"mx1.{dom}", "127.0.0.2").a(f"mx2.{dom}", "127.0.0.3").apply()
    s1, s2 = mx_sinks(sinks, ["127.0.0.2", "127.0.0.3"])
    s1.greeting = "421 4.3.2 too busy"
    inst = mx_instance(make_instance, s1.port, dom)
    c = message(token("g"), to=f"a@{dom}")
    assert send_raw(inst, "s@client.example", [f"a@{dom}"], c)["end"][0] == 250
    msgs = s2.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert s1.connections >= 1 and s1.transactions == 0


def test_equal_preference_mx_both_used(make_instance, sinks, dns):
    """Equal preference: the order is random, so over a dozen separate
    deliveries (no connection reuse) both hosts get mail."""
    needs("smtp")
    dom = token("eq") + ".test"
    dns.mx(dom, f"mxa.{dom}", 10).mx(dom, f"mxb.{dom}", 10)
    dns.a(f"mxa.{dom}", "127.0.0.2").a(f"mxb.{dom}", "127.0.0.3").apply()
    s1, s2 = mx_sinks(sinks, ["127.0.0.2", "127.0.0.3"])
    inst = mx_instance(make_instance, s1.port, dom,
                       smtp_connection_cache_on_demand="no")
    n = 14
    for i in range(n):
        c = message(token(f"eq{i}"), to=f"u{i}@{dom}")
        assert send_raw(inst, "s@client.example", [f"u{i}@{dom}"], c)["end"][0] == 250
    deadline = time.time() + 30
    while time.time() < deadline and s1.transactions + s2.transactions < n:
        time.sleep(0.1)
    assert s1.transactions + s2.transactions == n, inst.log_text()[-3000:]
    assert s1.transactions > 0 and s2.transactions > 0, (s1.transactions, s2.transactions)


def test_implicit_mx(make_instance, sinks, dns):
    needs("smtp")
    dom = token("amx") + ".test"
    dns.a(dom, "127.0.0.2").apply()
    sink = sinks("127.0.0.2")
    inst = mx_instance(make_instance, sink.port, dom)
    c = message(token("implicit"), to=f"a@{dom}")
    assert send_raw(inst, "s@client.example", [f"a@{dom}"], c)["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert split_received(msgs[0].data)[1] == c
    st = wait_status(inst, f"a@{dom}", "sent")
    assert st and st[0].group("relay") == f"{dom}[127.0.0.2]:{sink.port}", st and st[0].group(0)


def test_ipv6_mx_host(make_instance, sinks, dns):
    needs("smtp")
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    dom = token("six") + ".test"
    dns.mx(dom, f"mx.{dom}", 10).a(f"mx.{dom}", "::1").apply()
    sink = sinks("::1")
    inst = mx_instance(make_instance, sink.port, dom, inet_protocols="all")
    c = message(token("v6"), to=f"a@{dom}")
    assert send_raw(inst, "s@client.example", [f"a@{dom}"], c)["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    st = wait_status(inst, f"a@{dom}", "sent")
    assert st and "[::1]" in st[0].group("relay"), st and st[0].group(0)


@pytest.mark.parametrize("kind", ["nullmx", "nxdomain"])
def test_permanent_dns_failure_bounces_at_once(make_instance, dns, kind):
    needs("smtp", "bounce")
    dom = token(kind) + ".test"
    if kind == "nullmx":
        dns.null_mx(dom).apply()
    # nxdomain: an unknown name under .test
    inst = make_instance(main=dict(FAST_RETRY))
    rcpt = f"user@{dom}"
    content = message(token("perm"), to=rcpt, sender="someone@localhost")
    t0 = time.time()
    assert send_raw(inst, "someone@localhost", [rcpt], content)["end"][0] == 250
    lines = wait_status(inst, rcpt, "bounced", timeout=20)
    assert lines, f"not bounced; log:\n{inst.log_text()[-3000:]}"
    assert lines[0].group("dsn").startswith("5."), lines[0].group(0)
    assert not status_lines(inst, rcpt, "deferred"), "deferred before bouncing"
    dsns = wait_dsns(inst, "someone", 1, timeout=20)
    assert time.time() - t0 < 20
    assert len(dsns) == 1, "no DSN to the sender"
    dsn = dsns[0].assert_well_formed()
    r = dsn.recipient(rcpt)
    assert r is not None, dsn.recipients
    assert r.get("Action").strip().lower() == "failed"
    assert r.get("Status").strip().startswith("5."), r.get("Status")
    if kind == "nullmx":
        assert r.get("Status").strip() == "5.1.10", r.get("Status")   # RFC 7505
    assert inst.wait_queue_empty()
    assert not inst.queue_files("deferred")


def test_servfail_defers(make_instance, dns):
    needs("smtp")
    dom = token("sf") + ".broken.test"
    dns.servfail("broken.test").apply()
    inst = make_instance(main={"queue_run_delay": "300s",
                               "minimal_backoff_time": "300s",
                               "maximal_backoff_time": "600s"})
    rcpt = f"user@{dom}"
    assert send_raw(inst, "someone@localhost", [rcpt], message(token("sf"), to=rcpt))["end"][0] == 250
    lines = wait_status(inst, rcpt, "deferred", timeout=30)
    assert lines, inst.log_text()[-3000:]
    assert lines[0].group("dsn").startswith("4."), lines[0].group(0)
    assert not status_lines(inst, rcpt, "bounced")
    deadline = time.time() + 10
    while time.time() < deadline and not inst.queue_files("deferred"):
        time.sleep(0.1)
    assert len(inst.queue_files("deferred")) == 1, inst.queue_files()
    assert not (inst.mail / "someone").exists() or not list((inst.mail / "someone" / "new").iterdir())


# LMTP ---------------------------------------------------------------------------
def test_lmtp_inet_via_transport_maps(make_instance, sinks):
    needs("smtp")
    sink = sinks(lmtp=True)
    sink.lmtp_replies["full@lmtp.test"] = "452 4.2.2 mailbox full"
    inst = make_instance(main=dict(FAST_RETRY, transport_maps=(
        f"inline:{{ lmtp.test=lmtp:inet:127.0.0.1:{sink.port} }}")))
    rcpts = ["a@lmtp.test", "b@lmtp.test", "full@lmtp.test"]
    content = message(token("lmtp"), to=rcpts[0])
    assert send_raw(inst, "s@client.example", rcpts, content)["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=20)
    assert msgs, inst.log_text()[-3000:]
    assert any(c.upper().startswith("LHLO") for _, c in sink.commands), sink.commands
    assert split_received(msgs[0].data)[1] == content
    assert sorted(msgs[0].accepted) == ["a@lmtp.test", "b@lmtp.test"]
    for r in ("a@lmtp.test", "b@lmtp.test"):
        st = wait_status(inst, r, "sent")
        assert st, r
        assert st[0].group("relay").endswith(f"[127.0.0.1]:{sink.port}"), st[0].group(0)
    assert wait_status(inst, "full@lmtp.test", "deferred"), inst.log_text()[-3000:]
    # The mailbox gets room: only the deferred recipient is tried again.
    del sink.lmtp_replies["full@lmtp.test"]
    inst.flush()
    deadline = time.time() + 20
    while time.time() < deadline and not sink.delivered_to("full@lmtp.test"):
        time.sleep(0.1)
    assert len(sink.delivered_to("full@lmtp.test")) == 1, inst.log_text()[-3000:]
    assert len(sink.delivered_to("a@lmtp.test")) == 1
    assert len(sink.delivered_to("b@lmtp.test")) == 1
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"))


def test_lmtp_unix_socket(make_instance, sinks, test_root):
    """lmtp:unix:/path.  The lmtp service runs chrooted in the queue
    directory (master.cf chroot y), so the socket lives there and the
    path is the one the chrooted client sees."""
    needs("smtp")
    inst = make_instance(start=False)
    path = inst.queue / "lmtp.sock"
    sink = sinks(unix_path=str(path), lmtp=True)
    # The chrooted client sees the socket as /lmtp.sock.
    inst.main_overrides.update(FAST_RETRY)
    inst.main_overrides["transport_maps"] = "inline:{ unix.test=lmtp:unix:/lmtp.sock }"
    inst.write()
    inst.start()
    content = message(token("lmtpunix"), to="a@unix.test")
    assert send_raw(inst, "s@client.example", ["a@unix.test"], content)["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=20)
    assert msgs, inst.log_text()[-3000:]
    assert split_received(msgs[0].data)[1] == content


# replies at other stages ----------------------------------------------------------
@pytest.mark.parametrize("stage,reply,outcome", [
    ("mail", "550 5.7.1 sender rejected", "bounced"),
    ("mail", "451 4.3.0 sender check failed", "deferred"),
    ("dot", "554 5.6.0 content rejected", "bounced"),
    ("dot", "452 4.3.1 insufficient storage", "deferred"),
])
def test_reply_at_mail_or_end_of_data(make_instance, sinks, stage, reply, outcome):
    """A reply to MAIL FROM or to the end of data applies to every
    recipient of the transaction."""
    needs("smtp", "bounce")
    sink = sinks()
    if stage == "mail":
        sink.mail_reply = reply
    else:
        sink.dot_reply = reply
    inst = relay_instance(make_instance, sink)
    rcpts = ["x1@remote.test", "x2@remote.test"]
    content = message(token("stage"), to=rcpts[0], sender="someone@localhost")
    assert send_raw(inst, "someone@localhost", rcpts, content)["end"][0] == 250
    for rc in rcpts:
        st = wait_status(inst, rc, outcome, timeout=20)
        assert st, f"{rc} not {outcome}; log:\n{inst.log_text()[-3000:]}"
        assert st[0].group("dsn") == reply.split()[1], st[0].group(0)
    assert sink.transactions == 0
    if outcome == "bounced":
        dsns = wait_dsns(inst, "someone", 1, timeout=20)
        assert len(dsns) == 1
        dsn = dsns[0].assert_well_formed()
        assert sorted(r.get("Final-Recipient").split(";")[1].strip()
                      for r in dsn.recipients) == rcpts


def test_connection_lost_after_data_defers_then_delivers(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    sink.drop_at = "dot"
    inst = relay_instance(make_instance, sink)
    rcpt = "lost@remote.test"
    content = message(token("lost"), to=rcpt)
    assert send_raw(inst, "s@client.example", [rcpt], content)["end"][0] == 250
    st = wait_status(inst, rcpt, "deferred", timeout=20)
    assert st, inst.log_text()[-3000:]
    assert st[0].group("dsn").startswith("4."), st[0].group(0)
    sink.drop_at = None
    deadline = time.time() + 20
    while time.time() < deadline and sink.transactions < 1:
        inst.flush()
        time.sleep(1)
    assert sink.transactions == 1, inst.log_text()[-3000:]
    assert split_received(sink.messages[0].data)[1] == content


def test_452_too_many_recipients_sends_rest_later(make_instance, sinks):
    """RFC 5321 4.5.3.1.10: after 452 to RCPT the client sends the other
    recipients in a later transaction; all arrive, none bounced."""
    needs("smtp")
    sink = sinks()
    sink.rcpt_replies["r2@remote.test"] = "452 4.5.3 too many recipients"
    inst = relay_instance(make_instance, sink)
    rcpts = [f"r{i}@remote.test" for i in range(4)]
    content = message(token("452"), to=rcpts[0])
    assert send_raw(inst, "s@client.example", rcpts, content)["end"][0] == 250
    assert wait_status(inst, "r2@remote.test", "deferred", timeout=20), inst.log_text()[-3000:]
    sink.rcpt_replies.clear()
    deadline = time.time() + 20
    while time.time() < deadline and sorted(a for m in sink.messages for a in m.accepted) != rcpts:
        inst.flush()
        time.sleep(1)
    assert sorted(a for m in sink.messages for a in m.accepted) == rcpts, inst.log_text()[-3000:]
    assert not status_lines(inst, status="bounced")


def test_mixed_local_remote_and_undeliverable(make_instance, sinks, dns):
    """One message, three fates: a local recipient (Maildir), a remote one
    (relayed by MX) and one at a null-MX domain (bounced); one DSN."""
    needs("smtp", "bounce")
    dom = token("mix") + ".test"
    nodom = token("mixnull") + ".test"
    dns.a(dom, "127.0.0.2").null_mx(nodom).apply()
    sink = sinks("127.0.0.2")
    inst = mx_instance(make_instance, sink.port, dom)
    rcpts = ["loc@localhost", f"rem@{dom}", f"no@{nodom}"]
    content = message(token("mixed"), to=rcpts[0], sender="someone@localhost")
    assert send_raw(inst, "someone@localhost", rcpts, content)["end"][0] == 250
    assert inst.maildir_messages("loc", 1, timeout=20)
    msgs = sink.wait_messages(1, timeout=20)
    assert [m.accepted for m in msgs] == [[f"rem@{dom}"]], inst.log_text()[-3000:]
    assert split_received(msgs[0].data)[1] == content
    dsns = wait_dsns(inst, "someone", 1, timeout=20)
    assert len(dsns) == 1
    dsn = dsns[0].assert_well_formed()
    assert [r.get("Final-Recipient").split(";")[1].strip() for r in dsn.recipients] == \
        [f"no@{nodom}"]
    time.sleep(1)
    assert len(list((inst.mail / "someone" / "new").iterdir())) == 1
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"))


def test_mx_host_without_address_is_skipped(make_instance, sinks, dns):
    needs("smtp")
    dom = token("noaddr") + ".test"
    dns.mx(dom, f"ghost.{dom}", 5).mx(dom, f"real.{dom}", 10)
    dns.a(f"real.{dom}", "127.0.0.3").apply()
    sink = sinks("127.0.0.3")
    inst = mx_instance(make_instance, sink.port, dom)
    content = message(token("ghost"), to=f"a@{dom}")
    assert send_raw(inst, "s@client.example", [f"a@{dom}"], content)["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert wait_status(inst, f"a@{dom}", "sent")


# content and size ---------------------------------------------------------------
def test_large_message_byte_exact(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    inst = relay_instance(make_instance, sink)
    line = b"0123456789abcdefghijklmnopqrstuvwxyz" * 2 + b"\r\n"
    body = b"".join(b"%06d " % i + line for i in range(70000))        # ~5.4 MB
    content = message(token("large"), body=body, to="big@remote.test")
    assert send_raw(inst, "s@client.example", ["big@remote.test"], content)["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=60)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert split_received(msgs[0].data)[1] == content


def test_long_line_broken_or_kept(make_instance, sinks):
    """A line longer than smtp_line_length_limit goes out broken into
    pieces joined by CR LF SPACE; with the limit 0 it goes out whole."""
    needs("smtp")
    long_line = b"L" * 3000
    for limit in ("990", "0"):
        sink = sinks()
        inst = relay_instance(make_instance, sink, smtp_line_length_limit=limit)
        content = message(token("longline"), body=b"a\r\n" + long_line + b"\r\nz\r\n",
                          to="l@remote.test")
        assert send_raw(inst, "s@client.example", ["l@remote.test"], content)["end"][0] == 250
        msgs = sink.wait_messages(1, timeout=20)
        assert len(msgs) == 1, inst.log_text()[-3000:]
        rest = split_received(msgs[0].data)[1]
        if limit == "0":
            assert rest == content
        else:
            assert max(len(l) for l in rest.split(b"\r\n")) <= 990
            assert rest.replace(b"\r\n ", b"") == content


def test_many_recipients_split_by_default_limit(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    inst = relay_instance(make_instance, sink)
    rcpts = [f"n{i:03d}@remote.test" for i in range(120)]
    content = message(token("many"), to=rcpts[0])
    with inst.smtp() as s:
        assert s.sendmail("s@client.example", rcpts, content) == {}
    deadline = time.time() + 30
    while time.time() < deadline and sum(len(m.accepted) for m in sink.messages) < 120:
        time.sleep(0.1)
    got = sorted(a for m in sink.messages for a in m.accepted)
    assert got == rcpts, f"{len(got)} of 120; log:\n{inst.log_text()[-3000:]}"
    assert 2 <= sink.transactions <= 12, sink.transactions      # limit 50 by default


def test_smtputf8_relayed_to_capable_peer(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    inst = relay_instance(make_instance, sink)
    rcpt = "jörg@remote.test"
    s = inst.raw()
    assert s.cmd("EHLO client.example")[0] == 250
    assert s.cmd("MAIL FROM:<andré@client.example> SMTPUTF8")[0] == 250
    assert s.cmd(f"RCPT TO:<{rcpt}>")[0] == 250
    assert s.cmd("DATA")[0] == 354
    content = message(token("utf8ok"), to="j@remote.test")
    s.send(content + b".\r\n")
    assert s.reply()[0] == 250
    s.cmd("QUIT")
    s.close()
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    assert msgs[0].mail_from == "andré@client.example"
    assert msgs[0].accepted == [rcpt]
    assert "SMTPUTF8" in [p.upper() for p in msgs[0].mail_params], msgs[0].mail_params
