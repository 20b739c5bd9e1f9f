"""adb front of the virtual device: the device side of the adb wire protocol over loopback TCP.

`AdbFront(device, port).start()` makes a virtual device reachable the way a phone is (`adb connect
127.0.0.1:PORT`), so the real adb server, adbutils and uiautomator2 drive it unchanged.
"""

from exerciser.sim.adbfront.server import AdbFront, serve_rack

__all__ = ["AdbFront", "serve_rack"]
