"""Checks an `xmppd archive export --format eml` with Python's own mail
parsers, as an archiving vendor's ingestion would read it (issue 13).

usage: eml_check.py dir|mbox PATH EXPECTED.json

EXPECTED is a JSON list, in archive order, of objects with from, to
(mailbox addresses), from_jid, to_jid, date (Unix seconds), message_id,
subject, body and archive_id. dir reads every *.eml file of PATH in name
order with email.message_from_binary_file; mbox reads PATH with
mailbox.mbox. Each message must parse without defects and carry exactly
the expected headers and body. Prints "ok N" on success; any difference
exits 1 naming it."""
import email
import email.policy
import email.utils
import json
import mailbox
import os
import sys


def fail(msg):
    print(msg)
    sys.exit(1)


def check(i, m, want):
    where = "message %d (%s)" % (i, want["archive_id"])
    if m.defects:
        fail("%s: defects %r" % (where, m.defects))
    for name in ("From", "To"):
        _, addr = email.utils.parseaddr(str(m[name]))
        if addr != want[name.lower()]:
            fail("%s: %s address %r, want %r" % (where, name, addr, want[name.lower()]))
    fr = m["From"]
    if want["from_jid"] != want["from"] and fr.addresses[0].display_name != want["from_jid"]:
        fail("%s: From display name %r, want %r" % (where, fr.addresses[0].display_name, want["from_jid"]))
    if str(m["X-XMPP-From"]) != want["from_jid"] or str(m["X-XMPP-To"]) != want["to_jid"]:
        fail("%s: X-XMPP-From/To %r %r" % (where, str(m["X-XMPP-From"]), str(m["X-XMPP-To"])))
    date = email.utils.parsedate_to_datetime(str(m["Date"]))
    if int(date.timestamp()) != want["date"]:
        fail("%s: Date %s is %d, want %d" % (where, m["Date"], date.timestamp(), want["date"]))
    if str(m["Message-ID"]).strip() != want["message_id"]:
        fail("%s: Message-ID %r, want %r" % (where, str(m["Message-ID"]), want["message_id"]))
    if str(m["Subject"]) != want["subject"]:
        fail("%s: Subject %r, want %r" % (where, str(m["Subject"]), want["subject"]))
    if str(m["X-XMPP-Archive-Id"]) != want["archive_id"]:
        fail("%s: X-XMPP-Archive-Id %r" % (where, str(m["X-XMPP-Archive-Id"])))
    if m.get_content_type() != "text/plain" or m.get_content_charset() != "utf-8":
        fail("%s: content type %s charset %s" % (where, m.get_content_type(), m.get_content_charset()))
    body = m.get_content().replace("\r\n", "\n")
    if body.rstrip("\n") != want["body"]:
        fail("%s: body %r, want %r" % (where, body, want["body"]))


def main():
    mode, path, expected = sys.argv[1:4]
    with open(expected, encoding="utf-8") as f:
        wants = json.load(f)
    if mode == "dir":
        names = sorted(n for n in os.listdir(path) if n.endswith(".eml"))
        msgs = []
        for n in names:
            with open(os.path.join(path, n), "rb") as f:
                msgs.append(email.message_from_binary_file(f, policy=email.policy.default))
    else:
        msgs = [email.message_from_bytes(m.as_bytes(), policy=email.policy.default)
                for m in mailbox.mbox(path, create=False)]
    if len(msgs) != len(wants):
        fail("%d messages, want %d" % (len(msgs), len(wants)))
    for i, (m, want) in enumerate(zip(msgs, wants)):
        check(i, m, want)
    print("ok %d" % len(msgs))


main()
