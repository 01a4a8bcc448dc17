"""Helpers for the outbound delivery tests (issue 3): instance settings
for fast retries, the Postfix-shaped status log line, and taking apart the
RFC 3464 delivery status notifications that land in a local Maildir."""
import email
import email.policy
import re
import time
from pathlib import Path

from instance import SRCDIR

# Retries within a second or two, so deferred mail is retried during a test.
FAST_RETRY = {
    "queue_run_delay": "1s",
    "minimal_backoff_time": "1s",
    "maximal_backoff_time": "2s",
}

# The status line of one recipient, in Postfix's shape:
#   to=<a@b>, [orig_to=<..>, ]relay=host[addr]:port, [conn_use=N, ]
#   delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 ...)
STATUS_RE = re.compile(
    r"to=<(?P<to>[^>]*)>, (?:orig_to=<(?P<orig_to>[^>]*)>, )?"
    r"relay=(?P<relay>[^,]+), (?:conn_use=(?P<conn_use>\d+), )?delay=(?P<delay>\d+(?:\.\d+)?), "
    r"delays=(?P<delays>\d+(?:\.\d+)?/\d+(?:\.\d+)?/\d+(?:\.\d+)?/\d+(?:\.\d+)?), "
    r"dsn=(?P<dsn>\d\.\d{1,3}\.\d{1,3}), "
    r"status=(?P<status>sent|deferred|bounced|expired|undeliverable|deliverable)"
    r" \((?P<text>.*)\)\s*$")


def status_lines(inst, to=None, status=None):
    """Parsed status lines (re.Match of STATUS_RE) from the maillog,
    optionally only for one recipient and/or one status."""
    out = []
    for line in inst.log_text().splitlines():
        m = STATUS_RE.search(line)
        if not m:
            continue
        if to is not None and m.group("to").lower() != to.lower():
            continue
        if status is not None and m.group("status") != status:
            continue
        out.append(m)
    return out


def wait_status(inst, to, status, count=1, timeout=20):
    deadline = time.time() + timeout
    while True:
        found = status_lines(inst, to, status)
        if len(found) >= count or time.time() >= deadline:
            return found
        time.sleep(0.1)


def mx_route(domain, port):
    """main.cf settings that send mail for domain through an MX lookup to
    port P instead of 25 (the sinks cannot all own port 25): Postfix's
    smtp_tcp_port where the build has it, else the transport_maps route
    "smtp:domain:P" (no brackets: MX lookup, then port P on each host)."""
    if param_known("smtp_tcp_port"):
        return {"smtp_tcp_port": str(port)}
    return {"transport_maps": f"inline:{{ {domain}=smtp:{domain}:{port} }}"}


def param_known(name):
    """True when the parameter table of this build has name."""
    try:
        text = (SRCDIR / "lib" / "params_table.c").read_text(errors="replace")
    except OSError:
        return False
    return f'{{"{name}"' in text


# DSNs --------------------------------------------------------------------------
class Dsn:
    """One delivery status notification, parsed with the email package."""

    def __init__(self, raw):
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        self.report = None              # the message/delivery-status part
        self.per_message = None         # its first field group
        self.recipients = []            # its per-recipient field groups
        self.text = None                # the human readable part
        self.original = None            # message/rfc822 or text/rfc822-headers
        if self.msg.get_content_type() != "multipart/report":
            return
        for part in self.msg.get_payload():
            ctype = part.get_content_type()
            if ctype == "message/delivery-status" and self.report is None:
                self.report = part
                groups = part.get_payload()
                if isinstance(groups, list) and groups:
                    self.per_message = groups[0]
                    self.recipients = groups[1:]
            elif ctype == "text/plain" and self.text is None:
                self.text = part.get_payload(decode=True) or b""
            elif ctype in ("message/rfc822", "text/rfc822-headers",
                           "message/global", "message/global-headers"):
                self.original = part

    @property
    def report_type(self):
        return self.msg.get_param("report-type")

    def recipient(self, address):
        """The per-recipient group whose Final-Recipient is address."""
        for r in self.recipients:
            fr = r.get("Final-Recipient", "")
            if fr.split(";", 1)[-1].strip().lower() == address.lower():
                return r
        return None

    def assert_well_formed(self):
        assert self.msg.get_content_type() == "multipart/report", \
            self.msg.get_content_type()
        assert (self.report_type or "").lower() == "delivery-status", self.report_type
        assert self.report is not None, "no message/delivery-status part"
        assert self.per_message is not None and self.per_message.get("Reporting-MTA"), \
            "no Reporting-MTA"
        assert self.recipients, "no per-recipient fields"
        for r in self.recipients:
            assert r.get("Final-Recipient", "").lower().startswith("rfc822;"), \
                r.get("Final-Recipient")
            assert r.get("Action"), "per-recipient group without Action"
            assert re.match(r"^[245]\.\d{1,3}\.\d{1,3}$", (r.get("Status") or "").strip()), \
                r.get("Status")
        return self

    def __repr__(self):
        return f"Dsn({self.msg.get('Subject')!r}, {len(self.raw)} bytes)"


def status_logs_left(inst, timeout=5):
    """Files in the queue's bounce/, defer/ and trace/ (waiting up to
    timeout for them to go): a finished message leaves none behind."""
    import os
    deadline = time.time() + timeout
    while True:
        left = [os.path.relpath(os.path.join(dp, f), inst.queue)
                for q in ("bounce", "defer", "trace")
                for dp, _d, files in os.walk(inst.queue / q) for f in files]
        if not left or time.time() >= deadline:
            return left
        time.sleep(0.1)


def maildir_files(inst, user):
    new = Path(inst.mail) / user / "new"
    try:
        return sorted(new.iterdir(), key=lambda p: (p.stat().st_mtime, p.name))
    except FileNotFoundError:
        return []


def wait_dsns(inst, user, count=1, timeout=20):
    """DSNs (Dsn) in D/mail/USER/new, waiting for at least count."""
    deadline = time.time() + timeout
    while True:
        files = maildir_files(inst, user)
        if len(files) >= count or time.time() >= deadline:
            break
        time.sleep(0.1)
    out = []
    for p in files:
        try:
            out.append(Dsn(p.read_bytes()))
        except FileNotFoundError:
            pass
    return out


def strip_local_headers(data):
    """A delivered Maildir file without the Return-Path: and Delivered-To:
    lines local(8) puts on top."""
    while True:
        m = re.match(rb"(Return-Path|Delivered-To): [^\n]*\n(?:[ \t][^\n]*\n)*", data)
        if not m:
            return data
        data = data[m.end():]


def split_received(data):
    """(first Received: header with continuations, the rest) of bytes as
    received by a sink (CRLF line ends)."""
    m = re.match(rb"Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*", data)
    assert m, f"message does not start with a Received: header: {data[:200]!r}"
    return data[:m.end()], data[m.end():]


def send_esmtp(inst, sender, rcpts, content, mail_params="", port=None):
    """One transaction with ESMTP parameters: rcpts is a list of addresses
    or (address, "NOTIFY=... ORCPT=...") pairs.  Returns the final reply
    code (None when a command failed before DATA)."""
    from mailutil import dot_stuff
    s = inst.raw(port)
    try:
        assert s.cmd("EHLO client.example")[0] == 250
        code, lines = s.cmd(f"MAIL FROM:<{sender}>" + (f" {mail_params}" if mail_params else ""))
        assert code == 250, lines
        for r in rcpts:
            addr, params = (r, "") if isinstance(r, str) else r
            code, lines = s.cmd(f"RCPT TO:<{addr}>" + (f" {params}" if params else ""))
            assert code == 250, (addr, lines)
        code, lines = s.cmd("DATA")
        assert code == 354, lines
        s.send(dot_stuff(content) + b".\r\n")
        code, lines = s.reply(timeout=30)
        s.cmd("QUIT")
        return code
    finally:
        s.close()
