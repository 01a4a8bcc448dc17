"""postconf(1): showing parameters (-d, -n, names, -h, -x), editing
main.cf in place (-e, -X, -#) without disturbing anything else and
atomically, and listing master.cf services (-M) and table types (-m)."""
import os
import subprocess

import pytest

from instance import SRCDIR

POSTCONF = SRCDIR / "postconf" / "postconf"

EXTRA = """\

# a comment before a continued value
smtpd_banner = $myhostname
    ESMTP posthorn
# a comment inside the continued value

\tand more
relayhost = [relay.example]:2525
  # an indented comment
my_own_name = first
"""


@pytest.fixture
def cf(make_instance):
    if not POSTCONF.exists():
        pytest.skip("postconf/postconf is not built")
    return make_instance(start=False).etc


def postconf(etc, *args, check=True):
    r = subprocess.run([str(POSTCONF), "-c", str(etc), *args],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=30)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def main_cf_settings(etc):
    """name -> value of the simple one-line settings instance.py wrote."""
    settings = {}
    for line in (etc / "main.cf").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            settings[name.strip()] = value.strip()
    return settings


def test_defaults(cf):
    out = postconf(cf, "-d").stdout
    assert "mail_owner = posthorn\n" in out
    assert "myorigin = $myhostname\n" in out
    # -d ignores main.cf
    assert "myhostname = localhost\n" not in out
    lines = out.splitlines()
    names = [line.split(" =")[0] for line in lines]
    assert names == sorted(names) and len(names) > 50


def test_n_shows_exactly_main_cf(cf):
    out = postconf(cf, "-n").stdout
    expected = sorted(f"{n} = {v}" if v else f"{n} ="
                      for n, v in main_cf_settings(cf).items())
    assert out.splitlines() == expected


def test_all_shows_main_cf_values_raw(cf):
    out = postconf(cf).stdout
    assert "myhostname = localhost\n" in out
    assert f"luser_relay = {cf.parent}/mail/$user/\n" in out
    assert "myorigin = $myhostname\n" in out


def test_names_h_x_and_unknown(cf):
    r = postconf(cf, "myorigin", "no_such_parameter", "mydestination")
    assert r.stdout == "myorigin = $myhostname\nmydestination = localhost\n"
    assert "postconf: warning: no_such_parameter: unknown parameter" in r.stderr
    assert postconf(cf, "-h", "myorigin").stdout == "$myhostname\n"
    assert postconf(cf, "-x", "myorigin").stdout == "myorigin = localhost\n"
    assert postconf(cf, "-hx", "myorigin").stdout == "localhost\n"


def test_edit_round_trip_keeps_everything_else(cf):
    main_cf = cf / "main.cf"
    with open(main_cf, "a") as f:
        f.write(EXTRA)
    before = main_cf.read_text()
    r = postconf(cf, "-e", "smtpd_banner = $myhostname says hi",
                 "mydestination=localhost, example.com", "my_new_one = 1")
    assert "my_new_one: unknown parameter" in r.stderr
    after = main_cf.read_text()
    expected = before.replace(
        "smtpd_banner = $myhostname\n    ESMTP posthorn\n"
        "# a comment inside the continued value\n\n\tand more\n",
        "smtpd_banner = $myhostname says hi\n"
        "# a comment inside the continued value\n\n")
    expected = expected.replace("mydestination = localhost\n",
                                "mydestination = localhost, example.com\n")
    expected += "my_new_one = 1\n"
    assert after == expected
    # what is read back is what was written
    assert postconf(cf, "-h", "smtpd_banner").stdout == "$myhostname says hi\n"
    assert postconf(cf, "-h", "relayhost").stdout == "[relay.example]:2525\n"
    # editing again with the same value changes nothing
    postconf(cf, "-e", "mydestination = localhost, example.com")
    assert main_cf.read_text() == after


def test_edit_is_atomic_and_keeps_mode(cf):
    main_cf = cf / "main.cf"
    os.chmod(main_cf, 0o640)
    inode = main_cf.stat().st_ino
    postconf(cf, "-e", "myhostname = mx.example")
    st = main_cf.stat()
    assert st.st_ino != inode
    assert st.st_mode & 0o7777 == 0o640
    assert postconf(cf, "-h", "myhostname").stdout == "mx.example\n"
    assert sorted(os.listdir(cf)) == ["aliases", "main.cf", "master.cf"]


def test_remove_and_comment_out(cf):
    main_cf = cf / "main.cf"
    with open(main_cf, "a") as f:
        f.write(EXTRA)
    postconf(cf, "-X", "smtpd_banner", "myhostname")
    text = main_cf.read_text()
    assert "smtpd_banner" not in text and "ESMTP posthorn" not in text
    assert "and more" not in text and "myhostname =" not in text
    assert "# a comment inside the continued value\n" in text
    postconf(cf, "-#", "relayhost")
    text = main_cf.read_text()
    assert "#relayhost = [relay.example]:2525\n" in text
    assert postconf(cf, "-n", "relayhost").stdout == ""
    assert postconf(cf, "-h", "relayhost").stdout == "\n"
    assert postconf(cf, "-h", "my_own_name").stdout == "first\n"


def test_edit_errors(cf):
    before = (cf / "main.cf").read_text()
    for bad in ("no_equals_sign", "= value", "two words = x"):
        r = postconf(cf, "-e", bad, check=False)
        assert r.returncode == 1, bad
        assert "postconf:" in r.stderr
    assert (cf / "main.cf").read_text() == before
    r = postconf(cf.parent / "nonexistent", "-n", check=False)
    assert r.returncode == 1 and "main.cf" in r.stderr
    r = postconf(cf.parent / "nonexistent", "-e", "a=b", check=False)
    assert r.returncode == 1 and "main.cf" in r.stderr


def test_master_services(cf):
    out = postconf(cf, "-M").stdout
    rows = [line.split() for line in out.splitlines()]
    by_name = {(r[0], r[1]): r for r in rows}
    assert by_name[("cleanup", "unix")] == ["cleanup", "unix", "-", "-", "y", "-", "0",
                                            "cleanup"]
    assert by_name[("qmgr", "fifo")] == ["qmgr", "fifo", "n", "-", "y", "300", "1", "qmgr"]
    assert by_name[("local", "unix")][:8] == ["local", "unix", "-", "n", "-", "-", "-",
                                              "local"]
    assert any(r[1] == "inet" and r[7] == "smtpd" for r in rows)
    one = postconf(cf, "-M", "qmgr/fifo").stdout.splitlines()
    assert len(one) == 1 and one[0].split()[:2] == ["qmgr", "fifo"]
    assert postconf(cf, "-M", "qmgr/unix").stdout == ""


def test_table_types(cf):
    assert postconf(cf, "-m").stdout.split() == ["btree", "hash", "inline", "static",
                                                 "texthash"]


def test_n_with_names(cf):
    r = postconf(cf, "-n", "myhostname", "relayhost", "no_such_parameter")
    assert r.stdout == "myhostname = localhost\n"
    assert "no_such_parameter: unknown parameter" in r.stderr


MASTER_EXTRA = """\
# a comment about the test service
demo         unix  -  -  y  -  4  local
  -o max_idle=10s
# a comment between entries
"""


def test_master_edit_replace_add_remove_comment(cf):
    master = cf / "master.cf"
    master.write_text(master.read_text() + MASTER_EXTRA)
    before = master.read_text()
    # replace an entry (its continuation line goes with it), add another
    postconf(cf, "-Me", "demo/unix=demo unix - - y - 2 local -o max_idle=20s",
             "extra/fifo=extra fifo n - y 60 1 qmgr")
    text = master.read_text()
    assert "demo unix - - y - 2 local -o max_idle=20s\n" in text
    assert "max_idle=10s" not in text
    assert text.endswith("extra fifo n - y 60 1 qmgr\n")
    # everything else untouched, comments included
    assert "# a comment about the test service\n" in text
    assert "# a comment between entries\n" in text
    kept = [l for l in before.splitlines() if "demo" not in l and "max_idle" not in l]
    for line in kept:
        assert line in text.splitlines()
    shown = postconf(cf, "-M", "demo/unix").stdout.split()
    assert shown[:7] == ["demo", "unix", "-", "-", "y", "-", "2"]
    # comment out, then remove
    postconf(cf, "-M#", "extra/fifo")
    assert "#extra fifo n - y 60 1 qmgr\n" in master.read_text()
    assert postconf(cf, "-M", "extra").stdout == ""
    postconf(cf, "-MX", "demo/unix")
    text = master.read_text()
    assert "demo" not in text.replace("# a comment about the test service", "")
    assert postconf(cf, "-M", "demo").stdout == ""


def test_master_edit_refuses_bad_entries(cf):
    master = cf / "master.cf"
    before = master.read_text()
    for arg in ("demo/unix=demo unix - - y -",          # too few fields
                "demo/unix=other unix - - y - - local",  # key and entry differ
                "demo/tcp=demo tcp - - y - - local",     # bad type
                "demo=demo unix - - y - - local"):       # no type in the key
        r = postconf(cf, "-Me", arg, check=False)
        assert r.returncode != 0 and "fatal" in r.stderr, arg
    assert master.read_text() == before
    r = postconf(cf, "-MX", "nosuch/unix", check=False)
    assert r.returncode == 0 and "no such service" in r.stderr
    assert master.read_text() == before
