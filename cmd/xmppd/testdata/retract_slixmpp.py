#!/usr/bin/python3
"""XEP-0424 and XEP-0441 with slixmpp's own plugins against a running
xmppd: alice reads and sets her archive preferences (xep_0441), sends
bob two messages and retracts the first (XEP-0424 version 1); bob waits for the
retraction, then both read their archives with xep_0313. Reports what
they saw as one JSON object.

usage: retract_slixmpp.py HOST PORT JID1 PW1 JID2 PW2
"""
import asyncio
import json
import ssl
import xml.etree.ElementTree as ET

import slixmpp

import slixrun

NS_RETRACT = "urn:xmpp:message-retract:1"


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in ("xep_0030", "xep_0059", "xep_0297", "xep_0313", "xep_0359", "xep_0441"):
            self.register_plugin(p)
        self.started = asyncio.Event()
        self.bodies = []
        self.retracted = asyncio.Event()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("message", self.on_message)

    async def on_start(self, _):
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_message(self, msg):
        if msg.xml.find("{%s}retract" % NS_RETRACT) is not None:
            self.retracted.set()
        elif msg["body"]:
            self.bodies.append(msg["body"])


async def archive(c):
    out = []
    async for m in c["xep_0313"].iterate(rsm={"max": 10}):
        fwd = m["mam_result"]["forwarded"]
        r = fwd["stanza"].xml.find("{%s}retracted" % NS_RETRACT)
        out.append({"id": m["mam_result"]["id"], "msg_id": fwd["stanza"]["id"], "body": fwd["stanza"]["body"],
                    "retracted": r.get("id") if r is not None else None,
                    "retract": fwd["stanza"].xml.find("{%s}retract" % NS_RETRACT) is not None})
    return out


async def main(host, port, j1, p1, j2, p2):
    a, b = Client(j1, p1), Client(j2, p2)
    for c in (a, b):
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(a.started.wait(), b.started.wait()), 20)

    info = await a["xep_0030"].get_info(jid=a.boundjid.bare)
    features = sorted(info["disco_info"]["features"])
    before = await a["xep_0441"].get_preferences()
    await a["xep_0441"].set_preferences(default="always", always=[slixmpp.JID(j2)], never=[slixmpp.JID("eve@localhost")])
    after = await a["xep_0441"].get_preferences()

    for mid, body in (("orig-1", "oops, wrong chat"), ("orig-2", "still here")):
        m = a.make_message(mto=j2, mbody=body, mtype="chat")
        m["id"] = mid
        m.send()
    for _ in range(100):
        if len(b.bodies) == 2:
            break
        await asyncio.sleep(0.1)
    # Debian's slixmpp xep_0424 speaks version 0 (urn:xmpp:message-retract:0
    # inside a XEP-0422 <apply-to/>); xmppd implements version 1, section 3's
    # Example 4, sent here as raw XML.
    r = a.make_message(mto=j2, mbody="/me retracted a previous message, but it's unsupported by your client.", mtype="chat")
    r["id"] = "retract-1"
    r.append(ET.fromstring("<retract xmlns='%s' id='orig-1'/>" % NS_RETRACT))
    r.append(ET.fromstring("<fallback xmlns='urn:xmpp:fallback:0' for='%s'/>" % NS_RETRACT))
    r.append(ET.fromstring("<store xmlns='urn:xmpp:hints'/>"))
    r.send()
    await asyncio.wait_for(b.retracted.wait(), 10)

    prefs = lambda p: {"default": p[0], "always": sorted(str(j) for j in p[1]), "never": sorted(str(j) for j in p[2])}
    print(json.dumps({"features": features, "prefs_before": prefs(before), "prefs_after": prefs(after),
                      "alice": await archive(a), "bob": await archive(b)}))
    await slixrun.finish(a, b)


if __name__ == "__main__":
    slixrun.run(main)
