"""Idle-socket flood for mixed.sh: opens SOCKETS connections to HOST:PORT that never send a
byte and holds them for SECONDS; with REOPEN=1 (the default) each one the server closes is
opened again at once. Prints how many it opened and how many the server closed.

    python3 idle_flood.py HOST PORT SOCKETS SECONDS [REOPEN]"""
import selectors, socket, sys, time

host, port, sockets, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
reopen = len(sys.argv) < 6 or sys.argv[5] != "0"
sel = selectors.DefaultSelector()
opened = closed = failed = 0

def open_one():
    global opened, failed
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect_ex((host, port))
        sel.register(s, selectors.EVENT_READ)
        opened += 1
    except OSError:
        failed += 1
        s.close()

for _ in range(sockets):
    open_one()
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    for key, _ in sel.select(timeout=0.2):
        s = key.fileobj
        try:
            data = s.recv(1)
        except OSError:
            data = b""
        if not data:
            sel.unregister(s)
            s.close()
            closed += 1
            if reopen:
                open_one()
print(f"idle flood: {opened} sockets opened, {closed} closed by the server, {failed} failed to open")
