"""A real SMTP server that keeps every message it accepts: one file per message.

Runs on the test's own mail container under Python 2.7 (Ubuntu 16.04's python), whose
standard library still has smtpd. Usage: smtp_sink.py ADDRESS PORT DIRECTORY
"""

import asyncore
import os
import smtpd
import sys
import time


class KeepingServer(smtpd.SMTPServer):
    def __init__(self, address, directory):
        smtpd.SMTPServer.__init__(self, address, None)
        self.directory = directory
        self.count = 0

    def process_message(self, peer, mailfrom, rcpttos, data, **_):
        self.count += 1
        name = str(int(time.time())) + "-" + str(self.count).zfill(4) + ".eml"
        partial = os.path.join(self.directory, "." + name)
        with open(partial, "w") as handle:
            # Python 2.7 here: no f-strings.
            handle.write("X-Envelope-From: " + mailfrom + "\n")
            handle.write("X-Envelope-To: " + ",".join(rcpttos) + "\n")
            handle.write(data if isinstance(data, str) else data.decode("utf-8", "replace"))
        # Renamed once complete, so a reader never sees half a message.
        os.rename(partial, os.path.join(self.directory, name))


if __name__ == "__main__":
    KeepingServer((sys.argv[1], int(sys.argv[2])), sys.argv[3])
    asyncore.loop()
