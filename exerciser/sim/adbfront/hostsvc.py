"""adbd services other than shell/sync/tcp: `reverse:`, `framebuffer:`, `tcpip:`/`usb:`.

Answers as packages/modules/adb does: `reverse:` requests go through the daemon's
handle_forward_request (adb.cpp), which on the device replies one "OKAY" (the host's second OKAY is
`#if ADB_HOST`) or "FAIL<hex4><message>", and lists listeners as a length-prefixed string of
`(reverse) <local> <remote>` lines (adb_listeners.cpp format_listeners); `framebuffer:` writes
daemon/framebuffer_service.cpp's fbinfo header (DDMS_RAWIMAGE_VERSION 2, with colorSpace) and the raw
RGBA pixels; `tcpip:PORT` answers "restarting in TCP mode port: PORT".
"""

from __future__ import annotations

import struct
import threading
from io import BytesIO

from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.wire import Stream

COLORSPACE_SRGB = 1  # screencap's dataspace code for sRGB (cmds/screencap/screencap.cpp)


class Reverses:
    """The device's reverse listeners: remote (on the device) -> local (on the host)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.table: dict[str, str] = {}

    def handle(self, request: str) -> bytes:
        with self._lock:
            if request == "list-forward":  # the daemon sends no OKAY here, only the string
                body = "".join(f"(reverse) {r} {loc}\n" for r, loc in self.table.items()).encode()
                return f"{len(body):04x}".encode() + body
            if request == "killforward-all":
                self.table.clear()
                return b"OKAY"
            if request.startswith("killforward:"):
                if self.table.pop(request[len("killforward:") :], None) is None:
                    return _fail("listener '" + request[len("killforward:") :] + "' not found")
                return b"OKAY"
            if request.startswith("forward:"):
                spec = request[len("forward:") :]
                norebind = spec.startswith("norebind:")
                spec = spec.removeprefix("norebind:")
                remote, sep, local = spec.partition(";")
                if not sep or not _valid(remote) or not _valid(local):
                    return _fail(f"cannot parse forward specification '{spec}'")
                if norebind and remote in self.table:
                    return _fail("cannot rebind existing socket")
                self.table[remote] = local
                return b"OKAY"
        return _fail(f"unknown reverse request '{request}'")


def _valid(spec: str) -> bool:
    kind, _, rest = spec.partition(":")
    if kind == "tcp":
        return rest.isdigit()
    return kind in ("localabstract", "localreserved", "localfilesystem", "dev", "jdwp") and bool(rest)


def _fail(message: str) -> bytes:
    data = message.encode()
    return b"FAIL" + f"{len(data):04x}".encode() + data


def framebuffer(phone: Phone) -> bytes:
    from PIL import Image

    img = Image.open(BytesIO(phone.observation().png)).convert("RGBA")
    pixels = img.tobytes()
    # version, bpp, colorSpace, size, width, height, then offset/length of red, blue, green, alpha
    header = struct.pack(
        "<14I", 2, 32, COLORSPACE_SRGB, len(pixels), img.width, img.height, 0, 8, 16, 8, 8, 8, 24, 8
    )
    return header + pixels


def serve_framebuffer(stream: Stream, phone: Phone) -> None:
    stream.write(framebuffer(phone))


def serve_tcpip(stream: Stream, phone: Phone, port: str) -> None:
    if not port.isdigit() or not 0 < int(port) < 65536:
        stream.write(f"invalid port {port}\n".encode())
        return
    phone.props["service.adb.tcp.port"] = port
    stream.write(f"restarting in TCP mode port: {port}\n".encode())
