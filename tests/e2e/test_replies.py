"""Every SMTP reply code smtpd gives, from real conversations."""
import smtplib
import threading
import time

import pytest

from instance import free_port
from mailutil import token, message

# Many of these tests provoke errors on purpose: no tarpit delay.
NO_SLEEP = {"smtpd_error_sleep_time": "0s"}


@pytest.fixture
def fast(make_instance):
    return make_instance(main=NO_SLEEP)


def ehlo(s):
    code, lines = s.cmd("EHLO client.example")
    assert code == 250, lines
    return lines


def test_banner_and_ehlo_keywords(make_instance):
    inst = make_instance(main={"message_size_limit": "123456"})
    s = inst.raw()
    code, lines = s.banner
    assert code == 220
    assert lines[0].startswith("220 localhost "), lines
    lines = ehlo(s)
    assert lines[0].startswith("250-localhost") or lines[0] == "250 localhost"
    keywords = {l[4:].split()[0].upper(): l[4:] for l in lines[1:]}
    for kw in ("PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES"):
        assert kw in keywords, f"EHLO lacks {kw}: {lines}"
    assert keywords["SIZE"].split()[1] == "123456"
    # Not offered in this build's default configuration.
    assert "AUTH" not in keywords
    assert "STARTTLS" not in keywords
    # All but the last line use "250-".
    assert all(l.startswith("250-") for l in lines[:-1])
    assert lines[-1].startswith("250 ")
    assert s.cmd("QUIT")[0] == 221
    assert s.is_closed()


def test_helo(inst):
    s = inst.raw()
    code, lines = s.cmd("HELO client.example")
    assert code == 250 and len(lines) == 1
    assert s.cmd("MAIL FROM:<a@client.example>")[0] == 250


def test_noop_rset(inst):
    s = inst.raw()
    ehlo(s)
    assert s.cmd("NOOP")[0] == 250
    assert s.cmd("MAIL FROM:<a@client.example>")[0] == 250
    assert s.cmd("RSET")[0] == 250
    # RSET ended the transaction.
    assert s.cmd("RCPT TO:<alice@localhost>")[0] == 503


def test_503_bad_sequence(fast):
    s = fast.raw()
    ehlo(s)
    code, lines = s.cmd("RCPT TO:<alice@localhost>")
    assert code == 503, lines
    assert lines[0][4:].startswith("5.5.1"), lines
    assert s.cmd("DATA")[0] == 503
    assert s.cmd("MAIL FROM:<a@client.example>")[0] == 250
    assert s.cmd("DATA")[0] == 503               # DATA before RCPT
    assert s.cmd("MAIL FROM:<b@client.example>")[0] == 503   # nested MAIL
    assert s.cmd("RCPT TO:<alice@localhost>")[0] == 250
    assert s.cmd("DATA")[0] == 354
    s.send(message(token("seq")) + b".\r\n")
    assert s.reply()[0] == 250
    assert s.cmd("QUIT")[0] == 221


def test_501_bad_syntax(fast):
    s = fast.raw()
    ehlo(s)
    for bad in ("MAIL FROM:<a@b", "MAIL FROM:", "MAIL", "MAIL FROM:<a b@c d>"):
        code, lines = s.cmd(bad)
        assert code == 501, f"{bad!r}: {lines}"
    # An unknown MAIL parameter: 555 (RFC 5321 4.1.1.11) or 501.
    code, lines = s.cmd("MAIL FROM:<a@b.example> FOO=BAR")
    assert code in (501, 555), lines
    assert s.cmd("MAIL FROM:<a@client.example>")[0] == 250
    for bad in ("RCPT TO:<alice@localhost", "RCPT TO:", "RCPT TO:<a@b@c@>"):
        code, lines = s.cmd(bad)
        assert code == 501, f"{bad!r}: {lines}"
    assert s.cmd("RCPT TO:<alice@localhost>")[0] == 250
    assert s.cmd("EHLO")[0] == 501


def test_500_unknown_command_and_long_line(fast):
    s = fast.raw()
    ehlo(s)
    code, lines = s.cmd("FROBNICATE now")
    assert code == 500, lines
    code, lines = s.cmd("NOOP " + "x" * 5000)
    assert code == 500, lines
    # The session survives both and the excess was discarded, not parsed
    # as further commands.
    assert s.cmd("NOOP")[0] == 250
    assert s.cmd("MAIL FROM:<a@client.example>")[0] == 250


def test_502_not_offered(fast):
    s = fast.raw()
    ehlo(s)
    code, lines = s.cmd("ETRN localhost")
    assert code == 502, lines
    # Neither AUTH nor STARTTLS is announced in this configuration.
    code, lines = s.cmd("AUTH PLAIN AGVhAGU=")
    assert code == 502, lines
    code, lines = s.cmd("STARTTLS")
    assert code == 502, lines
    code, lines = s.cmd("EXPN root")
    assert code == 502, lines
    assert s.cmd("NOOP")[0] == 250


def test_vrfy_and_help(inst):
    s = inst.raw()
    ehlo(s)
    code, lines = s.cmd("VRFY alice")
    assert code == 252, lines
    code, lines = s.cmd("HELP")
    assert code == 214, lines


def test_452_too_many_recipients(make_instance):
    inst = make_instance(main={"smtpd_recipient_limit": "3", **NO_SLEEP})
    s = inst.raw()
    ehlo(s)
    assert s.cmd("MAIL FROM:<a@client.example>")[0] == 250
    for u in ("r1", "r2", "r3"):
        assert s.cmd(f"RCPT TO:<{u}@localhost>")[0] == 250
    code, lines = s.cmd("RCPT TO:<r4@localhost>")
    assert code == 452, lines
    assert s.cmd("DATA")[0] == 354
    content = message(token("limit"))
    s.send(content + b".\r\n")
    assert s.reply()[0] == 250
    s.cmd("QUIT")
    for u in ("r1", "r2", "r3"):
        assert len(inst.maildir_messages(u, 1)) == 1
    assert inst.wait_queue_empty()
    assert not (inst.mail / "r4").exists()


def test_552_declared_size_too_big(make_instance):
    inst = make_instance(main={"message_size_limit": "100000"})
    s = inst.raw()
    ehlo(s)
    code, lines = s.cmd("MAIL FROM:<a@client.example> SIZE=200000")
    assert code == 552, lines
    assert s.cmd("MAIL FROM:<a@client.example> SIZE=1000")[0] == 250


def test_552_data_too_big(make_instance):
    inst = make_instance(main={"message_size_limit": "100000"})
    s = inst.raw()
    ehlo(s)
    assert s.cmd("MAIL FROM:<a@client.example>")[0] == 250
    assert s.cmd("RCPT TO:<big@localhost>")[0] == 250
    assert s.cmd("DATA")[0] == 354
    line = b"y" * 998 + b"\r\n"
    s.send(message(token("big"), body=line * 300) + b".\r\n")
    code, lines = s.reply(timeout=30)
    assert code == 552, lines
    # The session goes on.
    assert s.cmd("NOOP")[0] == 250
    s.cmd("QUIT")
    assert inst.maildir_messages("big", 1, timeout=3) == []
    assert not inst.queue_files()


def test_421_idle_timeout(make_instance):
    inst = make_instance(main={"smtpd_timeout": "3s"})
    s = inst.raw()
    ehlo(s)
    t0 = time.time()
    code, lines = s.reply(timeout=20)
    assert code == 421, lines
    assert time.time() - t0 >= 2
    assert s.is_closed()


def test_421_on_stop(inst):
    s = inst.raw()
    ehlo(s)
    stopper = threading.Thread(target=inst.posthorn, args=("stop",))
    stopper.start()
    code, lines = s.reply(timeout=20)
    stopper.join()
    assert code == 421, lines
    assert s.is_closed()


def foreign_listener(make_instance):
    """An instance with a third listener on which 127.0.0.1 is not in
    mynetworks; returns (instance, that port)."""
    port = free_port()
    inst = make_instance(master_extra=[
        f"127.0.0.1:{port} inet n - y - - smtpd -o mynetworks=192.0.2.0/24"])
    assert inst.wait_listening(port)
    return inst, port


def test_relay_denied_for_foreign_client(make_instance):
    inst, foreign_port = foreign_listener(make_instance)
    s = inst.raw(foreign_port)
    ehlo(s)
    assert s.cmd("MAIL FROM:<a@client.example>")[0] == 250
    code, lines = s.cmd("RCPT TO:<victim@example.com>")
    assert code == 554, lines
    assert lines[0][4:].startswith("5.7.1"), lines
    assert s.cmd("RCPT TO:<local@localhost>")[0] == 250
    assert s.cmd("DATA")[0] == 354
    s.send(message(token("foreign")) + b".\r\n")
    assert s.reply()[0] == 250
    s.cmd("QUIT")
    assert len(inst.maildir_messages("local", 1)) == 1
    assert inst.wait_log("NOQUEUE: reject: RCPT from")

    # The same recipient is accepted from mynetworks (and then deferred).
    s = inst.raw()
    ehlo(s)
    assert s.cmd("MAIL FROM:<a@client.example>")[0] == 250
    assert s.cmd("RCPT TO:<victim@example.com>")[0] == 250


def test_smtplib_sendmail_refused_recipient(make_instance):
    inst, port = foreign_listener(make_instance)
    with inst.smtp(port) as s:
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            s.sendmail("a@client.example", ["x@example.org"], message(token("r")))
