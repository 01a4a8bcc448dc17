"""SMTP and LMTP sink servers for the end-to-end tests: they play the
remote MTAs that posthorn's smtp/lmtp client delivers to.

A Sink listens on one loopback address and port (several sinks on
127.0.0.2, 127.0.0.3, ... with one port emulate several MX hosts) or on a
UNIX socket, runs in its own thread with its own asyncio loop, and records
every conversation.  Its behaviour can be changed while it runs:

    sink = Sink("127.0.0.2", port).start()
    sink.rcpt_replies["bad@x.test"] = "550 5.1.1 no such user"
    sink.data_reply = "451 4.3.0 try later"
    sink.dsn = True                      # announce DSN in EHLO
    sink.on_connect = "stall"            # "accept", "drop", "stall"
    sink.stall_at = "data"               # stop answering at a stage
    sink.drop_at = "dot"                 # close the connection at a stage
    sink.wait_messages(3)
    sink.stop()                          # not listening: connections refused

Stages: "banner", "ehlo", "mail", "rcpt", "data" (the DATA command),
"dot" (the end of the message).  Counters: connections, transactions
(messages given a 2xx at the end of data, in LMTP: with at least one 2xx),
and every message's envelope and exact bytes (dot-stuffing removed, CRLF
line ends kept, the final "." line excluded).

The sink is written on asyncio rather than aiosmtpd because the tests need
DSN parameters (RET, ENVID, NOTIFY, ORCPT), LMTP per-recipient replies
after DATA, stalls and drops at any stage, and the exact received bytes.
"""
import asyncio
import email
import email.policy
import os
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

MAX_LINE = 1 << 20


@dataclass
class Received:
    """One message the sink accepted (at least for one recipient)."""
    conn: int
    helo: str
    mail_from: str
    mail_params: list
    rcpts: list                 # [(address, [params])] given 2xx at RCPT
    accepted: list              # addresses the message was accepted for
    data: bytes
    when: float = field(default_factory=time.time)

    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.compat32)

    def header(self, name):
        return self.message().get(name)


def free_port(host="127.0.0.1", also=()):
    """A TCP port free on host and on every address in also."""
    for _ in range(100):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
            ok = True
            for h in also:
                with socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET) as t:
                    try:
                        t.bind((h, port))
                    except OSError:
                        ok = False
                        break
            if ok:
                return port
    raise RuntimeError("no free port")


def parse_path(arg):
    """'<a@b> X=Y Z' -> ('a@b', ['X=Y', 'Z']); None when malformed."""
    m = re.match(r"\s*<([^>]*)>\s*(.*)$", arg)
    if not m:
        return None
    return m.group(1), m.group(2).split()


class Sink:
    def __init__(self, host="127.0.0.1", port=None, lmtp=False, unix_path=None,
                 name=None):
        self.host = host
        self.unix_path = unix_path
        self.port = None if unix_path else (port or free_port(host))
        self.lmtp = lmtp
        self.name = name or (f"sink-{host}" if not unix_path else "sink-unix")
        # behaviour ---------------------------------------------------------
        self.greeting = f"220 {self.name}.test {'LMTP' if lmtp else 'ESMTP'} sink"
        self.on_connect = "accept"       # accept | drop | stall
        self.esmtp = True                # False: EHLO gets 502 (HELO only)
        self.dsn = False
        self.pipelining = True
        self.smtputf8 = True
        self.eightbitmime = True
        self.size_limit = 50 * 1024 * 1024
        self.extra_keywords = []
        self.mail_reply = "250 2.1.0 Ok"
        self.rcpt_replies = {}           # address (lower case) -> reply
        self.rcpt_default = "250 2.1.5 Ok"
        self.data_reply = "354 End data with <CR><LF>.<CR><LF>"
        self.dot_reply = None            # None: "250 2.0.0 Ok: queued as N"
        self.lmtp_replies = {}           # LMTP: address -> reply after DATA
        self.stall_at = None
        self.drop_at = None
        self.reply_delay = 0.0
        # records -----------------------------------------------------------
        self.lock = threading.Lock()
        self.connections = 0
        self.open_connections = 0
        self.transactions = 0
        self.messages = []
        self.commands = []               # (conn, line) of every command
        # machinery ---------------------------------------------------------
        self.loop = None
        self.thread = None
        self.server = None
        self.writers = set()
        self.tasks = set()

    # life ------------------------------------------------------------------------
    def start(self):
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            self.thread = threading.Thread(target=self.loop.run_forever,
                                           name=self.name, daemon=True)
            self.thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._listen(), self.loop)
        fut.result(timeout=10)
        return self

    async def _listen(self):
        if self.unix_path:
            try:
                os.unlink(self.unix_path)
            except FileNotFoundError:
                pass
            self.server = await asyncio.start_unix_server(
                self._session, path=self.unix_path, limit=MAX_LINE)
            os.chmod(self.unix_path, 0o666)
        else:
            self.server = await asyncio.start_server(
                self._session, self.host, self.port, limit=MAX_LINE,
                reuse_address=True, backlog=256)

    def stop(self):
        """Stop listening and close every open connection; the port then
        refuses connections.  start() listens again."""
        if self.loop is None or self.server is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._close(), self.loop)
        try:
            fut.result(timeout=10)
        except Exception:
            pass

    async def _close(self):
        if self.server is not None:
            self.server.close()
            self.server = None
        for w in list(self.writers):
            w.close()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.sleep(0)

    def close(self):
        """stop() and end the thread."""
        self.stop()
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
            if not self.thread.is_alive():
                self.loop.close()
            self.loop = None

    @property
    def address(self):
        return self.unix_path or f"{self.host}:{self.port}"

    # inspection ------------------------------------------------------------------
    def wait_messages(self, n, timeout=20):
        """Wait until at least n messages were accepted; the messages."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    break
            time.sleep(0.05)
        with self.lock:
            return list(self.messages)

    def wait_connections(self, n, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline and self.connections < n:
            time.sleep(0.05)
        return self.connections

    def delivered_to(self, address):
        """Messages accepted for address (once per acceptance)."""
        address = address.lower()
        with self.lock:
            return [m for m in self.messages
                    if address in (a.lower() for a in m.accepted)]

    def deliveries_by_message_id(self):
        """Counter of (Message-ID, recipient) over every acceptance."""
        c = Counter()
        with self.lock:
            msgs = list(self.messages)
        for m in msgs:
            mid = m.header("Message-ID")
            for a in m.accepted:
                c[(mid.strip() if mid else None, a.lower())] += 1
        return c

    def reset(self):
        with self.lock:
            self.connections = 0
            self.transactions = 0
            self.messages = []
            self.commands = []

    # protocol ----------------------------------------------------------------------
    def _rcpt_reply(self, addr):
        r = self.rcpt_replies.get(addr.lower())
        if r is None and "@" in addr:
            r = self.rcpt_replies.get(addr.lower().split("@")[0])
        return r or self.rcpt_default

    def _lmtp_reply(self, addr):
        r = self.lmtp_replies.get(addr.lower())
        if r is None and "@" in addr:
            r = self.lmtp_replies.get(addr.lower().split("@")[0])
        return r

    def _keywords(self):
        kw = []
        if self.pipelining:
            kw.append("PIPELINING")
        if self.size_limit:
            kw.append(f"SIZE {self.size_limit}")
        if self.eightbitmime:
            kw.append("8BITMIME")
        kw.append("ENHANCEDSTATUSCODES")
        if self.dsn:
            kw.append("DSN")
        if self.smtputf8:
            kw.append("SMTPUTF8")
        return kw + list(self.extra_keywords)

    async def _session(self, reader, writer):
        task = asyncio.current_task()
        self.tasks.add(task)
        self.writers.add(writer)
        with self.lock:
            self.connections += 1
            self.open_connections += 1
            conn = self.connections
        try:
            await self._converse(conn, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError,
                asyncio.LimitOverrunError, asyncio.CancelledError, OSError):
            pass
        finally:
            with self.lock:
                self.open_connections -= 1
            self.writers.discard(writer)
            self.tasks.discard(task)
            try:
                writer.close()
            except Exception:
                pass

    async def _stall(self, reader):
        """Say nothing until the peer gives up or the sink stops."""
        while await reader.read(65536):
            pass
        raise ConnectionError("peer closed while stalled")

    async def _stage(self, stage, reader, writer):
        """Apply stall_at / drop_at for this stage."""
        if self.drop_at == stage:
            writer.close()
            raise ConnectionError(f"dropped at {stage}")
        if self.stall_at == stage:
            await self._stall(reader)

    async def _reply(self, writer, text):
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        writer.write(text.encode("utf-8") + b"\r\n")
        await writer.drain()

    async def _converse(self, conn, reader, writer):
        if self.on_connect == "drop":
            writer.close()
            return
        if self.on_connect == "stall":
            await self._stall(reader)
        await self._stage("banner", reader, writer)
        await self._reply(writer, self.greeting)
        if not self.greeting.startswith("2"):
            # A refusing server: answer QUIT, anything else 503, until EOF.
            while True:
                line = await reader.readline()
                if not line:
                    return
                if line.strip().upper() == b"QUIT":
                    await self._reply(writer, "221 2.0.0 Bye")
                    return
                await self._reply(writer, "503 5.5.1 Not accepting mail")
        helo = ""
        tx = None
        while True:
            line = await reader.readline()
            if not line:
                return
            text = line.decode("utf-8", "surrogateescape").rstrip("\r\n")
            with self.lock:
                self.commands.append((conn, text))
            verb, _, arg = text.partition(" ")
            verb = verb.upper()
            if verb in ("EHLO", "HELO", "LHLO"):
                await self._stage("ehlo", reader, writer)
                if self.lmtp and verb != "LHLO":
                    await self._reply(writer, "500 5.5.1 LMTP needs LHLO")
                    continue
                if not self.lmtp and verb == "LHLO":
                    await self._reply(writer, "500 5.5.1 Not LMTP")
                    continue
                if verb == "EHLO" and not self.esmtp:
                    await self._reply(writer, "502 5.5.1 EHLO not implemented")
                    continue
                helo = arg.strip()
                tx = None
                if verb == "HELO":
                    await self._reply(writer, f"250 {self.name}.test")
                else:
                    lines = [f"{self.name}.test"] + self._keywords()
                    out = "\r\n".join(f"250-{l}" for l in lines[:-1])
                    out = (out + "\r\n" if out else "") + f"250 {lines[-1]}"
                    await self._reply(writer, out)
            elif verb == "MAIL":
                await self._stage("mail", reader, writer)
                p = parse_path(arg[5:] if arg.upper().startswith("FROM:") else "")
                if not helo or p is None:
                    await self._reply(writer, "503 5.5.1 Error" if not helo
                                      else "501 5.5.4 Syntax")
                    continue
                reply = self.mail_reply
                if reply.startswith("2"):
                    tx = {"from": p[0], "params": p[1], "rcpts": []}
                await self._reply(writer, reply)
            elif verb == "RCPT":
                await self._stage("rcpt", reader, writer)
                p = parse_path(arg[3:] if arg.upper().startswith("TO:") else "")
                if tx is None or p is None:
                    await self._reply(writer, "503 5.5.1 Error" if tx is None
                                      else "501 5.5.4 Syntax")
                    continue
                reply = self._rcpt_reply(p[0])
                if reply.startswith("2"):
                    tx["rcpts"].append(p)
                await self._reply(writer, reply)
            elif verb == "DATA":
                await self._stage("data", reader, writer)
                if tx is None or not tx["rcpts"]:
                    await self._reply(writer, "503 5.5.1 No valid recipients")
                    continue
                if not self.data_reply.startswith("3"):
                    await self._reply(writer, self.data_reply)
                    tx = None
                    continue
                await self._reply(writer, self.data_reply)
                data = await self._read_data(reader)
                await self._stage("dot", reader, writer)
                await self._finish(conn, helo, tx, data, writer)
                tx = None
            elif verb == "RSET":
                tx = None
                await self._reply(writer, "250 2.0.0 Ok")
            elif verb == "NOOP":
                await self._reply(writer, "250 2.0.0 Ok")
            elif verb == "QUIT":
                await self._reply(writer, "221 2.0.0 Bye")
                return
            else:
                await self._reply(writer, "502 5.5.2 Command not recognized")

    async def _read_data(self, reader):
        chunks = []
        while True:
            line = await reader.readline()
            if not line:
                raise ConnectionError("EOF in DATA")
            if line == b".\r\n":
                break
            if line.startswith(b"."):
                line = line[1:]
            chunks.append(line)
        return b"".join(chunks)

    async def _finish(self, conn, helo, tx, data, writer):
        if self.lmtp:
            accepted = []
            replies = []
            n = len(self.messages) + 1
            for addr, _params in tx["rcpts"]:
                r = self._lmtp_reply(addr) or f"250 2.0.0 <{addr}> Ok: queued as L{n}"
                replies.append(r)
                if r.startswith("2"):
                    accepted.append(addr)
            self._record(conn, helo, tx, data, accepted)
            await self._reply(writer, "\r\n".join(replies))
        else:
            reply = self.dot_reply
            if reply is None or reply.startswith("2"):
                self._record(conn, helo, tx, data, [a for a, _ in tx["rcpts"]])
            if reply is None:
                reply = f"250 2.0.0 Ok: queued as S{len(self.messages)}"
            await self._reply(writer, reply)

    def _record(self, conn, helo, tx, data, accepted):
        if not accepted:
            return
        with self.lock:
            self.transactions += 1
            self.messages.append(Received(conn, helo, tx["from"], tx["params"],
                                          tx["rcpts"], accepted, data))
