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
from instance import Instance, SRCDIR, DAEMONS, POSTHORN  # noqa: E402,F401

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
    missing = [str(SRCDIR / n / n) for n in DAEMONS if not (SRCDIR / n / n).exists()]
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
        name = f"{request.node.name[:60]}-{counter[0]}".replace("/", "_")
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        d = test_root / name
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
