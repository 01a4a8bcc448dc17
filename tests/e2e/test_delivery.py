"""Mail goes in over SMTP and comes out in Maildirs and mboxes, byte-exact."""
import re
import socket
import time

from mailutil import (token, message, send_raw, split_delivered, lf,
                      header_block, dot_stuff)


def test_full_conversation_delivers_exact_message(inst):
    subj = token("exact")
    content = message(subj, body=b"First line.\r\n\r\n  indented line\r\nlast line\r\n")
    r = send_raw(inst, "sender@client.example", ["alice@localhost"], content)
    assert r["banner"][0] == 220
    assert r["ehlo"][0] == 250
    assert r["mail"][0] == 250
    assert r["rcpt"][0][0] == 250
    assert r["data"][0] == 354
    assert r["end"][0] == 250, r["end"]
    assert r["quit"][0] == 221

    msgs = inst.maildir_messages("alice", 1)
    assert len(msgs) == 1, "message not delivered to mail/alice/new"
    added, rest = split_delivered(msgs[0])
    assert added["Return-Path"] == b"<sender@client.example>"
    assert b"alice@localhost" in added["Delivered-To"]
    assert b"127.0.0.1" in added["Received"]
    assert b"client.example" in added["Received"]
    assert rest == lf(content)
    assert inst.wait_log("status=sent"), "no status=sent log line"
    assert inst.wait_queue_empty(), f"queue not empty: {inst.queue_files()}"


def test_smtplib_multiple_recipients(inst):
    subj = token("multi")
    content = message(subj)
    users = ["alice", "bob", "carol"]
    with inst.smtp() as s:
        refused = s.sendmail("sender@client.example",
                             [f"{u}@localhost" for u in users], content)
        assert refused == {}
    for u in users:
        msgs = inst.maildir_messages(u, 1)
        assert len(msgs) == 1, f"{u}: {len(msgs)} messages"
        added, rest = split_delivered(msgs[0])
        assert u.encode() + b"@localhost" in added["Delivered-To"]
        assert rest == lf(content)
    assert inst.wait_queue_empty()
    assert not inst.queue_files("deferred")


def test_pipelining(inst):
    s = inst.raw()
    code, lines = s.cmd("EHLO client.example")
    assert code == 250
    assert any(l[4:].upper() == "PIPELINING" for l in lines), lines
    subj = token("pipe")
    content = message(subj)
    s.send(b"MAIL FROM:<p@client.example>\r\nRCPT TO:<alice@localhost>\r\n"
           b"RCPT TO:<bob@localhost>\r\nDATA\r\n")
    codes = [s.reply()[0] for _ in range(4)]
    assert codes == [250, 250, 250, 354]
    s.send(dot_stuff(content) + b".\r\nQUIT\r\n")
    assert s.reply()[0] == 250
    assert s.reply()[0] == 221
    s.close()
    for u in ("alice", "bob"):
        msgs = inst.maildir_messages(u, 1)
        assert len(msgs) == 1
        assert split_delivered(msgs[0])[1] == lf(content)


def test_two_messages_in_one_session(inst):
    s = inst.raw()
    assert s.cmd("EHLO client.example")[0] == 250
    contents = []
    for i in range(2):
        c = message(token(f"two{i}"))
        contents.append(c)
        assert s.cmd("MAIL FROM:<s@client.example>")[0] == 250
        assert s.cmd("RCPT TO:<dave@localhost>")[0] == 250
        assert s.cmd("DATA")[0] == 354
        s.send(c + b".\r\n")
        assert s.reply()[0] == 250
    assert s.cmd("QUIT")[0] == 221
    msgs = inst.maildir_messages("dave", 2)
    assert sorted(split_delivered(m)[1] for m in msgs) == sorted(lf(c) for c in contents)


def test_dot_stuffing(inst):
    subj = token("dots")
    body = b"before\r\n.hidden\r\n.\r\n..two\r\nafter\r\n"
    content = message(subj, body=body)
    wire = dot_stuff(content)
    assert b"\r\n..hidden\r\n" in wire and b"\r\n..\r\n" in wire
    r = send_raw(inst, "s@client.example", ["erin@localhost"], wire, stuff=False)
    assert r["end"][0] == 250
    msgs = inst.maildir_messages("erin", 1)
    assert len(msgs) == 1
    rest = split_delivered(msgs[0])[1]
    assert rest == lf(content)
    assert b"\n.hidden\n.\n..two\n" in rest


def test_8bit_body_byte_exact(inst):
    subj = token("8bit")
    body = "Grüße aus Köln – naïve café\r\n".encode("utf-8") + bytes(range(0x80, 0x100)) + b"\r\n"
    content = message(subj, body=body,
                      headers=["MIME-Version: 1.0",
                               "Content-Type: text/plain; charset=utf-8",
                               "Content-Transfer-Encoding: 8bit"])
    s = inst.raw()
    code, lines = s.cmd("EHLO client.example")
    assert any(l[4:].upper() == "8BITMIME" for l in lines), lines
    assert s.cmd("MAIL FROM:<s@client.example> BODY=8BITMIME")[0] == 250
    assert s.cmd("RCPT TO:<frank@localhost>")[0] == 250
    assert s.cmd("DATA")[0] == 354
    s.send(dot_stuff(content) + b".\r\n")
    assert s.reply()[0] == 250
    s.cmd("QUIT")
    msgs = inst.maildir_messages("frank", 1)
    assert len(msgs) == 1
    assert split_delivered(msgs[0])[1] == lf(content)


def test_long_line_kept_intact(inst):
    """A body line longer than line_length_limit is stored in pieces and
    must come out as the same single line."""
    subj = token("long")
    long_line = b"x" * 5000 + b"END"
    content = message(subj, body=b"short\r\n" + long_line + b"\r\ntail\r\n")
    r = send_raw(inst, "s@client.example", ["gina@localhost"], content)
    assert r["end"][0] == 250
    msgs = inst.maildir_messages("gina", 1)
    assert len(msgs) == 1
    assert split_delivered(msgs[0])[1] == lf(content)


def test_message_id_and_date_added_for_local_client(inst):
    subj = token("noid")
    content = message(subj, msgid=False, date=False)
    r = send_raw(inst, "s@client.example", ["hank@localhost"], content)
    assert r["end"][0] == 250
    msgs = inst.maildir_messages("hank", 1)
    assert len(msgs) == 1
    added, rest = split_delivered(msgs[0])
    headers = header_block(rest)
    assert re.search(rb"(?im)^Message-ID: *<[^>@\s]+@[^>\s]+>$", headers), headers
    assert re.search(rb"(?im)^Date: .*\d{4} \d\d:\d\d:\d\d [+-]\d{4}", headers), headers
    assert subj.encode() in headers
    # The body is untouched.
    assert rest.endswith(lf(content.split(b"\r\n\r\n", 1)[1]))


def test_existing_message_id_kept(inst):
    subj = token("keepid")
    content = message(subj)
    send_raw(inst, "s@client.example", ["ivan@localhost"], content)
    msgs = inst.maildir_messages("ivan", 1)
    headers = header_block(split_delivered(msgs[0])[1])
    assert len(re.findall(rb"(?im)^Message-ID:", headers)) == 1
    assert len(re.findall(rb"(?im)^Date:", headers)) == 1


def test_recipient_delimiter(make_instance):
    inst = make_instance(main={"recipient_delimiter": "+"})
    subj = token("delim")
    content = message(subj)
    r = send_raw(inst, "s@client.example", ["judy+lists@localhost"], content)
    assert r["rcpt"][0][0] == 250
    assert r["end"][0] == 250
    msgs = inst.maildir_messages("judy", 1)
    assert len(msgs) == 1, "judy+lists@localhost did not arrive in judy's Maildir"
    assert split_delivered(msgs[0])[1] == lf(content)
    assert not (inst.mail / "judy+lists").exists()


def test_alias_to_mbox_file_and_maildir(make_instance):
    inst = make_instance(aliases=(
        "boxer: $D/mail/box.mbox\n"
        "dirk: $D/mail/aliasdir/\n"
        "both: boxer, dirk\n"))
    subj = token("mbox")
    body = b"From the start, a line that needs quoting.\r\nnormal\r\n>From already quoted\r\n"
    content = message(subj, body=body)
    r = send_raw(inst, "boxsender@client.example", ["boxer@localhost"], content)
    assert r["end"][0] == 250
    mbox = inst.mail / "box.mbox"
    assert inst.wait_queue_empty()
    deadline = time.time() + 15
    while time.time() < deadline and not (mbox.exists() and mbox.stat().st_size):
        time.sleep(0.1)
    data = mbox.read_bytes()
    assert data.startswith(b"From boxsender@client.example "), data[:100]
    assert b"\n>From the start, a line that needs quoting.\n" in data
    assert b"\nFrom the start" not in data
    assert b"\n>>From already quoted\n" in data or b"\n>From already quoted\n" in data
    assert subj.encode() in data
    assert data.endswith(b"\n\n"), "mbox message must end with an empty line"

    # An alias ending in "/" is a Maildir.
    subj2 = token("adir")
    content2 = message(subj2)
    r = send_raw(inst, "s@client.example", ["dirk@localhost"], content2)
    assert r["end"][0] == 250
    msgs = inst.maildir_messages("aliasdir", 1)
    assert len(msgs) == 1
    assert split_delivered(msgs[0])[1] == lf(content2)
    assert not (inst.mail / "dirk").exists()

    # A list alias reaches both.
    subj3 = token("both")
    send_raw(inst, "s@client.example", ["both@localhost"], message(subj3))
    assert len(inst.maildir_messages("aliasdir", 2)) == 2
    deadline = time.time() + 15
    while time.time() < deadline and subj3.encode() not in mbox.read_bytes():
        time.sleep(0.1)
    data = mbox.read_bytes()
    assert subj3.encode() in data
    assert len(re.findall(rb"(?m)^From [^\n]+\n", data)) == 2


def test_unknown_user_gets_luser_relay_maildir(inst):
    subj = token("luser")
    user = token("nobodyknows")
    send_raw(inst, "s@client.example", [f"{user}@localhost"], message(subj))
    msgs = inst.maildir_messages(user, 1)
    assert len(msgs) == 1


def test_bare_lf_lines_normalized(inst):
    """With the default smtpd_forbid_bare_newline=normalize, bare LF line
    ends inside content are accepted as line ends."""
    subj = token("barelf")
    s = inst.raw()
    s.cmd("EHLO client.example")
    assert s.cmd("MAIL FROM:<s@client.example>")[0] == 250
    assert s.cmd("RCPT TO:<kim@localhost>")[0] == 250
    assert s.cmd("DATA")[0] == 354
    s.send(f"Subject: {subj}\r\n\r\none\ntwo\r\nthree\n".encode() + b"\r\n.\r\n")
    assert s.reply()[0] == 250
    s.cmd("QUIT")
    msgs = inst.maildir_messages("kim", 1)
    rest = split_delivered(msgs[0])[1]
    assert b"\none\ntwo\nthree\n" in rest
    assert b"\r" not in rest


def test_connection_drop_mid_data_delivers_nothing(inst):
    subj = token("drop")
    s = inst.raw()
    s.cmd("EHLO client.example")
    s.cmd("MAIL FROM:<s@client.example>")
    s.cmd("RCPT TO:<lena@localhost>")
    assert s.cmd("DATA")[0] == 354
    s.send(message(subj))
    s.sock.shutdown(socket.SHUT_RDWR)
    s.close()
    assert inst.wait_log("lost connection after DATA"), "no 'lost connection after DATA' log line"
    assert inst.maildir_messages("lena", 1, timeout=3) == []
    # Not even an abandoned temporary file may stay behind.
    assert inst.wait_queue_empty(queues=("incoming", "active", "deferred"), timeout=5,
                                 temp=True), inst.queue_files(temp=True)
