"""pytest fixtures for the posthorn end-to-end tests.

Every test gets throwaway instances (tests/e2e/instance.py) under one
/tmp/posthorn-tests-XXXX directory per session, with free ports, started
with `posthorn -c D/etc start` and stopped (then SIGKILLed if needed) at
teardown.  Run as root, the instances use the real privilege drop and
chroot (mail_owner posthorn, default_privs nobody); as a normal user, every
daemon runs as that user.

    def test_x(make_instance):
        inst = make_instance(main={"smtpd_timeout": "3s"})
        with inst.smtp() as s: ...

Outbound delivery (issue 3): the session has one private DNS server
(fixture dns, tests/e2e/dnsserver.py: dnsmasq on a loopback port, records
added by the tests, never forwarding off the machine) and every instance's
dns_servers points at it; the sinks fixture makes SMTP/LMTP sink servers
(tests/e2e/sink.py) on loopback addresses.  Instances get the master.cf
lines of smtp/relay/lmtp and bounce once those programs are built;
needs("smtp", "bounce") skips a test, naming what is missing, until then.

Set POSTHORN_KEEP_TESTDIR=1 to keep the instance directories, and
POSTHORN_TEST_TMPDIR (or TMPDIR, when /tmp is not writable) to put them
elsewhere; every directory on that path must be world-traversable.
"""
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from instance import (Instance, SRCDIR, DAEMONS, REQUIRED_DAEMONS,  # noqa: E402,F401
                      POSTHORN, built)
from dnsserver import DnsServer  # noqa: E402
from sink import Sink  # noqa: E402

DEFAULT_TEST_TIMEOUT = 180


def pytest_configure(config):
    config.addinivalue_line("markers", "timeout(seconds): per-test time limit")
    config.addinivalue_line("markers", "root: needs root (skipped otherwise)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture(scope="session")
def test_root():
    missing = [str(SRCDIR / n / n) for n in REQUIRED_DAEMONS
               if not (SRCDIR / n / n).exists()]
    if not POSTHORN.exists():
        missing.append(str(POSTHORN))
    if missing:
        pytest.fail("not built (run scripts/build): " + ", ".join(missing),
                    pytrace=False)
    base = os.environ.get("POSTHORN_TEST_TMPDIR", "/tmp")
    if not os.access(base, os.W_OK | os.X_OK):
        base = tempfile.gettempdir()        # $TMPDIR when /tmp is not writable
    root = Path(tempfile.mkdtemp(prefix="posthorn-tests-", dir=base))
    # The unprivileged mail_owner must be able to traverse every directory
    # on the way to an instance.
    os.chmod(root, 0o755)
    yield root
    if not os.environ.get("POSTHORN_KEEP_TESTDIR"):
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dns(test_root):
    """The session's private DNS server (tests/e2e/dnsserver.py).  Every
    instance's dns_servers points at it.  Tests add records with unique
    names, then call dns.apply() (which restarts dnsmasq when needed)."""
    server = DnsServer(test_root / "dns")
    if not os.path.exists(server.argv()[0]):
        pytest.skip("dnsmasq not installed (scripts/deps installs dnsmasq-base)")
    server.start()
    yield server
    server.close()


@pytest.fixture
def sinks():
    """Factory: sinks(host="127.0.0.1", port=None, lmtp=False, ...) ->
    a started Sink (tests/e2e/sink.py); all are closed at teardown."""
    made = []

    def factory(host="127.0.0.1", port=None, start=True, **kw):
        s = Sink(host, port, **kw)
        made.append(s)
        if start:
            s.start()
        return s

    yield factory
    for s in made:
        s.close()


def needs(*programs):
    """Skip the calling test unless these daemons are built."""
    missing = [p for p in programs if not built(p)]
    if missing:
        pytest.skip("not built yet: " + ", ".join(f"{p}/{p}" for p in missing))


@pytest.fixture(autouse=True)
def _time_limit(request):
    """Fail a test that hangs instead of hanging the whole run."""
    marker = request.node.get_closest_marker("timeout")
    seconds = marker.args[0] if marker else DEFAULT_TEST_TIMEOUT

    def expired(_sig, _frame):
        raise TimeoutError(f"test exceeded its {seconds}s time limit")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def make_instance(request, test_root):
    """Factory: make_instance(main={...}, master_extra=[...], aliases=None,
    start=True) -> started Instance; all are stopped at teardown."""
    made = []
    counter = [0]

    def factory(main=None, master_extra=(), aliases=None, start=True,
                qmgr=True, local=True):
        counter[0] += 1
        main = dict(main or {})
        if "dns_servers" not in main:
            try:
                main["dns_servers"] = request.getfixturevalue("dns").servers
            except pytest.skip.Exception:
                pass            # no dnsmasq: only the tests that need it skip
        name = f"{request.node.name[:40]}-{counter[0]}".replace("/", "_")
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        # Parametrized tests can share the first 40 characters: a fresh
        # directory each time, never another test's queue and mail.
        d = Path(tempfile.mkdtemp(prefix=name + "-", dir=test_root))
        os.chmod(d, 0o755)
        inst = Instance(d, main_overrides=main, master_extra=master_extra,
                        qmgr=qmgr, local=local)
        if aliases is not None:
            (inst.etc / "aliases").write_text(aliases.replace("$D", str(inst.dir)))
        made.append(inst)
        if start:
            inst.start()
        return inst

    yield factory

    failed = getattr(request.node, "rep_call", None)
    failed = failed is not None and failed.failed
    for inst in made:
        inst.stop()
        if failed:
            log = inst.log_text()
            sys.stderr.write(f"\n--- {inst.maillog} (last 60 lines)\n")
            sys.stderr.write("\n".join(log.splitlines()[-60:]) + "\n")


@pytest.fixture
def inst(make_instance):
    """A started instance with the default configuration."""
    return make_instance()


def unique(prefix="t"):
    return f"{prefix}{os.getpid()}x{os.urandom(4).hex()}"


LOGIN_USER = "phtest"


@pytest.fixture(scope="session")
def login_user():
    """A real unprivileged account with a home directory, for tests of
    local submission (sendmail as a user), .forward files and |command
    delivery.  Created on first use (tests run as root; skipped
    otherwise).  Returns its pwd entry; tests put what they need in its
    home and remove it again."""
    import pwd
    import subprocess
    if os.geteuid() != 0:
        pytest.skip("needs root to create and become a login user")
    try:
        return pwd.getpwnam(LOGIN_USER)
    except KeyError:
        pass
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh",
                    "--comment", "posthorn test user", LOGIN_USER], check=True)
    return pwd.getpwnam(LOGIN_USER)
