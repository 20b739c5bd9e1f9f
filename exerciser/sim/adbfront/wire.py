"""The device side of the adb wire protocol (what adbd speaks to the host's adb server over TCP).

Packets are a 24-byte header (command, arg0, arg1, length, checksum, magic) plus payload. The host opens
with CNXN; a secure device (ro.adb.secure=1) answers AUTH TOKEN and waits for the host to authenticate
(auth.py), an insecure one answers CNXN with its banner at once. Each OPEN
names a service and becomes a stream: we answer OKAY (or CLSE to refuse), the two sides exchange WRTE,
every WRTE is acknowledged with OKAY before the next WRTE on that stream may be sent, and either side ends
it with CLSE. Stream data is a byte stream: a reader must not assume frames align with packets.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
from collections.abc import Callable

from exerciser.sim.adbfront.auth import ADB_AUTH_TOKEN, Handshake

log = logging.getLogger(__name__)

A_SYNC = 0x434E5953
A_CNXN = 0x4E584E43
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_CLSE = 0x45534C43
A_WRTE = 0x45545257
A_AUTH = 0x48545541
A_STLS = 0x534C5453

A_VERSION = 0x01000001  # skips checksums; what adbd has sent since Android 9
MAX_PAYLOAD = 1024 * 1024  # adbd's MAX_PAYLOAD since Android 9
_HEADER = struct.Struct("<6I")

NAMES = {A_SYNC: "SYNC", A_CNXN: "CNXN", A_OPEN: "OPEN", A_OKAY: "OKAY", A_CLSE: "CLSE", A_WRTE: "WRTE"}
NAMES.update({A_AUTH: "AUTH", A_STLS: "STLS"})


class StreamClosed(Exception):
    """The peer closed the stream (or the whole transport went away)."""


def packet(command: int, arg0: int, arg1: int, data: bytes = b"") -> bytes:
    # The checksum is ignored from A_VERSION 0x01000001 on; we fill it in anyway for older hosts.
    return _HEADER.pack(command, arg0, arg1, len(data), sum(data) & 0xFFFFFFFF, command ^ 0xFFFFFFFF) + data


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("transport closed")
        buf += chunk
    return bytes(buf)


class Stream:
    """One OPENed service: a byte stream with adb's one-WRTE-in-flight flow control."""

    def __init__(self, transport: Transport, local_id: int, remote_id: int, service: str) -> None:
        self.transport = transport
        self.local_id = local_id
        self.remote_id = remote_id
        self.service = service
        self._buf = bytearray()
        self._cond = threading.Condition()
        self._acked = True  # no WRTE in flight
        self._peer_closed = False
        self._closed = False

    # --- called by the transport's reader thread ----------------------------------------------
    def _feed(self, data: bytes) -> None:
        with self._cond:
            self._buf += data
            self._cond.notify_all()

    def _ack(self) -> None:
        with self._cond:
            self._acked = True
            self._cond.notify_all()

    def _peer_close(self) -> None:
        with self._cond:
            self._peer_closed = True
            self._cond.notify_all()

    # --- used by service handlers -------------------------------------------------------------
    @property
    def peer_closed(self) -> bool:
        return self._peer_closed

    def read(self, n: int = 65536, timeout: float | None = None) -> bytes:
        """Up to `n` bytes; b"" once the peer closed and the buffer is drained."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._buf or self._peer_closed, timeout):
                raise TimeoutError("stream read timeout")
            data = bytes(self._buf[:n])
            del self._buf[:n]
            return data

    def read_exact(self, n: int) -> bytes:
        with self._cond:
            self._cond.wait_for(lambda: len(self._buf) >= n or self._peer_closed)
            if len(self._buf) < n:
                raise StreamClosed(f"stream closed after {len(self._buf)} of {n} bytes")
            data = bytes(self._buf[:n])
            del self._buf[:n]
            return data

    def read_until(self, marker: bytes, limit: int = 1 << 20) -> bytes:
        """Bytes up to and including `marker`."""
        with self._cond:
            while True:
                i = self._buf.find(marker)
                if i >= 0:
                    data = bytes(self._buf[: i + len(marker)])
                    del self._buf[: i + len(marker)]
                    return data
                if self._peer_closed or len(self._buf) > limit:
                    raise StreamClosed("stream closed before marker")
                self._cond.wait()

    def wait_closed(self, timeout: float | None = None) -> bool:
        """Block until the peer closes the stream (used by long-running shell commands)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._peer_closed, timeout)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        step = self.transport.max_send
        for i in range(0, len(view), step):
            chunk = bytes(view[i : i + step])
            with self._cond:
                self._cond.wait_for(lambda: self._acked or self._peer_closed or self._closed)
                if self._peer_closed or self._closed:
                    raise StreamClosed(f"write on closed stream {self.service!r}")
                self._acked = False
            self.transport.send(A_WRTE, self.local_id, self.remote_id, chunk)

    def close(self) -> None:
        """Our end is done: wait for the last WRTE's OKAY, then CLSE."""
        with self._cond:
            if self._closed:
                return
            self._cond.wait_for(lambda: self._acked or self._peer_closed, timeout=30)
            self._closed = True
            self._cond.notify_all()
            peer_closed = self._peer_closed
        if not peer_closed:
            self.transport.send(A_CLSE, self.local_id, self.remote_id)
        self.transport._forget(self.local_id)


# A service opener returns a handler to run on the new stream, or None to refuse the OPEN.
Opener = Callable[[str], Callable[[Stream], None] | None]


class Transport:
    """One TCP connection from the host's adb server: the CNXN handshake and the streams on it."""

    def __init__(self, sock: socket.socket, banner: str, opener: Opener, on_close=None, keys=None) -> None:
        self.sock = sock
        self.banner = banner
        # ro.adb.secure=1: the host must authenticate (auth.py) before any service opens
        self.handshake = Handshake(keys) if keys is not None else None
        self.authorised = keys is None
        self.opener = opener
        self.on_close = on_close
        self.max_send = 256 * 1024
        self.host_banner = ""
        self._send_lock = threading.Lock()
        self._streams: dict[int, Stream] = {}
        self._streams_lock = threading.Lock()
        self._next_id = 1
        self._alive = True

    def send(self, command: int, arg0: int, arg1: int, data: bytes = b"") -> None:
        if not self._alive:
            raise StreamClosed("transport closed")
        try:
            with self._send_lock:
                self.sock.sendall(packet(command, arg0, arg1, data))
        except OSError as exc:
            self._alive = False
            raise StreamClosed(f"transport send failed: {exc}") from exc

    def _forget(self, local_id: int) -> None:
        with self._streams_lock:
            self._streams.pop(local_id, None)

    def serve(self) -> None:
        """Read packets until the connection ends. Runs on its own thread."""
        try:
            while True:
                cmd, arg0, arg1, length, _crc, magic = _HEADER.unpack(_recv_exact(self.sock, 24))
                if magic != cmd ^ 0xFFFFFFFF:
                    log.warning("bad packet magic, dropping transport")
                    break
                data = _recv_exact(self.sock, length) if length else b""
                self._dispatch(cmd, arg0, arg1, data)
        except (ConnectionError, OSError):
            pass
        finally:
            self.shutdown()

    def _dispatch(self, cmd: int, arg0: int, arg1: int, data: bytes) -> None:
        if cmd == A_CNXN:
            self.host_banner = data.rstrip(b"\0").decode("utf-8", "replace")
            self.max_send = min(arg1 or MAX_PAYLOAD, MAX_PAYLOAD)
            if self.authorised:
                self.send(A_CNXN, A_VERSION, MAX_PAYLOAD, self.banner.encode())
            else:
                self.send(A_AUTH, ADB_AUTH_TOKEN, 0, self.handshake.new_token())
        elif cmd == A_AUTH and self.handshake is not None and not self.authorised:
            verdict = self.handshake.on_auth(arg0, data)
            if verdict:
                self.authorised = True
                self.send(A_CNXN, A_VERSION, MAX_PAYLOAD, self.banner.encode())
            elif verdict is False:  # a key it does not know: another token for the next key
                self.send(A_AUTH, ADB_AUTH_TOKEN, 0, self.handshake.new_token())
        elif not self.authorised:
            log.debug("dropping %s before authentication", NAMES.get(cmd, hex(cmd)))
        elif cmd == A_OPEN:
            self._open(arg0, data.rstrip(b"\0").decode("utf-8", "replace"))
        elif cmd == A_WRTE:
            stream = self._streams.get(arg1)
            if stream is None:
                self.send(A_CLSE, 0, arg0)
                return
            stream._feed(data)
            self.send(A_OKAY, stream.local_id, stream.remote_id)
        elif cmd == A_OKAY:
            stream = self._streams.get(arg1)
            if stream is not None:
                stream.remote_id = arg0
                stream._ack()
        elif cmd == A_CLSE:
            with self._streams_lock:
                stream = self._streams.pop(arg1, None)
            if stream is not None:
                stream._peer_close()
        else:
            log.debug("ignoring packet %s", NAMES.get(cmd, hex(cmd)))

    def _open(self, remote_id: int, service: str) -> None:
        try:
            handler = self.opener(service)
        except Exception:  # a broken service must not take the transport down
            log.exception("opening %r failed", service)
            handler = None
        if handler is None:
            self.send(A_CLSE, 0, remote_id)
            return
        with self._streams_lock:
            local_id = self._next_id
            self._next_id += 1
            stream = Stream(self, local_id, remote_id, service)
            self._streams[local_id] = stream
        self.send(A_OKAY, local_id, remote_id)
        threading.Thread(
            target=self._run, args=(handler, stream), daemon=True, name=f"adb:{service[:24]}"
        ).start()

    def _run(self, handler: Callable[[Stream], None], stream: Stream) -> None:
        try:
            handler(stream)
        except StreamClosed:
            pass
        except Exception:
            log.exception("service %r failed", stream.service)
        finally:
            with contextlib.suppress(StreamClosed):
                stream.close()

    def shutdown(self) -> None:
        """Drop the connection (the host sees the device go away) and wake every stream."""
        self._alive = False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        with self._streams_lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for s in streams:
            s._peer_close()
        if self.on_close:
            self.on_close(self)
