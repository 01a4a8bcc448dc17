"""SMTP smuggling: a bare LF around a dot must never end DATA, so commands
hidden in the content stay content (only CR LF . CR LF ends a message)."""
import pytest

from mailutil import token, split_delivered

ENDINGS = {
    "lf-dot-lf": b"\n.\n",
    "crlf-dot-lf": b"\r\n.\n",
    "lf-dot-crlf": b"\n.\r\n",
}


def smuggle(inst, ending, victim, smuggled_rcpt):
    """Send one DATA with a fake end-of-data followed by a second
    transaction; returns (replies after the real end, session)."""
    subj = token("smuggle")
    s = inst.raw()
    assert s.cmd("EHLO client.example")[0] == 250
    assert s.cmd("MAIL FROM:<s@client.example>")[0] == 250
    assert s.cmd(f"RCPT TO:<{victim}@localhost>")[0] == 250
    assert s.cmd("DATA")[0] == 354
    payload = (f"Subject: {subj}\r\n\r\nfirst part".encode() + ending +
               b"MAIL FROM:<evil@example.com>\r\n"
               + f"RCPT TO:<{smuggled_rcpt}@localhost>\r\n".encode() +
               b"DATA\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n"
               b".\r\nQUIT\r\n")
    # The real end of the message, then a NOOP to see what comes back.
    s.send(payload)
    return subj, s


@pytest.mark.parametrize("name", sorted(ENDINGS))
def test_bare_lf_dot_does_not_end_data_normalize(make_instance, name):
    inst = make_instance(main={"smtpd_forbid_bare_newline": "normalize"})
    victim, other = token("vic"), token("oth")
    subj, s = smuggle(inst, ENDINGS[name], victim, other)
    # Exactly one 250 for the one message (ended by the real CRLF.CRLF),
    # then 221 for the QUIT that followed it; the smuggled MAIL/RCPT/DATA
    # got no replies because they were content.
    code, lines = s.reply(timeout=15)
    assert code == 250, lines
    code, lines = s.reply(timeout=15)
    assert code == 221, lines
    assert s.is_closed()
    msgs = inst.maildir_messages(victim, 1)
    assert len(msgs) == 1
    rest = split_delivered(msgs[0])[1]
    assert subj.encode() in rest
    assert b"MAIL FROM:<evil@example.com>\n" in rest
    assert f"RCPT TO:<{other}@localhost>".encode() in rest
    assert b"smuggled body" in rest
    assert inst.wait_queue_empty()
    assert inst.maildir_messages(other, 1, timeout=2) == []
    assert not (inst.mail / other).exists()
    assert len(inst.maildir_messages(victim, 2, timeout=2)) == 1


@pytest.mark.parametrize("name", sorted(ENDINGS))
def test_bare_lf_rejected(make_instance, name):
    inst = make_instance(main={
        "smtpd_forbid_bare_newline": "reject",
        # By default clients in mynetworks are exempt; this one is not.
        "smtpd_forbid_bare_newline_exclusions": "192.0.2.0/24",
    })
    victim, other = token("vic"), token("oth")
    subj, s = smuggle(inst, ENDINGS[name], victim, other)
    code, lines = s.reply(timeout=15)
    assert code == 550, lines      # smtpd_forbid_bare_newline_reject_code
    assert s.is_closed(timeout=10), "no disconnect after the bare LF reject"
    assert inst.wait_queue_empty()
    assert inst.maildir_messages(victim, 1, timeout=2) == []
    assert inst.maildir_messages(other, 1, timeout=1) == []


def test_bare_lf_in_command_rejected(make_instance):
    inst = make_instance(main={
        "smtpd_forbid_bare_newline": "reject",
        "smtpd_forbid_bare_newline_exclusions": "192.0.2.0/24",
    })
    s = inst.raw()
    s.send(b"EHLO client.example\n")
    code, lines = s.reply()
    assert code == 550, lines
    assert s.is_closed()


def test_bare_lf_exclusions_exempt_mynetworks(make_instance):
    inst = make_instance(main={"smtpd_forbid_bare_newline": "reject"})
    victim, other = token("vic"), token("oth")
    subj, s = smuggle(inst, b"\n.\n", victim, other)
    assert s.reply(timeout=15)[0] == 250
    assert len(inst.maildir_messages(victim, 1)) == 1
    assert inst.maildir_messages(other, 1, timeout=2) == []
