#!/usr/bin/python3
"""Roster traffic for the crash test.

usage: roster_writer.py HOST PORT JID PW write N   -- adds contact0..N-1,
       printing "acked K" after the server's result for each (RFC 6121 2.3)
       roster_writer.py HOST PORT JID PW read      -- prints the roster as JSON
"""
import asyncio
import json
import ssl
import sys

import slixmpp


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, pw):
        super().__init__(jid, pw, sasl_mech="SCRAM-SHA-256")
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.ready = asyncio.Event()
        self.add_event_handler("session_start", lambda _: self.ready.set())


async def main(host, port, jid, pw, mode, n):
    c = Client(jid, pw)
    c.connect((host, port), force_starttls=True)
    await asyncio.wait_for(c.ready.wait(), 20)
    if mode == "write":
        for i in range(n):
            await c.update_roster(f"contact{i}@localhost", name=f"Contact {i}", groups=["crash"])
            print(f"acked {i}", flush=True)
    else:
        await c.get_roster()
        items = {str(j): {"name": c.client_roster[j]["name"], "groups": list(c.client_roster[j]["groups"])}
                 for j in c.client_roster}
        print(json.dumps(items), flush=True)
    c.disconnect()
    await asyncio.sleep(0.2)


if __name__ == "__main__":
    host, port, jid, pw, mode = sys.argv[1:6]
    n = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.wait_for(main(host, int(port), jid, pw, mode, n), 120))
