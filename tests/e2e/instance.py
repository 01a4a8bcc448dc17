#!/usr/bin/python3
"""A posthorn instance in one directory D: the single place that knows the
instance layout (D/etc, D/queue, D/libexec, D/mail, D/log) and writes its
main.cf, master.cf and aliases.  Used by scripts/dev-instance (through the
command line below), by the end-to-end tests (tests/e2e/conftest.py) and by
the benchmark (tests/bench/bench.py), which also use the runtime helpers:
start/stop, SMTP clients, Maildir and queue inspection, daemon pids.

Command line:
  instance.py create DIR [--smtp-port N] [--submission-port N]
                         [-o name=value]... [--master-line LINE]... [--no-qmgr]
"""
import argparse
import os
import pwd
import re
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

SRCDIR = Path(__file__).resolve().parents[2]
# The daemons every instance needs, and those it runs once they are built
# (an instance gets their master.cf lines only then, so the suite stays
# usable while they are written).
REQUIRED_DAEMONS = ("master", "smtpd", "cleanup", "qmgr", "local")
OPTIONAL_DAEMONS = ("smtp", "bounce", "pickup", "showq", "flush")
DAEMONS = REQUIRED_DAEMONS + OPTIONAL_DAEMONS
POSTHORN = SRCDIR / "posthorn" / "posthorn"

# master.cf lines of the optional daemons, by program.  The smtp program
# serves smtp and relay (SMTP) and lmtp (LMTP: it speaks LMTP when its
# service name is "lmtp").
OPTIONAL_SERVICES = {
    "smtp": [
        "smtp         unix  - - y - - smtp",
        "relay        unix  - - y - - smtp",
        "lmtp         unix  - - y - - smtp",
    ],
    "bounce": [
        "bounce       unix  - - y - 0 bounce",
    ],
    "pickup": [
        "pickup       fifo  n - y 60 1 pickup",
    ],
    "showq": [
        "showq        unix  n - y - - showq",
    ],
    "flush": [
        "flush        unix  n - y - 0 flush",
    ],
}

# The user commands, installed in the instance's command_directory D/bin
# (the tests run them from there, as a user would from /usr/sbin).  The
# set-group-id ones are copies, owned by group setgid_group with mode
# 2755 when the tests run as root; the others are symlinks into the build
# tree.  mailq and newaliases are names of sendmail.
COMMANDS = ("sendmail", "postdrop", "postqueue", "postsuper", "postcat",
            "postconf", "postmap", "postalias", "posthorn")
SETGID_COMMANDS = ("postdrop", "postqueue")
COMMAND_ALIASES = {"mailq": "sendmail", "newaliases": "sendmail"}
SETGID_GROUP = "posthorndrop"


def built(program):
    """True when the build tree has this daemon."""
    return (SRCDIR / program / program).exists()


def identities():
    """(mail_owner, default_privs) for an instance started by this user."""
    if os.geteuid() == 0:
        return "posthorn", "nobody"
    name = pwd.getpwuid(os.geteuid()).pw_name
    return name, name


def free_port(host="127.0.0.1"):
    """A TCP port that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def main_cf_params(d, overrides=None):
    """The instance's main.cf as an ordered dict; overrides replace or add."""
    d = Path(d).resolve()
    mail_owner, default_privs = identities()
    params = {
        "queue_directory": f"{d}/queue",
        "daemon_directory": f"{d}/libexec",
        "command_directory": f"{d}/bin",
        "maillog_file": f"{d}/log/maillog",
        "mail_owner": mail_owner,
        "default_privs": default_privs,
        "myhostname": "localhost",
        "mydestination": "localhost",
        "mynetworks": "127.0.0.0/8",
        "alias_maps": f"texthash:{d}/etc/aliases",
        "mail_spool_directory": f"{d}/mail/",
        "luser_relay": f"{d}/mail/$user/",
    }
    for name, value in (overrides or {}).items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = str(value)
    return params


def master_cf_text(smtp_port=2525, submission_port=5870, extra_lines=(),
                   qmgr=True, local=True, optional=True):
    lines = [
        "# service     type  private unpriv chroot wakeup maxproc command",
        f"127.0.0.1:{smtp_port} inet n - y - - smtpd",
        f"127.0.0.1:{submission_port} inet n - y - - smtpd",
        "cleanup      unix  - - y - 0 cleanup",
    ]
    if qmgr:
        lines.append("qmgr         fifo  n - y 300 1 qmgr")
    if local:
        lines.append("local        unix  - n n - - local")
    if optional:
        for program, service_lines in OPTIONAL_SERVICES.items():
            if built(program):
                lines.extend(service_lines)
    lines.extend(extra_lines)
    return "\n".join(lines) + "\n"


DEFAULT_ALIASES = """\
# Aliases of this posthorn instance (texthash: read directly, no postalias).
postmaster: root
"""


def create(d, smtp_port=2525, submission_port=5870, main_overrides=None,
           master_extra=(), qmgr=True, local=True, aliases=None,
           keep_aliases=False, optional=True):
    """Create or refresh the instance directory D.  Existing queue and mail
    are kept; config files are rewritten (aliases only if not keep_aliases
    or missing)."""
    d = Path(d).resolve()
    mail_owner, default_privs = identities()
    for sub in ("", "etc", "queue", "libexec", "bin", "mail", "log"):
        p = d / sub
        p.mkdir(parents=True, exist_ok=True)
        os.chmod(p, 0o755)
    for name in DAEMONS:
        link = d / "libexec" / name
        target = SRCDIR / name / name
        if link.is_symlink() or link.exists():
            link.unlink()
        if name in REQUIRED_DAEMONS or built(name):
            link.symlink_to(target)
    install_commands(d / "bin")
    params = main_cf_params(d, main_overrides)
    with open(d / "etc" / "main.cf", "w") as f:
        f.write("# Generated by tests/e2e/instance.py for this instance.\n")
        for name, value in params.items():
            f.write(f"{name} = {value}\n")
    (d / "etc" / "master.cf").write_text(
        master_cf_text(smtp_port, submission_port, master_extra, qmgr, local,
                       optional))
    alias_file = d / "etc" / "aliases"
    if aliases is not None:
        alias_file.write_text(aliases)
    elif not (keep_aliases and alias_file.exists()):
        alias_file.write_text(DEFAULT_ALIASES)
    for f in ("main.cf", "master.cf", "aliases"):
        os.chmod(d / "etc" / f, 0o644)
    log = d / "log" / "maillog"
    if not log.exists():
        log.touch()
    os.chmod(log, 0o644)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(default_privs)
        os.chown(d / "mail", pw.pw_uid, pw.pw_gid)
        try:
            owner = pwd.getpwnam(mail_owner)
            os.chown(log, owner.pw_uid, owner.pw_gid)
        except KeyError:
            pass
    return d


def install_commands(bindir):
    """Fill BINDIR with the built commands (see COMMANDS)."""
    import grp
    import shutil
    for name in COMMANDS + tuple(COMMAND_ALIASES):
        path = bindir / name
        if path.is_symlink() or path.exists():
            path.unlink()
        program = COMMAND_ALIASES.get(name, name)
        target = SRCDIR / program / program
        if not target.exists():
            continue
        if name in COMMAND_ALIASES:
            path.symlink_to(program)
        elif name in SETGID_COMMANDS:
            shutil.copy2(target, path)
            if os.geteuid() == 0:
                os.chown(path, 0, grp.getgrnam(SETGID_GROUP).gr_gid)
                os.chmod(path, 0o2755)
        else:
            path.symlink_to(target)


class Instance:
    """A created instance plus the runtime helpers the tests use."""

    def __init__(self, d, smtp_port=None, submission_port=None,
                 main_overrides=None, master_extra=(), qmgr=True, local=True,
                 aliases=None, optional=True):
        self.dir = Path(d).resolve()
        self.smtp_port = smtp_port or free_port()
        self.submission_port = submission_port or free_port()
        self.main_overrides = dict(main_overrides or {})
        self.master_extra = list(master_extra)
        self.qmgr = qmgr
        self.local = local
        self.aliases = aliases
        self.optional = optional
        self.write()

    # configuration -------------------------------------------------------
    def write(self):
        create(self.dir, self.smtp_port, self.submission_port,
               self.main_overrides, self.master_extra, self.qmgr, self.local,
               self.aliases, optional=self.optional)

    @property
    def etc(self):
        return self.dir / "etc"

    @property
    def queue(self):
        return self.dir / "queue"

    @property
    def mail(self):
        return self.dir / "mail"

    @property
    def bin(self):
        return self.dir / "bin"

    def command(self, name, *args, input=None, user=None, env=None,
                timeout=60):
        """Run command NAME of this instance (from D/bin) with this
        instance's configuration (POSTHORN_CONFIG_DIR, as a user would set
        it).  user: run as that account (tests run as root only).  Returns
        the CompletedProcess (text mode when input is str or None)."""
        run_env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
                   "POSTHORN_CONFIG_DIR": str(self.etc)}
        run_env.update(env or {})
        argv = [str(self.bin / name), *args]
        if user is not None:
            pw = pwd.getpwnam(user)
            argv = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                    "--init-groups", "--reset-env", "env",
                    *[f"{k}={v}" for k, v in run_env.items()], *argv]
        binary = isinstance(input, bytes)
        return subprocess.run(argv, input=input, capture_output=True,
                              text=not binary, env=run_env, timeout=timeout,
                              stdin=subprocess.DEVNULL if input is None else None)

    @property
    def maillog(self):
        return self.dir / "log" / "maillog"

    # control ---------------------------------------------------------------
    def posthorn(self, *args, timeout=60, check=False):
        return subprocess.run([str(POSTHORN), "-c", str(self.etc), *args],
                              stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout, check=check)

    def wait_listening(self, port=None, timeout=15):
        port = port or self.smtp_port
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def start(self):
        r = self.posthorn("start")
        if r.returncode != 0:
            raise RuntimeError(f"posthorn start failed ({r.returncode}):\n"
                               f"{r.stdout}{r.stderr}\n--- maillog:\n"
                               f"{self.log_text()[-4000:]}")
        if not self.wait_listening():
            raise RuntimeError("posthorn start returned but port "
                               f"{self.smtp_port} does not accept connections")
        return r

    def stop(self, timeout=20):
        """posthorn stop, wait for every daemon to exit, SIGKILL leftovers.
        Returns the CompletedProcess of posthorn stop (or None on timeout)."""
        try:
            r = self.posthorn("stop", timeout=timeout)
        except subprocess.TimeoutExpired:
            r = None
        self.wait_gone(timeout=10)
        self.kill_all()
        return r

    def kill_all(self):
        # Rounds: a child caught between fork and exec shows up only once
        # it runs its daemon.
        for _ in range(3):
            pids = self.pids_of()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if self.wait_gone(timeout=5):
                time.sleep(0.05)

    def wait_gone(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.pids_of():
                return True
            time.sleep(0.1)
        return False

    def restart(self):
        self.stop()
        return self.start()

    # processes ----------------------------------------------------------------
    def _program_of(self, pid):
        """Daemon name of /proc/PID if it belongs to this instance, else None."""
        base = f"/proc/{pid}"
        try:
            exe = os.readlink(f"{base}/exe")
        except OSError:
            return None
        exe = exe.removesuffix(" (deleted)")
        prog = os.path.basename(exe)
        if prog not in DAEMONS:
            return None
        mine = False
        try:
            with open(f"{base}/cmdline", "rb") as f:
                cmdline = f.read()
            if str(self.dir).encode() in cmdline:
                mine = True
        except OSError:
            pass
        for link in ("cwd", "root"):
            if mine:
                break
            try:
                target = os.readlink(f"{base}/{link}")
            except OSError:
                continue
            if target == str(self.dir) or target.startswith(str(self.dir) + "/"):
                mine = True
        return prog if mine else None

    def processes(self):
        """{pid: program} of this instance's daemons (zombies excluded)."""
        out = {}
        parents = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            prog = self._program_of(pid)
            if prog is None:
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                state, ppid = fields[0], int(fields[1])
                if state in ("Z", "X"):
                    continue
            except (OSError, IndexError, ValueError):
                continue
            out[pid] = prog
            parents[pid] = ppid
        # A child the master forked and that has not yet exec'd its daemon
        # still looks like a master: it is not a second master.
        for pid, prog in list(out.items()):
            if prog == "master" and out.get(parents[pid]) == "master":
                del out[pid]
        return out

    def pids_of(self, program=None):
        return sorted(pid for pid, prog in self.processes().items()
                      if program is None or prog == program)

    def kill(self, program, sig=signal.SIGKILL):
        pids = self.pids_of(program)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return pids

    def wait_for_process(self, program, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pids = self.pids_of(program)
            if pids:
                return pids
            time.sleep(0.1)
        return []

    # SMTP ------------------------------------------------------------------------
    def smtp(self, port=None, timeout=15, source_address=None):
        return smtplib.SMTP("127.0.0.1", port or self.smtp_port,
                            local_hostname="client.example",
                            timeout=timeout, source_address=source_address)

    def raw(self, port=None, timeout=10, source=None, banner=True):
        s = RawSession(port or self.smtp_port, timeout=timeout, source=source)
        if banner:
            s.banner = s.reply()
        return s

    # results -----------------------------------------------------------------------
    def maildir(self, user):
        return self.mail / user

    def maildir_messages(self, user, count=1, timeout=15, exact=False):
        """Contents (bytes) of D/mail/USER/new/*, waiting up to timeout for
        at least count files (then a short settle when exact is wanted)."""
        new = self.mail / user / "new"
        deadline = time.time() + timeout
        files = []
        while True:
            try:
                files = sorted(new.iterdir(), key=lambda p: (p.stat().st_mtime, p.name))
            except FileNotFoundError:
                files = []
            if len(files) >= count or time.time() >= deadline:
                break
            time.sleep(0.1)
        out = []
        for p in files:
            try:
                out.append(p.read_bytes())
            except FileNotFoundError:
                pass
        return out

    def log_text(self):
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, needle, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if needle in self.log_text():
                return True
            time.sleep(0.1)
        return False

    def log_matches(self, pattern, flags=0):
        """Every regex match (re.Match) in the maillog, line by line."""
        rx = re.compile(pattern, flags)
        out = []
        for line in self.log_text().splitlines():
            m = rx.search(line)
            if m:
                out.append(m)
        return out

    def wait_log_re(self, pattern, count=1, timeout=10):
        """Wait until pattern matches at least count maillog lines; the
        matches (possibly fewer on timeout)."""
        deadline = time.time() + timeout
        while True:
            found = self.log_matches(pattern)
            if len(found) >= count or time.time() >= deadline:
                return found
            time.sleep(0.1)

    def flush(self):
        """posthorn flush: retry deferred mail now."""
        return self.posthorn("flush")

    def queue_files(self, queue=None, temp=False):
        """Queue file paths (relative to D/queue) in one queue or in all of
        the message queues, hash subdirectories included; cleanup's
        in-progress files (".ID") only when temp is true."""
        queues = [queue] if queue else ["incoming", "active", "deferred",
                                         "hold", "corrupt", "maildrop"]
        out = []
        for q in queues:
            root = self.queue / q
            for dirpath, _dirs, files in os.walk(root):
                for name in files:
                    if name.startswith(".") and not temp:
                        continue
                    out.append(os.path.relpath(os.path.join(dirpath, name), self.queue))
        return sorted(out)

    def wait_queue_empty(self, queues=("incoming", "active"), timeout=30, temp=False):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not any(self.queue_files(q, temp) for q in queues):
                return True
            time.sleep(0.2)
        return False


class RawSession:
    """An SMTP conversation over a plain socket: send exact bytes, read
    reply lines with a timeout."""

    def __init__(self, port, host="127.0.0.1", timeout=10, source=None):
        src = (source, 0) if source else None
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=src)
        self.timeout = timeout
        self.buf = b""
        self.banner = None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def readline(self, timeout=None):
        """One line including CRLF; b"" at EOF; raises socket.timeout."""
        self.sock.settimeout(timeout or self.timeout)
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                line, self.buf = self.buf, b""
                return line
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line + b"\n"

    def reply(self, timeout=None):
        """(code, [text lines]) of one possibly multi-line reply;
        (None, []) when the server closed the connection first."""
        lines = []
        while True:
            line = self.readline(timeout)
            if not line:
                return (None, lines)
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                try:
                    return (int(text[:3]), lines)
                except ValueError:
                    return (None, lines)

    def cmd(self, line, timeout=None):
        if isinstance(line, str):
            line = line.encode()
        self.send(line + b"\r\n")
        return self.reply(timeout)

    def is_closed(self, timeout=5):
        """True when the server closes the connection within timeout
        (unread data is discarded)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
        except socket.timeout:
            return False
        except OSError:
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create", help="create or refresh an instance directory")
    c.add_argument("dir")
    c.add_argument("--smtp-port", type=int, default=2525)
    c.add_argument("--submission-port", type=int, default=5870)
    c.add_argument("-o", action="append", default=[], metavar="NAME=VALUE",
                   help="main.cf override")
    c.add_argument("--master-line", action="append", default=[],
                   help="extra master.cf line")
    c.add_argument("--no-qmgr", action="store_true",
                   help="no qmgr service (mail stays in incoming/)")
    args = ap.parse_args(argv)
    overrides = {}
    for o in args.o:
        name, sep, value = o.partition("=")
        if not sep:
            ap.error(f"-o {o}: expected name=value")
        overrides[name.strip()] = value.strip()
    d = create(args.dir, args.smtp_port, args.submission_port, overrides,
               args.master_line, qmgr=not args.no_qmgr, keep_aliases=True)
    print(d)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
