"""Serve a virtual device on a loopback TCP port as an adb device (`adb connect 127.0.0.1:PORT`).

    front = AdbFront(device, port=7401).start()
    ...                        # adb / adbutils / uiautomator2 talk to 127.0.0.1:7401
    front.stop()               # "unplug": the listener and every connection close at once

Services: `shell:` (v1, raw), `shell,v2,...:` (adb CLI), `exec:`, `sync:`, `tcp:9008` (the uiautomator2
server, only while its app_process shell stream is open), `reverse:`, `framebuffer:`, `tcpip:`/`usb:`
(hostsvc), `reboot:`/`root:`/`remount:` answers.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable

from exerciser.device.contract import Device
from exerciser.sim.adbfront.auth import AdbKeys
from exerciser.sim.adbfront.clock import PhoneSpeed
from exerciser.sim.adbfront.commands import make_commands
from exerciser.sim.adbfront.hostsvc import Reverses, serve_framebuffer, serve_tcpip
from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Shell
from exerciser.sim.adbfront.syncsvc import serve_sync
from exerciser.sim.adbfront.u2server import serve_http
from exerciser.sim.adbfront.wire import Stream, StreamClosed, Transport

log = logging.getLogger(__name__)

U2_PORT = 9008
# The served phone's threads (the transport's reader, one per stream) mostly wait on sockets, and an adb
# round trip hands the GIL on several times between them; with CPython's 5 ms switch interval each handoff
# may wait behind a busy thread (a render, or a client in the same process). 1 ms: ~15 % less host time
# per step on the served path (bench/bench_served_step.py).
SWITCH_INTERVAL_S = 0.001


class _V1Session:
    """Raw shell (adbutils, uiautomator2): stdout and stderr interleaved on the stream, no exit status."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream

    def emit(self, out: bytes, err: bytes) -> None:
        if out:
            self.stream.write(out)
        if err:
            self.stream.write(err)

    def wait_closed(self) -> None:
        self.stream.wait_closed()

    def read_stdin(self, n: int) -> bytes:
        return self.stream.read_exact(n)

    def read_line(self) -> bytes:
        """One line the client typed (b"" once it closed the stream)."""
        try:
            return self.stream.read_until(b"\n")
        except StreamClosed:
            return b""


class _V2Session:
    """shell protocol v2 (adb CLI): packets [id u8][len u32le][data]; 1 stdout, 2 stderr, 3 exit."""

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self._stdin = bytearray()

    def _packet(self, ident: int, data: bytes) -> bytes:
        return struct.pack("<BI", ident, len(data)) + data

    def emit(self, out: bytes, err: bytes) -> None:
        if out:
            self.stream.write(self._packet(1, out))
        if err:
            self.stream.write(self._packet(2, err))

    def exit(self, status: int) -> None:
        self.stream.write(self._packet(3, bytes([status & 0xFF])))

    def wait_closed(self) -> None:
        # The CLI closes the stream on Ctrl-C; stdin packets are ignored (no command reads them here).
        while True:
            try:
                ident, length = struct.unpack("<BI", self.stream.read_exact(5))
                self.stream.read_exact(length)
            except StreamClosed:
                return

    def read_stdin(self, n: int) -> bytes:
        while len(self._stdin) < n:
            ident, length = struct.unpack("<BI", self.stream.read_exact(5))
            data = self.stream.read_exact(length)
            if ident == 0:
                self._stdin += data
            elif ident == 4:
                break
        out, self._stdin = bytes(self._stdin[:n]), self._stdin[n:]
        return out

    def read_line(self) -> bytes:
        try:
            while b"\n" not in self._stdin:
                ident, length = struct.unpack("<BI", self.stream.read_exact(5))
                data = self.stream.read_exact(length)
                if ident == 4:
                    break
                if ident == 0:
                    self._stdin += data
        except StreamClosed:
            pass
        line, sep, rest = bytes(self._stdin).partition(b"\n")
        self._stdin = bytearray(rest)
        return line + sep


class AdbFront:
    """One virtual device behind one TCP port."""

    def __init__(
        self,
        device: Device,
        port: int = 7401,
        host: str = "127.0.0.1",
        *,
        clock_scale: float = 1.0,
        speed: PhoneSpeed | None = None,
        clock_methods: frozenset[str] = frozenset(),
    ) -> None:
        self.host = host
        self.port = port
        self.phone = Phone(
            device,
            f"{host}:{port}",
            port,
            clock_scale=clock_scale,
            speed=speed,
            clock_methods=clock_methods,
        )
        self._commands = make_commands(self.phone)
        self._reverses = Reverses()
        self.adb_keys = AdbKeys()  # host keys the phone's user allowed (survive reconnects)
        self._listener: socket.socket | None = None
        self._transports: set[Transport] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stopped = threading.Event()

    @property
    def serial(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def device(self) -> Device:
        return self.phone.device

    def start(self) -> AdbFront:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(16)
        self._listener = sock
        self._thread = threading.Thread(target=self._accept, daemon=True, name=f"adbfront:{self.port}")
        self._thread.start()
        self.phone.clock.start()  # the phone's time runs on while unplugged, until close()
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        return self

    def _accept(self) -> None:
        assert self._listener is not None
        while not self.stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                break
            if self.stopped.is_set():  # let in just as it was unplugged
                conn.close()
                break
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            secure = self.phone.props.get("ro.adb.secure") == "1"
            t = Transport(
                conn,
                self.phone.banner(),
                self._open,
                on_close=self._closed,
                keys=self.adb_keys if secure else None,
            )
            with self._lock:
                self._transports.add(t)
            threading.Thread(target=t.serve, daemon=True, name=f"adbfront:{self.port}:transport").start()

    def _closed(self, t: Transport) -> None:
        with self._lock:
            self._transports.discard(t)

    def stop(self) -> None:
        """Unplug: stop listening and drop every connection (the host sees the device vanish)."""
        self.stopped.set()
        if self._listener is not None:
            # shutdown first: close() alone leaves a thread blocked in accept() holding the socket, and
            # adb's reconnect would still be let in
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self._listener.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
        with self._lock:
            transports = list(self._transports)
        for t in transports:
            t.shutdown()
        self.phone.u2_processes = 0

    def close(self) -> None:
        """Unplug and switch the phone off (its clock stops)."""
        self.stop()
        self.phone.clock.stop()

    def plug_back(self) -> AdbFront:
        """Listen again after `stop()`, the same phone with its files and state (a cable plugged back)."""
        self.stopped.clear()
        return self.start()

    def __enter__(self) -> AdbFront:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- services --------------------------------------------------------------------------------
    def _open(self, service: str) -> Callable[[Stream], None] | None:
        if service.startswith("shell"):
            head, sep, cmd = service.partition(":")
            if not sep:
                return None
            opts = head.split(",")[1:]
            return lambda s: self._shell(s, cmd, v2="v2" in opts)
        if service.startswith("exec:"):
            return lambda s: self._shell(s, service[5:], v2=False)
        if service == "sync:":
            return lambda s: serve_sync(s, self.phone.fs)
        if service.startswith("tcp:"):
            port = service[4:].split(":", 1)[0]
            if port.isdigit() and int(port) == U2_PORT and self.phone.u2_processes > 0:
                return lambda s: serve_http(s, self.phone)
            return None  # connection refused
        if service.startswith("reverse:"):
            reply = self._reverses.handle(service[len("reverse:") :])
            return lambda s: s.write(reply)
        if service == "framebuffer:":
            return lambda s: serve_framebuffer(s, self.phone)
        if service.startswith("tcpip:"):
            return lambda s: serve_tcpip(s, self.phone, service[len("tcpip:") :])
        if service == "usb:":
            return lambda s: s.write(b"restarting in USB mode\n")
        if service in ("root:", "unroot:"):
            return lambda s: s.write(b"adbd cannot run as root in production builds\n")
        if service == "remount:":
            return lambda s: s.write(b'Not running as root. Try "adb root" first.\n')
        if service.startswith("reboot:"):
            return lambda s: None
        return None

    def _shell(self, stream: Stream, cmd: str, v2: bool) -> None:
        session = _V2Session(stream) if v2 else _V1Session(stream)
        self.phone.history.append(cmd)
        if self.phone.shell_delay_s:
            time.sleep(self.phone.shell_delay_s)
        shell = Shell(self.phone.fs, self._commands, session=session)
        if not cmd.strip():
            self._interactive(stream, shell, session)
            return
        _out, _err, status = shell.run(cmd)
        if v2:
            session.exit(status)

    def _interactive(self, stream: Stream, shell: Shell, session) -> None:
        """`adb shell` without a command: a line-at-a-time prompt (no job control, no line editing)."""
        prompt = f"{self.phone.props['ro.product.device']}:/ $ ".encode()
        session.emit(prompt, b"")
        buf = b""
        while True:
            if isinstance(session, _V2Session):
                try:
                    ident, length = struct.unpack("<BI", stream.read_exact(5))
                    data = stream.read_exact(length)
                except StreamClosed:
                    return
                if ident == 4:
                    return
                if ident != 0:
                    continue
            else:
                data = stream.read()
                if not data:
                    return
            buf += data
            while b"\n" in buf or b"\r" in buf:
                line, _, buf = buf.replace(b"\r\n", b"\n").replace(b"\r", b"\n").partition(b"\n")
                text = line.decode("utf-8", "replace").strip()
                if text in ("exit", "logout"):
                    if isinstance(session, _V2Session):
                        session.exit(0)
                    return
                if text:
                    shell.run(text)
                session.emit(prompt, b"")


def serve_rack(
    devices: list[Device], base_port: int = 7401, host: str = "127.0.0.1", **phone: object
) -> list[AdbFront]:
    """N devices on consecutive ports: a virtual rack (`phone`: clock_scale, speed, clock_methods)."""
    fronts = []
    try:
        for i, dev in enumerate(devices):
            fronts.append(AdbFront(dev, base_port + i, host, **phone).start())  # type: ignore[arg-type]
    except OSError:
        for f in fronts:
            f.stop()
        raise
    return fronts
