"""`pm` / `cmd package` on the served device, after PackageManagerShellCommand
(frameworks/base services/core/java/com/android/server/pm/PackageManagerShellCommand.java).

list packages|permissions|permission-groups|features|instrumentation|users|libraries, path, dump, grant,
revoke, set-permission-flags, clear-permission-flags, reset-permissions, clear, enable, disable-user,
disable, install (-g grants every requested runtime permission), install-create / install-write /
install-commit / install-abandon (the session protocol `adb install-multiple` uses), uninstall.
Exceptions print as the shell command prints them: "Exception occurred while executing 'grant':" and
the Java exception with the permission service's own message.
"""

from __future__ import annotations

import itertools
from functools import cache

from exerciser import knowledge
from exerciser.device.contract import DeviceError
from exerciser.sim import profiles as P
from exerciser.sim.adbfront.phone import Phone
from exerciser.sim.adbfront.shell import Ctx

# SUPPORTED_PERMISSION_FLAGS of the shell command -> PackageManager.FLAG_PERMISSION_* names
SHELL_PERMISSION_FLAGS = {
    "user-set": "USER_SET",
    "user-fixed": "USER_FIXED",
    "revoked-compat": "REVOKED_COMPAT",
    "review-required": "REVIEW_REQUIRED",
    "revoke-when-requested": "REVOKE_WHEN_REQUESTED",
}
_SESSIONS = itertools.count(1_094_402_583, 7_919)  # install session ids (random ints on a phone)


@cache
def platform() -> dict:
    return knowledge.load("android/platform.yaml")


def _exception(ctx: Ctx, sub: str, java: str, message: str) -> int:
    ctx.eprint(f"Exception occurred while executing '{sub}':")
    ctx.eprint(f"{java}: {message}")
    return 255


class PackageManagerCommand:
    def __init__(self, phone: Phone) -> None:
        self.phone = phone
        self.sessions: dict[int, list[bytes]] = {}

    def __call__(self, ctx: Ctx, dump) -> int:
        args = list(ctx.argv[1:])
        while "--user" in args:  # the one user there is
            i = args.index("--user")
            del args[i : i + 2]
        sub, rest = (args[0], args[1:]) if args else ("", [])
        handler = {
            "list": self.list,
            "path": self.path,
            "grant": self.grant_revoke,
            "revoke": self.grant_revoke,
            "set-permission-flags": self.permission_flags,
            "clear-permission-flags": self.permission_flags,
            "reset-permissions": self.reset_permissions,
            "clear": self.clear,
            "enable": self.enable,
            "disable": self.enable,
            "disable-user": self.enable,
            "default-state": self.enable,
            "install": self.install,
            "install-create": self.install_create,
            "install-write": self.install_write,
            "install-commit": self.install_commit,
            "install-abandon": self.install_abandon,
            "uninstall": self.uninstall,
        }.get(sub)
        if sub == "dump":
            return dump(ctx, rest)
        if handler is None:
            if not sub:
                ctx.eprint("Package manager (package) commands:\n  help\n    Print this help text.")
                return 1
            ctx.eprint(f"Unknown command: {sub}")
            return 255
        return handler(ctx, sub, rest)

    # --- queries -----------------------------------------------------------------------------------
    def list(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        what = rest[0] if rest else ""
        opts = [a for a in rest[1:] if a.startswith("-")]
        if what == "packages":
            return self._list_packages(ctx, rest[1:])
        if what == "users":  # UserManagerService's shell `list`
            ctx.print("Users:")
            ctx.print(
                "\tUserInfo{0:Owner:c13} running"
                if self.phone.info.api_level >= 28
                else "\tUserInfo{0:Owner:13} running"
            )
            return 0
        if what == "features":
            for f in platform()["features"]:
                ctx.print(f"feature:{f}")
            ctx.print("feature:reqGlEsVersion=0x30002")
            return 0
        if what == "instrumentation":
            return 0  # no test APK installed
        if what == "libraries":
            ctx.print("library:android.test.base")
            ctx.print("library:android.test.mock")
            ctx.print("library:android.test.runner")
            ctx.print("library:javax.obex")
            ctx.print("library:org.apache.http.legacy")
            return 0
        if what == "permission-groups":
            for g in P.group_facts()["groups"]:
                ctx.print(f"permission group:android.permission-group.{g.upper()}")
            return 0
        if what == "permissions":
            dangerous = "-d" in opts
            ctx.print("Dangerous Permissions:" if dangerous else "All Permissions:")
            ctx.print("")
            names = [p["name"] for perms in P.group_facts()["groups"].values() for p in perms]
            if not dangerous:
                names += platform()["normal_permissions"]
            for name in names:
                ctx.print(f"permission:{name}")
            return 0
        ctx.print(f"Error: unknown list type '{what}'")
        return 255

    def _list_packages(self, ctx: Ctx, args: list[str]) -> int:
        phone = self.phone
        flags: set[str] = set()
        filt = ""
        for a in args:
            if a.startswith("-"):
                if a not in (
                    "-d",
                    "-e",
                    "-a",
                    "-f",
                    "-i",
                    "-l",
                    "-s",
                    "-U",
                    "-u",
                    "-3",
                    "--show-versioncode",
                ):
                    ctx.print(f"Error: Unknown option: {a}")
                    return 255
                flags.add(a)
            else:
                filt = a
        system = phone.system_packages()
        for p in sorted(set(system) | set(phone.installed()) | set(phone.helpers)):
            is_system = p in system
            enabled = p not in phone.disabled
            if filt and filt not in p:
                continue
            if ("-d" in flags and enabled) or ("-e" in flags and not enabled):
                continue
            if ("-s" in flags and not is_system) or ("-3" in flags and is_system):
                continue
            line = "package:"
            if "-f" in flags:
                line += phone.apk_path(p) + "="
            line += p
            if "--show-versioncode" in flags:
                line += f" versionCode:{phone.app_meta(p)['version_code'] if not is_system else 33}"
            if "-i" in flags:
                line += f"  installer={'com.android.shell' if not is_system else 'null'}"
            if "-U" in flags:
                line += f" uid:{phone.uid_of(p)}"
            ctx.print(line)
        return 0

    def path(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        if not rest:
            ctx.eprint("Error: no package specified")
            return 1
        p = rest[0]
        known = p in self.phone.installed() or p in self.phone.helpers
        if not known and self.phone.system_package(p) is None:
            return 1  # displayPackageFilePath: nothing printed
        ctx.print(f"package:{self.phone.apk_path(p)}")
        return 0

    # --- permissions -------------------------------------------------------------------------------
    def _check_permission(self, ctx: Ctx, sub: str, pkg: str, perm: str) -> int | None:
        """The permission service's checks, in its order: package, permission, requested, runtime."""
        phone = self.phone
        if pkg not in phone.installed() and phone.system_package(pkg) is None:
            return _exception(ctx, sub, "java.lang.IllegalArgumentException", f"Unknown package: {pkg}")
        known = P.perm_info(perm) is not None or perm in platform()["normal_permissions"]
        if not known:
            return _exception(ctx, sub, "java.lang.IllegalArgumentException", f"Unknown permission: {perm}")
        installed = pkg in phone.installed()
        requested = (phone.app_meta(pkg)["requested"] or list(phone.permissions(pkg))) if installed else []
        if perm not in requested:
            return _exception(
                ctx, sub, "java.lang.SecurityException", f"Package {pkg} has not requested permission {perm}"
            )
        if perm not in phone.permissions(pkg):
            return _exception(
                ctx,
                sub,
                "java.lang.SecurityException",
                f"Permission {perm} requested by {pkg} is not a changeable permission type",
            )
        return None

    def grant_revoke(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        if len(rest) < 2:
            ctx.eprint(f"Error: no {'package' if not rest else 'permission'} specified")
            return 1
        pkg, perm = rest[0], rest[1]
        failed = self._check_permission(ctx, sub, pkg, perm)
        if failed is not None:
            return failed
        try:
            self.phone.call(sub, pkg, perm)
        except DeviceError as exc:
            return _exception(ctx, sub, "java.lang.IllegalArgumentException", str(exc))
        return 0

    def permission_flags(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        if len(rest) < 2:
            ctx.eprint(f"Error: no {'package' if not rest else 'permission'} specified")
            return 1
        pkg, perm, names = rest[0], rest[1], rest[2:]
        flags = set()
        for n in names:
            if n not in SHELL_PERMISSION_FLAGS:
                ctx.print(f"Error: specified flag {n} is not one of [{', '.join(SHELL_PERMISSION_FLAGS)}]")
                return 1
            flags.add(SHELL_PERMISSION_FLAGS[n])
        failed = self._check_permission(ctx, sub, pkg, perm)
        if failed is not None:
            return failed
        if not callable(getattr(self.phone.device, "update_permission_flags", None)):
            return _exception(ctx, sub, "java.lang.UnsupportedOperationException", "permission flags")
        self.phone.call("update_permission_flags", pkg, perm, flags, sub == "set-permission-flags")
        return 0

    def reset_permissions(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        if callable(getattr(self.phone.device, "reset_permissions", None)):
            self.phone.call("reset_permissions")
        else:  # a device without the call: revoke one by one
            for pkg in self.phone.installed():
                for name, st in self.phone.permissions(pkg).items():
                    if st.granted:
                        self.phone.call("revoke", pkg, name)
        return 0

    # --- state -------------------------------------------------------------------------------------
    def clear(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        pkg = next((a for a in rest if not a.startswith("-")), "")
        if not pkg:
            ctx.eprint("Error: no package specified")
            return 1
        if pkg not in self.phone.installed():
            ctx.print("Failed")  # clearApplicationUserData reports no success for an unknown package
            return 1
        self.phone.call("app_clear", pkg)
        ctx.print("Success")
        return 0

    def enable(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        pkg = next((a for a in rest if not a.startswith("-")), "")
        if not pkg:
            ctx.eprint("Error: no package or component specified")
            return 1
        phone = self.phone
        if pkg not in phone.installed() and phone.system_package(pkg) is None:
            return _exception(ctx, sub, "java.lang.IllegalArgumentException", f"Unknown package: {pkg}")
        state = {"enable": "enabled", "default-state": "default", "disable": "disabled"}.get(
            sub, "disabled-user"
        )
        if state in ("enabled", "default"):
            phone.disabled.discard(pkg)
        else:
            if pkg in phone.system_packages() and pkg in ("android", "com.android.shell"):
                return _exception(
                    ctx, sub, "java.lang.SecurityException", f"Cannot disable a protected package: {pkg}"
                )
            phone.disabled.add(pkg)
            if pkg in phone.installed():
                phone.call("app_stop", pkg)  # a disabled app's processes are killed
        ctx.print(f"Package {pkg} new state: {state}")
        return 0

    # --- install -----------------------------------------------------------------------------------
    def install(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        paths = [a for a in rest if not a.startswith("-")]
        if "-S" in rest:  # the APK comes on stdin (cmd package install -S SIZE)
            size = int(rest[rest.index("-S") + 1])
            session = ctx.shell.session
            data = session.read_stdin(size) if session is not None else ctx.stdin[:size]
            return self._finish(ctx, data, "<stdin>", rest)
        if not paths:
            ctx.eprint("Error: must specify a APK file")
            return 1
        e = self.phone.fs.get(ctx.shell.path(paths[-1]))
        if e is None:
            ctx.eprint(f"Error: Unable to open file: {paths[-1]}")
            ctx.eprint("Consider using a file under /data/local/tmp/")
            return 1
        return self._finish(ctx, e.data, paths[-1], rest)

    def _finish(self, ctx: Ctx, data: bytes, name: str, opts: list[str]) -> int:
        from exerciser.sim.adbfront.install import install_blob

        msg = install_blob(self.phone, data, name)
        if msg.startswith("Success") and "-g" in opts:
            self._grant_all(msg)
        ctx.print(msg.split("\n", 1)[0] if msg.startswith("Success") else msg)
        return 0 if msg.startswith("Success") else 1

    def _grant_all(self, msg: str) -> None:
        """-g: grant every runtime permission the new package requests."""
        pkg = self.phone.last_installed
        if not pkg:
            return
        for name in self.phone.permissions(pkg):
            self.phone.call("grant", pkg, name)

    def install_create(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        sid = next(_SESSIONS)
        self.sessions[sid] = []
        self._session_opts = rest
        ctx.print(f"Success: created install session [{sid}]")
        return 0

    def install_write(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        size = int(rest[rest.index("-S") + 1]) if "-S" in rest else -1
        pos = [a for k, a in enumerate(rest) if not a.startswith("-") and (k == 0 or rest[k - 1] != "-S")]
        if len(pos) < 2 or not pos[0].isdigit() or int(pos[0]) not in self.sessions:
            return _exception(ctx, sub, "java.lang.IllegalArgumentException", "Invalid session")
        sid, _name = int(pos[0]), pos[1]
        src = pos[2] if len(pos) > 2 else "-"
        if src == "-":
            session = ctx.shell.session
            data = session.read_stdin(size) if session is not None and size >= 0 else ctx.stdin
        else:
            e = self.phone.fs.get(ctx.shell.path(src))
            if e is None:
                ctx.eprint(f"Error: Unable to open file: {src}")
                return 1
            data = e.data
        self.sessions[sid].append(data)
        ctx.print(f"Success: streamed {len(data)} bytes")
        return 0

    def install_commit(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        sid = int(rest[0]) if rest and rest[0].isdigit() else -1
        parts = self.sessions.pop(sid, None)
        if not parts:
            return _exception(
                ctx, sub, "java.lang.SecurityException", f"Caller has no access to session {sid}"
            )
        # the base APK carries the app; splits (config.*) add nothing the virtual device runs
        return self._finish(ctx, parts[0], "base.apk", getattr(self, "_session_opts", []))

    def install_abandon(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        sid = int(rest[0]) if rest and rest[0].isdigit() else -1
        self.sessions.pop(sid, None)
        ctx.print("Success")
        return 0

    def uninstall(self, ctx: Ctx, sub: str, rest: list[str]) -> int:
        pkg = next((a for a in rest if not a.startswith("-")), "")
        if self.phone.helpers.pop(pkg, None) is not None:
            ctx.print("Success")
            return 0
        fn = getattr(self.phone.device, "uninstall", None)
        if pkg not in self.phone.installed() or not callable(fn):
            ctx.print("Failure [DELETE_FAILED_INTERNAL_ERROR]")
            return 1
        self.phone.call("uninstall", pkg)
        ctx.print("Success")
        return 0
