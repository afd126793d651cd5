#!/usr/bin/python3
"""XEP-0402 section 5.3 bookmark unification with slixmpp against a
running xmppd: one user on two clients, one keeping bookmarks the way
mcabber and poezio do (slixmpp's xep_0048 over xep_0049, and over
xep_0223), the other the way Conversations does (XEP-0402: slixmpp has no
xep_0402 plugin, so its xep_0060 with the payloads and publish-options of
XEP-0402 3.3, and +notify through xep_0115/xep_0163). Each reads what the
other wrote. Prints what each client saw as one JSON object on stdout.

usage: bookmarks_slixmpp.py HOST PORT JID PW CONTACT CONTACT_PW
"""
import asyncio
import json
import ssl
from xml.etree import ElementTree as ET

import slixmpp
from slixmpp.plugins.xep_0048 import Bookmarks

import slixrun

NS = "urn:xmpp:bookmarks:1"
PUBLISH_OPTIONS = {  # XEP-0402 section 3.3
    "pubsub#persist_items": "true",
    "pubsub#max_items": "max",
    "pubsub#send_last_published_item": "never",
    "pubsub#access_model": "whitelist",
}


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, plugins):
        super().__init__(jid, password)
        self.ssl_context.check_hostname = False  # self-signed test certificate
        self.ssl_context.verify_mode = ssl.CERT_NONE
        for p in plugins:
            self.register_plugin(p)
        self.started = asyncio.Event()
        self.events = asyncio.Queue()
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("pubsub_publish", lambda m: self.on_event(m, "item"))
        self.add_event_handler("pubsub_retract", lambda m: self.on_event(m, "retract"))

    async def on_start(self, _):
        await self.get_roster()
        self.send_presence()
        self.started.set()

    def on_event(self, msg, kind):
        items = msg["pubsub_event"]["items"]
        if items["node"] == NS:
            ids = [el.get("id") for el in items.xml if el.tag.endswith("}" + kind)]
            self.events.put_nowait([kind + ":" + i for i in ids])


def native_conference(name, autojoin, nick):
    c = ET.Element("{%s}conference" % NS, {"name": name, "autojoin": autojoin})
    ET.SubElement(c, "{%s}nick" % NS).text = nick
    return c


async def legacy_jids(client, method):
    r = await client["xep_0048"].get_bookmarks(method=method)
    if method == "xep_0049":
        confs = r["private"]["bookmarks"]["conferences"]
    else:
        confs = r["pubsub"]["items"]["item"]["bookmarks"]["conferences"]
    return sorted(str(c["jid"]) for c in confs)


async def main(host, port, j, pw, _cj, _cpw):
    old = Client(j + "/mcabber", pw, ("xep_0030", "xep_0049", "xep_0060", "xep_0223", "xep_0048"))
    new = Client(j + "/conversations", pw, ("xep_0030", "xep_0004", "xep_0060", "xep_0115", "xep_0163"))
    new["xep_0163"].add_interest(NS)  # urn:xmpp:bookmarks:1+notify (XEP-0402 3.1)
    for c in (old, new):
        c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(asyncio.gather(old.started.wait(), new.started.wait()), 20)
    await asyncio.sleep(0.5)  # the server's caps query answered
    bare = old.boundjid.bare
    res = {}

    info = await new["xep_0030"].get_info(jid=bare)
    res["features"] = [f for f in info["disco_info"]["features"] if f.startswith(NS)]

    # mcabber's way: XEP-0048 in XEP-0049 private storage.
    b = Bookmarks()
    b.add_conference("council@conference.localhost", "puck", name="Council", autojoin=True, password="oberon")
    await old["xep_0048"].set_bookmarks(b, method="xep_0049")
    res["notified"] = await asyncio.wait_for(new.events.get(), 10)
    items = await new["xep_0060"].get_items(bare, NS)
    res["native"] = {}
    for it in items["pubsub"]["items"]:
        c = it.xml.find("{%s}conference" % NS)
        res["native"][it["id"]] = {"name": c.get("name"), "autojoin": c.get("autojoin"),
                                   "nick": c.findtext("{%s}nick" % NS), "password": c.findtext("{%s}password" % NS)}

    # Conversations' way: one item per room (XEP-0402 3.3).
    form = new["xep_0004"].make_form(ftype="submit")
    form.add_field(var="FORM_TYPE", ftype="hidden", value="http://jabber.org/protocol/pubsub#publish-options")
    for var, value in PUBLISH_OPTIONS.items():
        form.add_field(var=var, value=value)
    await new["xep_0060"].publish(bare, NS, id="orchard@conference.localhost",
                                  payload=native_conference("Orchard", "1", "puck"), options=form)
    res["after_publish_xep_0049"] = await legacy_jids(old, "xep_0049")
    res["after_publish_xep_0223"] = await legacy_jids(old, "xep_0223")

    await new["xep_0060"].retract(bare, NS, "council@conference.localhost", notify=True)
    res["after_retract_xep_0049"] = await legacy_jids(old, "xep_0049")

    # The XEP-0223 way reaches the native node too.
    b = Bookmarks()
    b.add_conference("heath@conference.localhost", "puck", name="Heath", autojoin=False)
    await old["xep_0048"].set_bookmarks(b, method="xep_0223")
    items = await new["xep_0060"].get_items(bare, NS)
    res["after_xep_0223_native"] = sorted(it["id"] for it in items["pubsub"]["items"])

    print(json.dumps(res))
    await slixrun.finish(old, new)


if __name__ == "__main__":
    slixrun.run(main)
