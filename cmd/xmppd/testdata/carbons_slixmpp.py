#!/usr/bin/python3
"""XEP-0280 with slixmpp's xep_0280 plugin against a running xmppd: two
resources of one account enable carbons; a contact writes to one of them
and it writes back; the other resource reports the received and sent
carbons it got as one JSON object on stdout.

usage: carbons_slixmpp.py HOST PORT JID PW CONTACT CONTACT_PW
"""
import asyncio
import json
import ssl

import slixmpp

import slixrun


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.register_plugin("xep_0280")
        self.ssl_context.check_hostname = False  # self-signed test certificate
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.started = asyncio.Event()
        self.got = asyncio.Queue()
        self.carbons = asyncio.Queue()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)
        self.add_event_handler("carbon_received", lambda m: self.carbons.put_nowait(("received", m["carbon_received"])))
        self.add_event_handler("carbon_sent", lambda m: self.carbons.put_nowait(("sent", m["carbon_sent"])))

    async def on_start(self, _):
        self.send_presence()
        self.started.set()

    def on_message(self, msg):
        if msg["body"]:
            self.got.put_nowait(msg)


async def main(host, port, j, pw, cj, cpw):
    desk, phone, contact = Client(j + "/desk", pw), Client(j + "/phone", pw), Client(cj + "/home", cpw)
    for c in (desk, phone, contact):
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(*(c.started.wait() for c in (desk, phone, contact))), 20)
    for c in (desk, phone):
        await c.plugin["xep_0280"].enable()

    contact.send_message(mto=str(desk.boundjid), mbody="to desk", mtype="chat")
    await asyncio.wait_for(desk.got.get(), 10)
    desk.send_message(mto=str(contact.boundjid), mbody="from desk", mtype="chat")
    await asyncio.wait_for(contact.got.get(), 10)

    seen = []
    for _ in range(2):
        kind, inner = await asyncio.wait_for(phone.carbons.get(), 10)
        seen.append({"kind": kind, "from": str(inner["from"]), "to": str(inner["to"]), "body": inner["body"]})
    print(json.dumps({"phone": seen, "desk_carbons": desk.carbons.qsize()}))
    await slixrun.finish(desk, phone, contact)


if __name__ == "__main__":
    slixrun.run(main)
