#!/usr/bin/python3
"""XEP-0313 with slixmpp's own xep_0313 plugin against a running xmppd:
alice sends bob 25 chat messages; bob notes the XEP-0359 stanza-ids they
arrive with (xep_0359), then reads his archive with xep_0313: all of it
a page of 10 at a time forwards, the same backwards (an empty <before/>
and <before/> ids), only alice's, and the query form's fields; alice
reads her own copies. Reports what it saw as one JSON object.

usage: mam_slixmpp.py HOST PORT JID1 PW1 JID2 PW2
"""
import asyncio
import json
import ssl

import slixmpp

import slixrun


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in ("xep_0030", "xep_0059", "xep_0297", "xep_0313", "xep_0359"):
            self.register_plugin(p)
        self.started = asyncio.Event()
        self.got = []  # (body, stanza-id by, stanza-id id)
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)

    async def on_start(self, _):
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_message(self, msg):
        if msg["body"]:  # archive results carry their body inside <forwarded/>
            sid = msg["stanza_id"]
            self.got.append((msg["body"], str(sid["by"]), sid["id"]))


def result(m):
    fwd = m["mam_result"]["forwarded"]
    return {"id": m["mam_result"]["id"], "body": fwd["stanza"]["body"],
            "from": str(fwd["stanza"]["from"]), "stamp": str(fwd["delay"]["stamp"])}


async def collect(it):
    out = []
    async for m in it:
        out.append(result(m))
    return out


async def main(host, port, j1, p1, j2, p2):
    a, b = Client(j1, p1), Client(j2, p2)
    for c in (a, b):
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(a.started.wait(), b.started.wait()), 20)

    info = await b["xep_0030"].get_info(jid=b.boundjid.bare)
    features = sorted(info["disco_info"]["features"])

    for i in range(25):
        a.send_message(mto=j2, mbody="m%d" % i, mtype="chat")
    for _ in range(100):
        if len(b.got) == 25:
            break
        await asyncio.sleep(0.1)

    forwards = await collect(b["xep_0313"].iterate(rsm={"max": 10}))
    backwards = await collect(b["xep_0313"].iterate(rsm={"max": 10}, reverse=True))
    with_alice = await collect(b["xep_0313"].iterate(with_jid=slixmpp.JID(j1), rsm={"max": 10}))
    form = await b["xep_0313"].get_fields()
    fields = [f.get("var") for f in form.xml.iter("{jabber:x:data}field")]
    alice = await collect(a["xep_0313"].iterate(rsm={"max": 50}))

    print(json.dumps({"features": features, "received": b.got, "forwards": forwards,
                      "backwards": backwards, "with_alice": with_alice,
                      "fields": fields, "alice": alice}))
    await slixrun.finish(a, b)


if __name__ == "__main__":
    slixrun.run(main)
