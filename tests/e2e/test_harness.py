"""The outbound-delivery test harness itself: the private DNS server
answers what the tests configure (and nothing from outside), and the sink
servers behave as programmed."""
import smtplib
import socket
import time

import pytest

from dnsserver import TYPE_A, TYPE_AAAA, TYPE_MX
from instance import master_cf_text, built, RawSession
from mailutil import token


def test_dns_records(dns):
    dom = token("h") + ".test"
    dns.mx(dom, f"mx1.{dom}", 10).mx(dom, f"mx2.{dom}", 20)
    dns.a(f"mx1.{dom}", "127.0.0.2").a(f"mx2.{dom}", "127.0.0.3", "::1")
    dns.null_mx(f"null.{dom}")
    dns.servfail("broken.test")
    dns.apply()
    rcode, mx = dns.query(dom, TYPE_MX)
    assert rcode == "NOERROR"
    assert sorted(mx) == [f"10 mx1.{dom}", f"20 mx2.{dom}"]
    assert dns.query(f"mx1.{dom}", TYPE_A) == ("NOERROR", ["127.0.0.2"])
    assert dns.query(f"mx2.{dom}", TYPE_AAAA) == ("NOERROR", ["::1"])
    # A name with only an A record has no MX (implicit MX).
    assert dns.query(f"mx1.{dom}", TYPE_MX) == ("NOERROR", [])
    assert dns.query(f"null.{dom}", TYPE_MX) == ("NOERROR", ["0 ."])
    assert dns.query(f"nothing.{dom}", TYPE_MX)[0] == "NXDOMAIN"
    assert dns.query(f"x.broken.test", TYPE_MX)[0] == "SERVFAIL"
    # Nothing outside .test is answered or forwarded.
    assert dns.query("example.com", TYPE_MX)[0] == "REFUSED"


def test_sink_records_and_replies(sinks):
    s = sinks("127.0.0.2")
    s.rcpt_replies["bad@x.test"] = "550 5.1.1 no"
    c = smtplib.SMTP("127.0.0.2", s.port, timeout=10)
    c.ehlo("me.test")
    refused = c.sendmail("a@b.test", ["ok@x.test", "bad@x.test"],
                         b"Subject: s\r\nMessage-ID: <m1@b.test>\r\n\r\n.dot\r\nbody\r\n")
    assert refused == {"bad@x.test": (550, b"5.1.1 no")}
    c.sendmail("a@b.test", ["ok@x.test"], b"Subject: 2\r\nMessage-ID: <m2@b.test>\r\n\r\nx\r\n")
    c.quit()
    msgs = s.wait_messages(2)
    assert [m.accepted for m in msgs] == [["ok@x.test"], ["ok@x.test"]]
    assert msgs[0].data == b"Subject: s\r\nMessage-ID: <m1@b.test>\r\n\r\n.dot\r\nbody\r\n"
    assert msgs[0].helo == "me.test"
    assert s.connections == 1 and s.transactions == 2
    assert s.deliveries_by_message_id()[("<m1@b.test>", "ok@x.test")] == 1
    s.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", s.port), timeout=2)


def test_sink_stall_and_lmtp(sinks):
    s = sinks()
    s.on_connect = "stall"
    t0 = time.time()
    with pytest.raises((socket.timeout, smtplib.SMTPServerDisconnected)):
        smtplib.SMTP("127.0.0.1", s.port, timeout=1)
    assert time.time() - t0 < 5
    lm = sinks(lmtp=True)
    lm.lmtp_replies["b@x.test"] = "452 4.2.2 full"
    r = RawSession(lm.port)
    assert r.reply()[0] == 220
    assert r.cmd("LHLO me.test")[0] == 250
    assert r.cmd("MAIL FROM:<a@b.test>")[0] == 250
    assert r.cmd("RCPT TO:<a@x.test>")[0] == 250
    assert r.cmd("RCPT TO:<b@x.test>")[0] == 250
    assert r.cmd("DATA")[0] == 354
    r.send(b"Subject: l\r\n\r\nhi\r\n.\r\n")
    assert [r.reply()[0], r.reply()[0]] == [250, 452]      # one per recipient
    r.close()
    assert lm.wait_messages(1)[0].accepted == ["a@x.test"]


def test_master_cf_has_services_of_built_daemons():
    text = master_cf_text()
    assert ("smtp " in text) == built("smtp")
    assert ("bounce " in text) == built("bounce")
