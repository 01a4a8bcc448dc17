#!/usr/bin/python3
"""posthorn benchmark (not a test: it prints numbers and asserts nothing).

Phases, each on a fresh throwaway instance under /tmp/posthorn-bench-XXXX:
  accept   N messages of S bytes over C parallel SMTP sessions into an
           instance without qmgr (mail stays queued): accepted msgs/s
  deliver  the same load into a full instance, timed until all N messages
           are in the Maildirs: delivered msgs/s
  relay    the same load for a remote domain, relayed (relayhost) to a sink
           on loopback, timed until every message has its status=sent log
           line and the queue is empty: relayed msgs/s end to end.  The
           sink is Postfix's smtp-sink when installed, else the Python sink
           of the e2e tests (tests/e2e/sink.py, slower: it may be the
           bottleneck).
  submit   N messages of S bytes submitted with the MTA's own sendmail
           command (sendmail -> postdrop -> maildrop/ -> pickup -> cleanup),
           C submissions at a time, timed until all are in the Maildirs:
           delivered msgs/s for local submission (not in the default set)
and the peak summed RSS of the instance's processes during each phase.
If Postfix is installed (/usr/sbin/postfix; --install-postfix installs it
when run as root), a throwaway Postfix instance (postfix -c DIR) gets the
same workload and the ratios are printed (its accept phase puts every
message on hold instead of running without qmgr, where Postfix's cleanup
stalls on the missing trigger).  RSS sums shared pages once per process.

The client is a small asyncio SMTP client that pipelines MAIL/RCPT/DATA.

  /usr/bin/python3 tests/bench/bench.py [-n 2000] [-s 4096] [-c 20]
                                        [--phases accept,deliver,relay,submit]
"""
import argparse
import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from instance import Instance, free_port  # noqa: E402

USERS = 10


def make_body(size, i):
    head = (f"From: <bench@client.example>\r\nTo: <bench@localhost>\r\n"
            f"Subject: bench {i}\r\nMessage-ID: <bench{i}@client.example>\r\n"
            f"Date: Mon, 24 Nov 2025 10:00:00 +0000\r\n\r\n").encode()
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n"
    body = bytearray(head)
    while len(body) < size:
        body += line
    return bytes(body[:max(size, len(head))]).rstrip(b"\r\n") + b"\r\n"


async def read_reply(reader):
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed")
        if len(line) < 4 or line[3:4] != b"-":
            return int(line[:3])


async def session(port, jobs, size, results, domain="localhost"):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if await read_reply(reader) != 220:
            raise ConnectionError("no banner")
        writer.write(b"EHLO bench.example\r\n")
        if await read_reply(reader) != 250:
            raise ConnectionError("EHLO")
        while jobs:
            i = jobs.pop()
            user = f"bench{i % USERS}"
            writer.write(b"MAIL FROM:<bench@client.example>\r\n"
                         + f"RCPT TO:<{user}@{domain}>\r\n".encode() + b"DATA\r\n")
            codes = [await read_reply(reader) for _ in range(3)]
            if codes != [250, 250, 354]:
                results["failed"] += 1
                if codes[2] == 354:
                    writer.write(b".\r\n")
                    await read_reply(reader)
                writer.write(b"RSET\r\n")
                await read_reply(reader)
                continue
            writer.write(make_body(size, i) + b".\r\n")
            if await read_reply(reader) == 250:
                results["ok"] += 1
            else:
                results["failed"] += 1
        writer.write(b"QUIT\r\n")
        await writer.drain()
    finally:
        writer.close()


async def load(port, n, size, concurrency, domain="localhost"):
    jobs = list(range(n))
    results = {"ok": 0, "failed": 0}
    t0 = time.time()
    outcomes = await asyncio.gather(
        *(session(port, jobs, size, results, domain) for _ in range(concurrency)),
        return_exceptions=True)
    elapsed = time.time() - t0
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    return results, elapsed, errors


class RssSampler(threading.Thread):
    """Samples the summed VmRSS of a set of processes (a callable returning
    pids) and keeps the peak."""

    def __init__(self, pids_fn, interval=0.1):
        super().__init__(daemon=True)
        self.pids_fn = pids_fn
        self.interval = interval
        self.peak_kb = 0
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            total = 0
            for pid in self.pids_fn():
                try:
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("VmRSS:"):
                                total += int(line.split()[1])
                except OSError:
                    pass
            self.peak_kb = max(self.peak_kb, total)
            self.stop_event.wait(self.interval)

    def stop(self):
        self.stop_event.set()
        self.join()
        return self.peak_kb / 1024.0


def count_maildir(root):
    n = 0
    for user_dir in Path(root).glob("*/new"):
        try:
            n += len(os.listdir(user_dir))
        except OSError:
            pass
    return n


def wait_delivered(root, n, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if count_maildir(root) >= n:
            return True
        time.sleep(0.05)
    return False


class LogCounter:
    """Counts lines containing a needle in a growing log file, reading
    only what was appended since the last call."""

    def __init__(self, path, needle):
        self.path = Path(path)
        self.needle = needle.encode()
        self.pos = 0
        self.partial = b""
        self.count = 0

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.pos)
                data = f.read()
        except OSError:
            return self.count
        self.pos += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        self.count += sum(1 for l in lines if self.needle in l)
        return self.count


def wait_logged(counter, n, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if counter.poll() >= n:
            return True
        time.sleep(0.05)
    return False


class RelaySink:
    """The SMTP server relayed mail goes to: Postfix's smtp-sink when
    installed, else the e2e tests' Python sink."""
    SMTP_SINK = "/usr/sbin/smtp-sink"

    def __init__(self):
        self.port = free_port()
        self.proc = None
        self.sink = None
        if os.path.exists(self.SMTP_SINK):
            self.name = "smtp-sink"
            cmd = [self.SMTP_SINK]
            if os.geteuid() == 0:
                cmd += ["-u", "nobody"]
            cmd += [f"127.0.0.1:{self.port}", "256"]
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.05)
        else:
            from sink import Sink
            self.name = "python sink"
            self.sink = Sink("127.0.0.1", self.port).start()

    def close(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.sink:
            self.sink.close()


def report(name, phase, results, elapsed, errors):
    rate = results["ok"] / elapsed if elapsed > 0 else 0.0
    print(f"{name} {phase}: {results['ok']} msgs in {elapsed:.2f} s = {rate:.0f} msg/s"
          + (f" ({results['failed']} refused, {len(errors)} session errors)"
             if results["failed"] or errors else ""))
    for e in errors[:3]:
        print(f"  session error: {e!r}")
    return rate


# posthorn ---------------------------------------------------------------------
def bench_posthorn_relay(root, args, sink):
    """Relay phase: in over SMTP, out to the sink; timed until every
    message is logged as sent and the queue is empty."""
    out = {}
    inst = Instance(root / "posthorn-relay",
                    main_overrides={"smtpd_error_sleep_time": "0s",
                                    "relayhost": f"[127.0.0.1]:{sink.port}"})
    inst.start()
    sampler = RssSampler(inst.pids_of)
    sampler.start()
    counter = LogCounter(inst.maillog, ", status=sent (")
    try:
        t0 = time.time()
        results, elapsed, errors = asyncio.run(load(inst.smtp_port, args.messages,
                                                    args.size, args.concurrency,
                                                    domain="remote.test"))
        ok = wait_logged(counter, results["ok"], args.timeout)
        inst.wait_queue_empty(queues=("incoming", "active"), timeout=30)
        elapsed = time.time() - t0
        res = {"ok": counter.poll(), "failed": results["failed"]}
        out["relay"] = report("posthorn", "relay", res, elapsed, errors)
        if not ok:
            print(f"posthorn relay: only {res['ok']} of {results['ok']} relayed "
                  f"after {args.timeout} s")
    finally:
        out["relay_rss"] = sampler.stop()
        inst.stop()
    print(f"posthorn RSS (relay): {out['relay_rss']:.1f} MB")
    return out


def bench_posthorn(root, args):
    out = {}
    if "accept" not in args.phases:
        return out
    # Accept phase: no qmgr, so nothing is delivered while we measure.
    inst = Instance(root / "posthorn-accept", qmgr=False,
                    main_overrides={"smtpd_error_sleep_time": "0s"})
    inst.start()
    sampler = RssSampler(inst.pids_of)
    sampler.start()
    try:
        results, elapsed, errors = asyncio.run(load(inst.smtp_port, args.messages,
                                                    args.size, args.concurrency))
        out["accept"] = report("posthorn", "accept", results, elapsed, errors)
    finally:
        out["accept_rss"] = sampler.stop()
        inst.stop()
    print(f"posthorn RSS (accept): {out['accept_rss']:.1f} MB")
    return out


def bench_posthorn_deliver(root, args):
    out = {}
    # Deliver phase: the full instance, until everything is in Maildirs.
    inst = Instance(root / "posthorn-deliver")
    inst.start()
    sampler = RssSampler(inst.pids_of)
    sampler.start()
    try:
        t0 = time.time()
        results, elapsed, errors = asyncio.run(load(inst.smtp_port, args.messages,
                                                    args.size, args.concurrency))
        ok = wait_delivered(inst.mail, results["ok"], args.timeout)
        elapsed = time.time() - t0
        delivered = count_maildir(inst.mail)
        res = {"ok": delivered, "failed": results["failed"]}
        out["deliver"] = report("posthorn", "deliver", res, elapsed, errors)
        if not ok:
            print(f"posthorn deliver: only {delivered} of {results['ok']} delivered "
                  f"after {args.timeout} s")
    finally:
        out["deliver_rss"] = sampler.stop()
        inst.stop()
    print(f"posthorn RSS: {out['deliver_rss']:.1f} MB")
    return out


def submit_load(argv, n, size, concurrency, env=None):
    """n runs of argv + [recipient] with a message on stdin, concurrency at
    a time; returns ({"ok", "failed"}, elapsed, first errors)."""
    results = {"ok": 0, "failed": 0}
    errors = []
    lock = threading.Lock()

    def worker(k):
        for i in range(k, n, concurrency):
            body = make_body(size, i).replace(b"\r\n", b"\n")
            r = subprocess.run(argv + [f"bench{i % USERS}@localhost"], input=body,
                               capture_output=True, env=env, timeout=120)
            with lock:
                if r.returncode == 0:
                    results["ok"] += 1
                else:
                    results["failed"] += 1
                    if len(errors) < 3:
                        errors.append(r.stderr.decode(errors="replace").strip())

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, time.time() - t0, errors


def timed_submit(name, argv, env, mail_root, pids_of, args):
    """The submit phase against one MTA: until everything is delivered."""
    sampler = RssSampler(pids_of)
    sampler.start()
    try:
        t0 = time.time()
        results, _, errors = submit_load(argv, args.messages, args.size,
                                         args.concurrency, env)
        ok = wait_delivered(mail_root, results["ok"], args.timeout)
        elapsed = time.time() - t0
        res = {"ok": count_maildir(mail_root), "failed": results["failed"]}
        rate = report(name, "submit", res, elapsed, errors)
        if not ok:
            print(f"{name} submit: only {res['ok']} of {results['ok']} delivered "
                  f"after {args.timeout} s")
    finally:
        rss = sampler.stop()
    print(f"{name} RSS (submit): {rss:.1f} MB")
    return rate, rss


def bench_posthorn_submit(root, args):
    inst = Instance(root / "posthorn-submit")
    inst.start()
    env = {"PATH": "/usr/bin:/bin", "POSTHORN_CONFIG_DIR": str(inst.etc)}
    try:
        rate, rss = timed_submit("posthorn", [str(inst.bin / "sendmail"), "-i"], env,
                                 inst.mail, inst.pids_of, args)
    finally:
        inst.stop()
    return {"submit": rate, "submit_rss": rss}


# Postfix ----------------------------------------------------------------------
POSTFIX = "/usr/sbin/postfix"


def postfix_pids(root):
    """Processes whose cwd or root lies under root (Postfix runs its daemons
    in queue_directory) or whose command line names it (master)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if cwd.startswith(str(root)) or str(root).encode() in cmd:
            pids.append(int(entry))
    return pids


def setup_postfix(d, port, hold, relay_port=None):
    """A throwaway Postfix instance in d: etc/, queue/, data/, mail/."""
    d = Path(d)
    for sub in ("etc", "queue", "data", "mail"):
        (d / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(d / sub, 0o755)
    nobody = pwd.getpwnam("nobody")
    os.chown(d / "mail", nobody.pw_uid, nobody.pw_gid)
    pf = pwd.getpwnam("postfix")
    os.chown(d / "data", pf.pw_uid, pf.pw_gid)
    (d / "log").mkdir(exist_ok=True)
    main = {
        "compatibility_level": "3.6",
        "queue_directory": d / "queue",
        "data_directory": d / "data",
        "daemon_directory": "/usr/lib/postfix/sbin",
        "command_directory": "/usr/sbin",
        "meta_directory": "/etc/postfix",
        "shlib_directory": "/usr/lib/postfix",
        "mail_owner": "postfix",
        "setgid_group": "postdrop",
        "myhostname": "localhost",
        "mydestination": "",
        "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4",
        "mynetworks": "127.0.0.0/8",
        "maillog_file": d / "log" / "maillog",
        "maillog_file_prefixes": d / "log",
        "alias_maps": "",
        "alias_database": "",
        "virtual_mailbox_domains": "localhost",
        "virtual_mailbox_base": d / "mail",
        "virtual_mailbox_maps": "texthash:" + str(d / "etc" / "vmailbox"),
        "virtual_uid_maps": f"static:{nobody.pw_uid}",
        "virtual_gid_maps": f"static:{nobody.pw_gid}",
        "virtual_minimum_uid": "1",
        "smtpd_error_sleep_time": "0s",
        "smtputf8_enable": "no",
        # No reverse DNS of the client and no DNS at all: the benchmark
        # machine may have no network.
        "smtpd_peername_lookup": "no",
        "smtp_dns_support_level": "disabled",
        "mydomain": "localhost",
        "myorigin": "localhost",
        "append_dot_mydomain": "no",
        "biff": "no",
    }
    if relay_port:
        main["relayhost"] = f"[127.0.0.1]:{relay_port}"
    (d / "etc" / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()))
    # One Maildir per recipient, like posthorn's luser_relay layout.
    (d / "etc" / "vmailbox").write_text(
        "".join(f"bench{i}@localhost bench{i}/\n" for i in range(USERS)))
    if hold:
        # Accept phase: every message goes to the hold queue, which qmgr
        # leaves alone (without a qmgr, cleanup stalls on its trigger).
        main_extra = "smtpd_client_restrictions = check_client_access static:HOLD\n"
        with open(d / "etc" / "main.cf", "a") as f:
            f.write(main_extra)
    lines = [
        f"127.0.0.1:{port} inet n - y - - smtpd",
        "cleanup   unix n - y - 0 cleanup",
        "rewrite   unix - - y - - trivial-rewrite",
        "bounce    unix - - y - 0 bounce",
        "defer     unix - - y - 0 bounce",
        "trace     unix - - y - 0 bounce",
        "verify    unix - - y - 1 verify",
        "flush     unix n - y 1000? 0 flush",
        "proxymap  unix - - n - - proxymap",
        "showq     unix n - y - - showq",
        "error     unix - - y - - error",
        "retry     unix - - y - - error",
        "discard   unix - - y - - discard",
        "local     unix - n n - - local",
        "virtual   unix - n n - - virtual",
        "anvil     unix - - y - 1 anvil",
        "scache    unix - - y - 1 scache",
        "postlog   unix-dgram n - n - 1 postlogd",
        "pickup    unix n - y 60 1 pickup",
    ]
    lines.append("qmgr      unix n - n 300 1 qmgr")
    if relay_port:
        # Not chrooted: a chrooted Postfix smtp needs copies of /etc files.
        lines.append("smtp      unix - - n - - smtp")
        lines.append("relay     unix - - n - - smtp")
    (d / "etc" / "master.cf").write_text("\n".join(lines) + "\n")
    return d


def run_postfix(d, *cmd):
    return subprocess.run([POSTFIX, "-c", str(d / "etc"), *cmd], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120)


def bench_postfix_submit(root, args):
    d = setup_postfix(root / "postfix-submit", free_port(), False)
    r = run_postfix(d, "start")
    if r.returncode != 0:
        print(f"postfix submit: postfix start failed:\n{r.stdout}{r.stderr}")
        return {}
    try:
        rate, rss = timed_submit("postfix", ["/usr/sbin/sendmail", "-C", str(d / "etc"), "-i"],
                                 None, d / "mail", lambda: postfix_pids(d), args)
    finally:
        run_postfix(d, "stop")
        time.sleep(1)
        for pid in postfix_pids(d):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
    return {"submit": rate, "submit_rss": rss}


def bench_postfix(root, args, sink=None):
    out = {}
    if "submit" in args.phases:
        out.update(bench_postfix_submit(root, args))
    phases = [(p, p == "accept") for p in ("accept", "deliver", "relay")
              if p in args.phases and (p != "relay" or sink is not None)]
    for phase, hold in phases:
        port = free_port()
        d = setup_postfix(root / f"postfix-{phase}", port, hold,
                          relay_port=sink.port if phase == "relay" else None)
        counter = LogCounter(d / "log" / "maillog", ", status=sent (")
        r = run_postfix(d, "start")
        if r.returncode != 0:
            log = d / "log" / "maillog"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            print(f"postfix {phase}: postfix start failed:\n{r.stdout}{r.stderr}{tail}")
            return None
        try:
            deadline = time.time() + 15
            while time.time() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            sampler = RssSampler(lambda: postfix_pids(d))
            sampler.start()
            t0 = time.time()
            results, elapsed, errors = asyncio.run(
                load(port, args.messages, args.size, args.concurrency,
                     domain="remote.test" if phase == "relay" else "localhost"))
            if phase == "relay":
                ok = wait_logged(counter, results["ok"], args.timeout)
                elapsed = time.time() - t0
                res = {"ok": counter.poll(), "failed": results["failed"]}
                if not ok:
                    print(f"postfix relay: only {res['ok']} of {results['ok']} "
                          f"relayed after {args.timeout} s")
            elif phase == "deliver":
                ok = wait_delivered(d / "mail", results["ok"], args.timeout)
                elapsed = time.time() - t0
                res = {"ok": count_maildir(d / "mail"), "failed": results["failed"]}
                if not ok:
                    print(f"postfix deliver: only {res['ok']} of {results['ok']} "
                          f"delivered after {args.timeout} s")
            else:
                res = results
            out[phase] = report("postfix", phase, res, elapsed, errors)
            out[phase + "_rss"] = sampler.stop()
            print(f"postfix RSS{'' if phase == 'deliver' else f' ({phase})'}: "
                  f"{out[phase + '_rss']:.1f} MB")
        finally:
            run_postfix(d, "stop")
            time.sleep(1)
            for pid in postfix_pids(d):
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
    return out


def main():
    ap = argparse.ArgumentParser(description="posthorn throughput and memory benchmark")
    ap.add_argument("-n", "--messages", type=int, default=2000)
    ap.add_argument("-s", "--size", type=int, default=4096, help="message size in bytes")
    ap.add_argument("-c", "--concurrency", type=int, default=20, help="parallel sessions")
    ap.add_argument("--timeout", type=int, default=300,
                    help="seconds to wait for delivery of everything")
    ap.add_argument("--install-postfix", action="store_true",
                    help="apt-get install postfix if missing (root only)")
    ap.add_argument("--no-postfix", action="store_true", help="skip the Postfix comparison")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--phases", default="accept,deliver,relay",
                    help="comma-separated phases to run (accept, deliver, relay, submit)")
    args = ap.parse_args()
    args.phases = {p.strip() for p in args.phases.split(",") if p.strip()}

    if args.install_postfix and not os.path.exists(POSTFIX):
        if os.geteuid() != 0:
            sys.exit("--install-postfix needs root")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-q", "postfix"],
                       check=True, env=env, stdin=subprocess.DEVNULL)

    root = Path(tempfile.mkdtemp(prefix="posthorn-bench-", dir="/tmp"))
    os.chmod(root, 0o755)
    print(f"workload: {args.messages} messages of {args.size} bytes over "
          f"{args.concurrency} sessions; directory {root}")
    sink = None
    try:
        ph = bench_posthorn(root, args)
        if "deliver" in args.phases:
            ph.update(bench_posthorn_deliver(root, args))
        if "submit" in args.phases:
            ph.update(bench_posthorn_submit(root, args))
        if "relay" in args.phases:
            sink = RelaySink()
            print(f"relay sink: {sink.name} on 127.0.0.1:{sink.port}")
            ph.update(bench_posthorn_relay(root, args, sink))
        pf = None
        if not args.no_postfix and os.path.exists(POSTFIX):
            pf = bench_postfix(root, args, sink)
        elif not args.no_postfix:
            print("postfix: not installed (/usr/sbin/postfix); use --install-postfix "
                  "as root for a comparison")
        if pf:
            for key in ("accept", "deliver", "relay", "submit"):
                if pf.get(key) and ph.get(key):
                    print(f"ratio {key}: posthorn/postfix = {ph[key] / pf[key]:.2f}")
            for key in ("deliver", "relay", "submit"):
                if pf.get(key + "_rss") and ph.get(key + "_rss"):
                    print(f"ratio RSS ({key}): posthorn/postfix = "
                          f"{ph[key + '_rss'] / pf[key + '_rss']:.2f}")
    finally:
        if sink is not None:
            sink.close()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
