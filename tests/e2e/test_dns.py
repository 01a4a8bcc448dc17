"""smtp(8) details beyond tests/e2e/test_relay.py: MX resolution through the
session's dnsmasq with smtp_tcp_port, the connection cache (reuse is
logged as conn_use=N; an idle cached connection gets QUIT once
smtp_connection_cache_time_limit has passed, while the process waits for
its next request), and the folding of over-long lines
(smtp_line_length_limit)."""
import time

from conftest import needs
from mailutil import token, message, send_raw
from relayutil import FAST_RETRY, split_received, wait_status


def test_mx_lookup_with_smtp_tcp_port(make_instance, sinks, dns):
    needs("smtp")
    dom = token("port") + ".test"
    dns.mx(dom, f"mx.{dom}", 10).a(f"mx.{dom}", "127.0.0.4").apply()
    sink = sinks("127.0.0.4")
    main = dict(FAST_RETRY, smtp_tcp_port=str(sink.port))
    inst = make_instance(main=main)
    c = message(token("mx"), to=f"a@{dom}")
    assert send_raw(inst, "s@client.example", [f"a@{dom}"], c)["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    st = wait_status(inst, f"a@{dom}", "sent")
    assert st and st[0].group("relay") == f"mx.{dom}[127.0.0.4]:{sink.port}", st and st[0].group(0)


def test_cached_connection_reused_then_closed_when_idle(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    main = dict(FAST_RETRY, relayhost=f"[{sink.host}]:{sink.port}",
                smtp_connection_cache_time_limit="2s")
    inst = make_instance(main=main)
    for i in range(2):
        rc = f"r{i}@remote.test"
        assert send_raw(inst, "s@client.example", [rc], message(token(f"c{i}"), to=rc))["end"][0] == 250
        assert len(sink.wait_messages(i + 1, timeout=20)) == i + 1, inst.log_text()[-3000:]
    # Postfix's shape: "relay=host[addr]:port, conn_use=2, delay=..."
    assert inst.wait_log("status=sent", timeout=10)
    if sink.connections == 1:
        assert inst.log_matches(r"to=<r1@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, "
                                r"conn_use=2, delay=\d"), inst.log_text()[-2000:]
    # Idle for longer than the limit: the client says QUIT and hangs up.
    deadline = time.time() + 10
    while time.time() < deadline and sink.open_connections > 0:
        time.sleep(0.1)
    assert sink.open_connections == 0, "cached connection never closed"
    assert any(str(line).strip().upper() == "QUIT" for _, line in sink.commands), sink.commands


def test_long_lines_are_folded(make_instance, sinks):
    needs("smtp")
    sink = sinks()
    main = dict(FAST_RETRY, relayhost=f"[{sink.host}]:{sink.port}",
                smtp_line_length_limit="100")
    inst = make_instance(main=main)
    long_line = b".starts with a dot " + b"x" * 230
    c = message(token("fold"), body=long_line + b"\r\nshort\r\n", to="f@remote.test")
    assert send_raw(inst, "s@client.example", ["f@remote.test"], c)["end"][0] == 250
    msgs = sink.wait_messages(1, timeout=20)
    assert len(msgs) == 1, inst.log_text()[-3000:]
    _, rest = split_received(msgs[0].data)
    lines = rest.split(b"\r\n")
    assert all(len(line) <= 100 for line in lines), [len(line) for line in lines]
    # Unfolding (dropping CR LF SPACE) gives the original content back.
    assert rest.replace(b"\r\n ", b"") == c
