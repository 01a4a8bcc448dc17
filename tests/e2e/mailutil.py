"""Helpers shared by the end-to-end tests: building test messages, sending
them over a raw SMTP conversation, and taking a delivered file apart."""
import os
import re


def token(prefix="t"):
    """A string unique to this test run, usable in addresses and headers."""
    return f"{prefix}{os.getpid()}x{os.urandom(4).hex()}"


def message(subject, body=b"Hello.\r\nSecond line.\r\n", headers=(),
            msgid=True, date=True, sender="sender@client.example",
            to="rcpt@localhost"):
    """A message in wire form (CRLF line ends, not dot-stuffed)."""
    h = [f"From: <{sender}>", f"To: <{to}>", f"Subject: {subject}"]
    if date:
        h.append("Date: Mon, 24 Nov 2025 10:00:00 +0000")
    if msgid:
        h.append(f"Message-ID: <{subject}@client.example>")
    h.extend(headers)
    if isinstance(body, str):
        body = body.encode()
    return ("\r\n".join(h) + "\r\n\r\n").encode() + body


def dot_stuff(content):
    """RFC 5321 4.5.2 transparency: double a leading dot on every line."""
    lines = content.split(b"\r\n")
    return b"\r\n".join(b"." + l if l.startswith(b".") else l for l in lines)


def send_raw(inst, sender, rcpts, content, port=None, stuff=True, ehlo=True):
    """One full conversation over a raw socket.  Returns (replies, session):
    replies maps "mail", "rcpt" (list), "data", "end", "quit" to (code,
    lines)."""
    s = inst.raw(port)
    replies = {"banner": s.banner, "rcpt": []}
    replies["ehlo"] = s.cmd("EHLO client.example" if ehlo else "HELO client.example")
    replies["mail"] = s.cmd(f"MAIL FROM:<{sender}>")
    for r in rcpts:
        replies["rcpt"].append(s.cmd(f"RCPT TO:<{r}>"))
    replies["data"] = s.cmd("DATA")
    if replies["data"][0] == 354:
        body = dot_stuff(content) if stuff else content
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        s.send(body + b".\r\n")
        replies["end"] = s.reply(timeout=30)
    replies["quit"] = s.cmd("QUIT")
    s.close()
    return replies


def split_delivered(data):
    """Split a delivered Maildir file into the headers posthorn prepends
    (Return-Path, Delivered-To, Received, in that order, with their
    continuation lines) and the rest.  Returns (dict name -> bytes value
    with continuations joined by "\\n", rest).  Raises AssertionError when
    the file does not start that way."""
    added = {}
    pos = 0
    for name in (b"Return-Path", b"Delivered-To", b"Received"):
        m = re.match(re.escape(name) + rb": ([^\n]*\n(?:[ \t][^\n]*\n)*)", data[pos:])
        assert m, (f"delivered file lacks {name.decode()} at offset {pos}: "
                   f"{data[pos:pos + 200]!r}")
        added[name.decode()] = m.group(1).rstrip(b"\n")
        pos += m.end()
    return added, data[pos:]


def lf(content):
    """Wire form to the form stored in a mailbox: CRLF -> LF."""
    return content.replace(b"\r\n", b"\n")


def header_block(data):
    """The header part of a message (up to the first empty line)."""
    return data.split(b"\n\n", 1)[0]
