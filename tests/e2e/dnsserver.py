"""A private DNS server for the end-to-end tests: dnsmasq on a free
loopback port, answering only from records the tests give it, never
forwarding anything off the machine.

    dns = DnsServer(workdir)
    dns.mx("two.test", "mx1.two.test", 10)
    dns.a("mx1.two.test", "127.0.0.2")
    dns.null_mx("nullmx.test")
    dns.servfail("broken.test")
    dns.start()                       # or dns.apply() after more records
    main.cf: dns_servers = 127.0.0.1:<dns.port>

Every name under .test that has no record is NXDOMAIN (--local=/test/);
names outside .test are refused (no upstream servers).  dnsmasq reads its
records only at start, so apply() restarts it on the same port when the
records changed since the last start.  query() is a small DNS client for
checking what the server says.
"""
import os
import random
import shutil
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"

TYPE_A, TYPE_MX, TYPE_AAAA = 1, 15, 28
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP",
          5: "REFUSED"}


def free_udp_tcp_port(host="127.0.0.1"):
    """A port free for both UDP and TCP on host (dnsmasq binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((host, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((host, port))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free port for dnsmasq")


def closed_udp_port(host="127.0.0.1"):
    """A UDP port nothing listens on (queries to it get ICMP unreachable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.bind((host, 0))
        return u.getsockname()[1]


class DnsServer:
    def __init__(self, workdir, host="127.0.0.1", port=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or free_udp_tcp_port(host)
        self.options = []           # dnsmasq record options, in order
        self.proc = None
        self.started_with = None
        self.logfile = self.workdir / "dnsmasq.log"
        self.servfail_responder = None
        self._dead_port = None

    # records -------------------------------------------------------------------
    def _add(self, opt):
        if opt not in self.options:
            self.options.append(opt)
        return self

    def mx(self, name, host, pref=10):
        return self._add(f"--mx-host={name},{host},{pref}")

    def a(self, name, *addrs):
        """A and AAAA records (any mix of IPv4 and IPv6 addresses)."""
        return self._add(f"--host-record={name},{','.join(addrs)}")

    aaaa = a

    def null_mx(self, name):
        """RFC 7505 null MX: "MX 0 ." as a raw record (preference 0, the
        root name as exchange), which --mx-host cannot express."""
        return self._add(f"--dns-rr={name},{TYPE_MX},000000")

    def servfail(self, domain):
        """Queries under domain are forwarded to a responder on this
        machine that answers every query with SERVFAIL."""
        if self.servfail_responder is None:
            self.servfail_responder = ServfailResponder(self.host)
        return self._add(f"--server=/{domain}/{self.host}#{self.servfail_responder.port}")

    def no_answer(self, domain):
        """Queries under domain are forwarded to a closed port on this
        machine: the client sees a timeout."""
        if self._dead_port is None:
            self._dead_port = closed_udp_port(self.host)
        return self._add(f"--server=/{domain}/{self.host}#{self._dead_port}")

    def argv(self):
        return [DNSMASQ, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                "--no-poll", "--conf-file=/dev/null", "--local=/test/",
                "--bind-interfaces", f"--listen-address={self.host}",
                f"--port={self.port}", "--cache-size=0", "--no-negcache",
                "--user=root" if os.geteuid() == 0 else "--user=" + os.environ.get("USER", "nobody"),
                "--pid-file=" + str(self.workdir / "dnsmasq.pid"),
                "--log-queries", f"--log-facility={self.logfile}",
                "--local-ttl=0", "--dns-forward-max=50",
                *self.options]

    # process -------------------------------------------------------------------
    def start(self, timeout=10):
        if self.proc is not None:
            self.stop()
        argv = self.argv()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.workdir / "dnsmasq.stderr", "ab"))
        self.started_with = list(self.options)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                err = (self.workdir / "dnsmasq.stderr").read_text(errors="replace")
                raise RuntimeError(f"dnsmasq exited {self.proc.returncode}: {err[-2000:]}")
            try:
                rcode, _ = self.query("ready.probe.test", TYPE_A, timeout=0.5)
                if rcode is not None:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("dnsmasq did not answer")

    def apply(self):
        """Restart when records changed since the last start."""
        if self.proc is None or self.proc.poll() is not None \
                or self.started_with != self.options:
            self.start()
        return self

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None

    def close(self):
        self.stop()
        if self.servfail_responder is not None:
            self.servfail_responder.close()
            self.servfail_responder = None

    @property
    def servers(self):
        """The value for main.cf's dns_servers."""
        return f"{self.host}:{self.port}"

    # a tiny client ---------------------------------------------------------------
    def query(self, name, qtype, timeout=2.0):
        """(rcode name, [answer rdata]) for one UDP query; rdata is "pref
        host" for MX, the address for A/AAAA.  (None, []) on timeout."""
        qid = random.randrange(65536)
        q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + _encode_name(name) \
            + struct.pack(">HH", qtype, 1)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(q, (self.host, self.port))
            try:
                data, _ = s.recvfrom(4096)
            except socket.timeout:
                return (None, [])
        _id, flags, qd, an, _ns, _ar = struct.unpack(">HHHHHH", data[:12])
        pos = 12
        for _ in range(qd):
            _, pos = _decode_name(data, pos)
            pos += 4
        answers = []
        for _ in range(an):
            _, pos = _decode_name(data, pos)
            rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", data[pos:pos + 10])
            pos += 10
            rdata = data[pos:pos + rdlen]
            if rtype == TYPE_MX:
                pref = struct.unpack(">H", rdata[:2])[0]
                host, _ = _decode_name(data, pos + 2)
                answers.append(f"{pref} {host or '.'}")
            elif rtype == TYPE_A:
                answers.append(socket.inet_ntop(socket.AF_INET, rdata))
            elif rtype == TYPE_AAAA:
                answers.append(socket.inet_ntop(socket.AF_INET6, rdata))
            pos += rdlen
        return (RCODES.get(flags & 0xF, str(flags & 0xF)), answers)


class ServfailResponder:
    """A UDP socket on a free port whose thread answers every DNS query
    with SERVFAIL (the upstream of dnsmasq's --server for broken domains)."""

    def __init__(self, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.closed.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            if len(data) < 12:
                continue
            qid, flags = struct.unpack(">HH", data[:4])
            # QR=1, same opcode and RD, RA=1, RCODE=2; echo the question.
            flags = 0x8000 | (flags & 0x7900) | 0x0080 | 2
            reply = struct.pack(">HH", qid, flags) + data[4:6] + b"\0" * 6
            pos = 12
            try:
                _, pos = _decode_name(data, pos)
            except (IndexError, UnicodeDecodeError):
                continue
            reply += data[12:pos + 4]
            try:
                self.sock.sendto(reply, peer)
            except OSError:
                pass

    def close(self):
        self.closed.set()
        self.thread.join(timeout=2)
        self.sock.close()


def _encode_name(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def _decode_name(data, pos):
    labels = []
    end = None
    for _ in range(128):
        n = data[pos]
        if n == 0:
            pos += 1
            break
        if n & 0xC0 == 0xC0:
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | data[pos + 1]
            continue
        labels.append(data[pos + 1:pos + 1 + n].decode())
        pos += 1 + n
    return ".".join(labels), (end if end is not None else pos)
