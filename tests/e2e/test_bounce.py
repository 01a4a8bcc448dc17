"""Delivery status notifications (issue 3): RFC 3464 DSNs written by
bounce(8) through cleanup, to a local sender so they land in a Maildir
where the email package takes them apart; NOTIFY (RFC 3461); expiry;
double bounces of mail from the null sender."""
import re
import time

import pytest

from conftest import needs
from mailutil import token, message, send_raw
from relayutil import (FAST_RETRY, status_lines, wait_status, wait_dsns,
                       maildir_files, send_esmtp, param_known,
                       status_logs_left)

SENDER = "someone@localhost"


def relay_instance(make_instance, sink, **extra):
    main = dict(FAST_RETRY)
    main["relayhost"] = f"[{sink.host}]:{sink.port}"
    main.update(extra)
    return make_instance(main=main)


def no_more_mail(inst, user, count, wait=3.0):
    """True when user's Maildir still has exactly count files after wait."""
    time.sleep(wait)
    return len(maildir_files(inst, user)) == count


def test_5xx_for_one_of_three_recipients(make_instance, sinks):
    needs("smtp", "bounce")
    sink = sinks()
    sink.rcpt_replies["bad@remote.test"] = "550 5.1.1 <bad@remote.test>: no such user"
    inst = relay_instance(make_instance, sink)
    subj = token("one-bad")
    content = message(subj, to="good1@remote.test", sender=SENDER)
    code = send_esmtp(inst, SENDER, [
        "good1@remote.test",
        ("bad@remote.test", "ORCPT=rfc822;orig-bad@remote.test"),
        "good2@remote.test"], content, mail_params="ENVID=env-" + subj)
    assert code == 250

    msgs = sink.wait_messages(1, timeout=20)
    assert msgs, inst.log_text()[-3000:]
    accepted = sorted(a for m in sink.messages for a in m.accepted)
    assert accepted == ["good1@remote.test", "good2@remote.test"], accepted
    for r in ("good1@remote.test", "good2@remote.test"):
        assert wait_status(inst, r, "sent"), r
    bounced = wait_status(inst, "bad@remote.test", "bounced")
    assert len(bounced) == 1, inst.log_text()[-3000:]
    assert bounced[0].group("dsn") == "5.1.1", bounced[0].group(0)
    assert bounced[0].group("orig_to") in (None, "orig-bad@remote.test")
    assert "550" in bounced[0].group("text")

    dsns = wait_dsns(inst, "someone", 1, timeout=20)
    assert len(dsns) == 1, f"no DSN; log:\n{inst.log_text()[-3000:]}"
    assert no_more_mail(inst, "someone", 1), "more than one DSN"
    raw = dsns[0].raw
    assert raw.startswith(b"Return-Path: <>"), raw[:200]
    dsn = dsns[0].assert_well_formed()
    assert len(dsn.recipients) == 1, [str(r) for r in dsn.recipients]
    pm = dsn.per_message
    assert "localhost" in pm.get("Reporting-MTA", ""), str(pm)
    assert pm.get("Arrival-Date"), str(pm)
    assert (pm.get("Original-Envelope-Id") or "").strip() == "env-" + subj, str(pm)
    r = dsn.recipient("bad@remote.test")
    assert r is not None, str(dsn.recipients[0])
    assert r.get("Action").strip().lower() == "failed"
    assert r.get("Status").strip() == "5.1.1"
    assert (r.get("Original-Recipient") or "").replace(" ", "").lower() == \
        "rfc822;orig-bad@remote.test", str(r)
    assert "127.0.0.1" in (r.get("Remote-MTA") or ""), str(r)
    diag = re.sub(r"\s+", " ", r.get("Diagnostic-Code") or "")
    assert diag.lower().startswith("smtp;") and "550 5.1.1" in diag, diag
    # The whole message comes back by default (RET=FULL).
    assert dsn.original is not None, "original message not returned"
    assert subj in dsn.original.as_string()
    assert dsn.msg.get("To", "").find("someone@localhost") >= 0, dsn.msg.get("To")
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"))
    assert status_logs_left(inst) == []


def test_ret_hdrs_returns_headers_only(make_instance, sinks):
    needs("smtp", "bounce")
    sink = sinks()
    sink.rcpt_default = "550 5.7.1 rejected"
    inst = relay_instance(make_instance, sink)
    subj = token("hdrs")
    body = b"SECRET-BODY-" + subj.encode() + b"\r\n"
    content = message(subj, body=body, to="x@remote.test", sender=SENDER)
    assert send_esmtp(inst, SENDER, ["x@remote.test"], content, mail_params="RET=HDRS") == 250
    dsns = wait_dsns(inst, "someone", 1, timeout=20)
    assert len(dsns) == 1, inst.log_text()[-3000:]
    dsn = dsns[0].assert_well_formed()
    assert dsn.original is not None
    assert dsn.original.get_content_type() in ("text/rfc822-headers",
                                               "message/global-headers"), \
        dsn.original.get_content_type()
    assert subj.encode() in dsn.raw
    assert b"SECRET-BODY-" not in dsn.raw


def test_expiry_returns_mail_as_failed(make_instance, sinks):
    needs("smtp", "bounce")
    sink = sinks()
    sink.rcpt_default = "450 4.2.0 mailbox busy"
    inst = relay_instance(make_instance, sink, maximal_queue_lifetime="1s")
    rcpt = "slow@remote.test"
    assert send_raw(inst, SENDER, [rcpt],
                    message(token("expire"), to=rcpt, sender=SENDER))["end"][0] == 250
    # Give the retries a push; the first attempt may already be past 1s.
    deadline = time.time() + 30
    while time.time() < deadline and not maildir_files(inst, "someone"):
        inst.flush()
        time.sleep(1)
    dsns = wait_dsns(inst, "someone", 1, timeout=5)
    assert len(dsns) == 1, f"no expiry DSN; log:\n{inst.log_text()[-3000:]}"
    dsn = dsns[0].assert_well_formed()
    r = dsn.recipient(rcpt)
    assert r is not None and r.get("Action").strip().lower() == "failed", str(r)
    assert r.get("Status").strip()[0] in "45", r.get("Status")
    assert "450" in (r.get("Diagnostic-Code") or "") or "450" in dsn.raw.decode("utf-8", "replace")
    assert "status=expired" in inst.log_text(), inst.log_text()[-3000:]
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"), timeout=20), \
        inst.queue_files()
    assert no_more_mail(inst, "someone", 1, wait=2)
    assert status_logs_left(inst) == []


def test_notify_success_relayed_when_peer_lacks_dsn(make_instance, sinks):
    needs("smtp", "bounce")
    sink = sinks()
    sink.dsn = False
    inst = relay_instance(make_instance, sink)
    rcpt = "ok@remote.test"
    assert send_esmtp(inst, SENDER, [(rcpt, "NOTIFY=SUCCESS,FAILURE")],
                      message(token("succ"), to=rcpt, sender=SENDER)) == 250
    assert sink.wait_messages(1, timeout=20)
    # The peer never saw the DSN parameters it did not announce.
    assert sink.messages[0].rcpts[0][1] == [], sink.messages[0].rcpts
    dsns = wait_dsns(inst, "someone", 1, timeout=20)
    assert len(dsns) == 1, f"no success DSN; log:\n{inst.log_text()[-3000:]}"
    dsn = dsns[0].assert_well_formed()
    r = dsn.recipient(rcpt)
    assert r is not None
    assert r.get("Action").strip().lower() == "relayed", str(r)
    assert r.get("Status").strip().startswith("2."), str(r)
    assert no_more_mail(inst, "someone", 1)
    assert status_logs_left(inst) == []


def test_notify_success_passed_on_to_dsn_peer(make_instance, sinks):
    """A next hop that announces DSN gets NOTIFY and ORCPT passed on, and
    reports success itself (RFC 3461): we send no success DSN."""
    needs("smtp", "bounce")
    sink = sinks()
    sink.dsn = True
    inst = relay_instance(make_instance, sink)
    rcpt = "ok@remote.test"
    subj = token("succ-dsn")
    assert send_esmtp(inst, SENDER, [(rcpt, "NOTIFY=SUCCESS ORCPT=rfc822;o@remote.test")],
                      message(subj, to=rcpt, sender=SENDER),
                      mail_params=f"RET=HDRS ENVID=e{subj}") == 250
    msgs = sink.wait_messages(1, timeout=20)
    assert msgs, inst.log_text()[-3000:]
    params = [p.upper() for p in msgs[0].rcpts[0][1]]
    assert "NOTIFY=SUCCESS" in params, params
    assert "ORCPT=RFC822;O@REMOTE.TEST" in params, params
    mparams = [p.upper() for p in msgs[0].mail_params]
    assert "RET=HDRS" in mparams and f"ENVID=E{subj.upper()}" in mparams, mparams
    assert wait_status(inst, rcpt, "sent", timeout=20), inst.log_text()[-3000:]
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"))
    assert no_more_mail(inst, "someone", 0, wait=3), "a success DSN although the next hop reports"
    assert status_logs_left(inst) == []


def test_notify_never_sends_no_dsn(make_instance, sinks):
    needs("smtp", "bounce")
    sink = sinks()
    sink.rcpt_default = "550 5.1.1 no such user"
    inst = relay_instance(make_instance, sink)
    rcpt = "gone@remote.test"
    assert send_esmtp(inst, SENDER, [(rcpt, "NOTIFY=NEVER")],
                      message(token("never"), to=rcpt, sender=SENDER)) == 250
    assert wait_status(inst, rcpt, "bounced", timeout=20), inst.log_text()[-3000:]
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"))
    assert no_more_mail(inst, "someone", 0, wait=3), "a DSN despite NOTIFY=NEVER"


@pytest.mark.parametrize("classes,double_bounce", [(None, True),
                                                   ("resource, software, 2bounce", True),
                                                   ("resource, software", False)])
def test_null_sender_bounce_never_bounces_back(make_instance, sinks, classes, double_bounce):
    """Undeliverable mail from the null sender gets no bounce.  With 2bounce
    in notify_classes (the default) a double bounce goes to
    2bounce_notice_recipient (postmaster, aliased to root) exactly once;
    without it, nothing is sent at all."""
    needs("smtp", "bounce")
    sink = sinks()
    sink.rcpt_default = "550 5.1.1 no such user"
    extra = {"notify_classes": classes} if classes else {}
    inst = relay_instance(make_instance, sink, **extra)
    rcpt = "gone@remote.test"
    subj = token("double")
    assert send_raw(inst, "", [rcpt], message(subj, to=rcpt, sender="MAILER-DAEMON@x"))["end"][0] == 250
    assert wait_status(inst, rcpt, "bounced", timeout=20), inst.log_text()[-3000:]
    if double_bounce:
        msgs = wait_dsns(inst, "root", 1, timeout=20)
        assert len(msgs) == 1, f"no double bounce; log:\n{inst.log_text()[-3000:]}"
        assert rcpt.encode() in msgs[0].raw
        assert no_more_mail(inst, "root", 1, wait=3), "the bounce bounced again"
    else:
        assert no_more_mail(inst, "root", 0, wait=3)
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"))
    assert sink.transactions == 0
    # Nothing went to the null sender or anyone else.
    others = [p.name for p in inst.mail.iterdir() if p.name != "root"]
    assert others == [], others


def test_delay_warning(make_instance, sinks):
    needs("smtp", "bounce")
    if not param_known("delay_warning_time"):
        pytest.skip("delay_warning_time not in this build")
    sink = sinks()
    sink.rcpt_default = "450 4.2.0 busy"
    inst = relay_instance(make_instance, sink, delay_warning_time="1s")
    rcpt = "later@remote.test"
    assert send_esmtp(inst, SENDER, [(rcpt, "NOTIFY=DELAY,FAILURE")],
                      message(token("delay"), to=rcpt, sender=SENDER)) == 250
    deadline = time.time() + 30
    while time.time() < deadline and not maildir_files(inst, "someone"):
        inst.flush()
        time.sleep(1)
    dsns = wait_dsns(inst, "someone", 1, timeout=5)
    assert len(dsns) == 1, f"no delay warning; log:\n{inst.log_text()[-3000:]}"
    r = dsns[0].assert_well_formed().recipient(rcpt)
    assert r is not None and r.get("Action").strip().lower() == "delayed", str(r)
    assert r.get("Status").strip().startswith("4."), str(r)
    # Still queued, and warned only once.
    assert inst.queue_files(), "the message left the queue"
    time.sleep(3)
    inst.flush()
    assert no_more_mail(inst, "someone", 1, wait=2), "warned more than once"


def test_bounce_size_limit_returns_headers_only(make_instance, sinks):
    needs("smtp", "bounce")
    sink = sinks()
    sink.rcpt_default = "550 5.1.1 no such user"
    inst = relay_instance(make_instance, sink, bounce_size_limit="1000")
    subj = token("bigbounce")
    body = b"".join(b"BODYLINE %05d " % i + b"x" * 60 + b"\r\n" for i in range(200))
    rcpt = "gone@remote.test"
    assert send_raw(inst, SENDER, [rcpt], message(subj, body=body, to=rcpt,
                                                  sender=SENDER))["end"][0] == 250
    dsns = wait_dsns(inst, "someone", 1, timeout=20)
    assert len(dsns) == 1, inst.log_text()[-3000:]
    dsn = dsns[0].assert_well_formed()
    assert subj.encode() in dsn.raw, "the original headers are missing"
    assert dsn.raw.count(b"BODYLINE") <= 20, \
        f"{dsn.raw.count(b'BODYLINE')} body lines returned despite bounce_size_limit"
    assert len(dsn.raw) < len(body)


def test_notify_classes_bounce_copies_postmaster(make_instance, sinks):
    needs("smtp", "bounce")
    sink = sinks()
    sink.rcpt_default = "550 5.1.1 no such user"
    inst = relay_instance(make_instance, sink, notify_classes="bounce")
    subj = token("copy")
    body = b"PRIVATE-BODY\r\n"
    rcpt = "gone@remote.test"
    assert send_raw(inst, SENDER, [rcpt], message(subj, body=body, to=rcpt,
                                                  sender=SENDER))["end"][0] == 250
    assert len(wait_dsns(inst, "someone", 1, timeout=20)) == 1, inst.log_text()[-3000:]
    copies = wait_dsns(inst, "root", 1, timeout=20)
    assert len(copies) == 1, f"no postmaster copy; log:\n{inst.log_text()[-3000:]}"
    assert subj.encode() in copies[0].raw
    assert b"PRIVATE-BODY" not in copies[0].raw, "the postmaster copy has the body"
    assert no_more_mail(inst, "someone", 1) and no_more_mail(inst, "root", 1, wait=0)


def test_bounce_queue_lifetime_for_null_sender(make_instance, sinks):
    """Mail from the null sender expires after bounce_queue_lifetime (not
    maximal_queue_lifetime) and is not returned to anyone."""
    needs("smtp", "bounce")
    sink = sinks()
    sink.rcpt_default = "450 4.2.0 busy"
    inst = relay_instance(make_instance, sink, bounce_queue_lifetime="1s",
                          maximal_queue_lifetime="1d")
    rcpt = "busy@remote.test"
    assert send_raw(inst, "", [rcpt], message(token("nullexp"), to=rcpt))["end"][0] == 250
    deadline = time.time() + 30
    while time.time() < deadline and "status=expired" not in inst.log_text():
        inst.flush()
        time.sleep(1)
    assert "status=expired" in inst.log_text(), inst.log_text()[-3000:]
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"), timeout=20), \
        inst.queue_files()
    time.sleep(2)
    # Nothing for the null sender; only the postmaster's double bounce
    # (notify_classes has 2bounce by default).
    assert [p.name for p in inst.mail.iterdir()] in ([], ["root"]), "a bounce of a bounce was sent"
    assert len(maildir_files(inst, "root")) <= 1
