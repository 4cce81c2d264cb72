"""Idle-socket flood for mixed.sh: keeps SOCKETS connections open to HOST:PORT that never send
a byte, re-opening each one the server closes, for SECONDS; prints how many it opened and how
many the server closed."""
import selectors, socket, sys, time

host, port, sockets, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
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
            open_one()
print(f"idle flood: {opened} sockets opened, {closed} closed by the server, {failed} failed to open")
