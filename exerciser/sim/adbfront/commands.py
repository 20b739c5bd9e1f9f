"""The phone's commands as `adb shell` runs them: getprop, wm, pm, am, monkey, input, screencap, uiautomator,
dumpsys, pidof, ps, date, logcat, settings, ime, app_process, screenrecord ... emulated on a `Phone`.

Outputs follow what Android prints (the lines clients parse); failures follow Android's wording and exit
status (an unknown package to `pm grant` is a Java exception text and status 255, an unknown command is
`/system/bin/sh: X: not found` and 127).
"""

from __future__ import annotations

import itertools
import re
import threading
import time

from exerciser.device.contract import DeviceError, DeviceLost, Key
from exerciser.sim.adbfront import dumpsys, syspkgs
from exerciser.sim.adbfront.keyguard import KEYGUARD_WINDOW, SYSTEMUI
from exerciser.sim.adbfront.phone import KEYCODES, SYSTEM_SERVER_PID, Phone
from exerciser.sim.adbfront.pmcmd import PackageManagerCommand
from exerciser.sim.adbfront.shell import BUILTINS, Command, Ctx
from exerciser.sim.adbfront.sysinfo import ADBD_PID, Proc, make_system_commands, native_processes

U2_MAIN = "com.wetest.uia2.Main"
SYSTEM_IME = "com.android.inputmethod.latin/.LatinIME"  # the image's own keyboard (LatinIME)
_APP_PIDS = itertools.count(6011, 17)  # each app_process gets its own pid
# monkey options that take a value (the event count is the number that is no option's value)
_MONKEY_VALUED = {
    "-p",
    "-c",
    "-s",
    "--throttle",
    "--pct-touch",
    "--pct-motion",
    "--pct-trackball",
    "--pct-nav",
    "--pct-majornav",
    "--pct-syskeys",
    "--pct-appswitch",
    "--pct-anyevent",
    "--pct-flip",
    "--pct-pinchzoom",
    "--pct-rotation",
    "--pkg-blacklist-file",
    "--pkg-whitelist-file",
    "--randomize-throttle",
}


def make_commands(phone: Phone) -> dict[str, Command]:
    """Command table bound to one phone."""

    def getprop(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        if not args:
            for k in sorted(phone.props):
                ctx.print(f"[{k}]: [{phone.props[k]}]")
            return 0
        ctx.print(phone.props.get(args[0], args[1] if len(args) > 1 else ""))
        return 0

    def setprop(ctx: Ctx) -> int:
        if len(ctx.argv) < 3:
            ctx.eprint("setprop: Need 2 arguments")
            return 1
        if ctx.argv[1].startswith("ro."):
            ctx.eprint(f"Failed to set property '{ctx.argv[1]}' to '{ctx.argv[2]}'.")
            return 1
        phone.props[ctx.argv[1]] = ctx.argv[2]
        return 0

    def wm(ctx: Ctx) -> int:
        # WindowManagerShellCommand: runDisplaySize / runDisplayDensity and their print functions
        sub = ctx.argv[1] if len(ctx.argv) > 1 else ""
        arg = ctx.argv[2] if len(ctx.argv) > 2 else None
        if sub not in ("size", "density"):
            ctx.eprint("Error: unknown command '" + sub + "'")
            return 255
        pw, ph, pd = phone.physical_display
        info = phone.info
        if arg is None or arg == "-d":
            if sub == "size":
                ctx.print(f"Physical size: {pw}x{ph}")
                if (info.width, info.height) != (pw, ph):
                    ctx.print(f"Override size: {info.width}x{info.height}")
            else:
                ctx.print(f"Physical density: {pd}")
                if info.density != pd:
                    ctx.print(f"Override density: {info.density}")
            return 0
        if arg == "reset":
            # through the phone: the screen it caches is redrawn at the panel's own size
            phone.call("override_display", *(((0, 0), None) if sub == "size" else (None, 0)))
            return 0
        if sub == "density":
            try:
                density = int(arg)
            except ValueError:
                ctx.eprint(f'Error: bad number java.lang.NumberFormatException: For input string: "{arg}"')
                return 255
            if density < 72:
                ctx.eprint("Error: density must be >= 72")
                return 255
            phone.call("override_display", None, density)
            return 0
        w, _, h = arg.partition("x")
        if not w or not h:
            ctx.eprint("Error: bad size " + arg)
            return 255
        try:
            size = (_wm_dimension(w, info.density), _wm_dimension(h, info.density))
        except ValueError as exc:
            ctx.eprint(f"Error: bad number java.lang.NumberFormatException: {exc}")
            return 255
        phone.call("override_display", size, None)
        return 0

    # --- pm --------------------------------------------------------------------------------------
    pm_command = PackageManagerCommand(phone)

    def pm(ctx: Ctx) -> int:
        def dump(c: Ctx, rest: list[str]) -> int:
            return dumpsys_cmd(Ctx(["dumpsys", "package", *rest], b"", c.shell, c.env, c.out, c.err))

        return pm_command(ctx, dump)

    # --- am / monkey -----------------------------------------------------------------------------
    def am(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        sub = args[0] if args else ""
        rest = args[1:]
        if sub == "force-stop":
            pkg = next((a for a in rest if not a.startswith("-") and not a.isdigit()), "")
            if pkg and pkg == phone.state.uiautomation_holder:
                phone.state.uiautomation_holder = ""
            if pkg in phone.installed():
                phone.call("app_stop", pkg)
            return 0
        if sub == "kill":
            pkg = next((a for a in rest if not a.startswith("-") and not a.isdigit()), "")
            if pkg in phone.installed() and phone.focus()[0] != pkg:
                phone.call("app_stop", pkg)  # am kill only kills background processes
            return 0
        if sub in ("start", "start-activity"):
            return _am_start(ctx, rest)
        if sub == "broadcast":
            from exerciser.sim.adbfront.helpers import broadcast

            action, extras = "", {}
            i = 0
            while i < len(rest):
                if rest[i] == "-a" and i + 1 < len(rest):
                    action = rest[i + 1]
                    i += 1
                elif rest[i] in ("--es", "--ei", "--ez", "--el", "--ef") and i + 2 < len(rest):
                    extras[rest[i + 1]] = rest[i + 2]
                    i += 2
                i += 1
            has = " (has extras)" if extras else ""
            # FLAG_RECEIVER_FROM_SHELL 0x400000 (ActivityManagerShellCommand.runSendBroadcast)
            ctx.print(f"Broadcasting: Intent {{ act={action} flg=0x400000{has} }}")
            ctx.print(f"Broadcast completed: result={broadcast(phone, action, extras)}")
            return 0
        if sub == "get-current-user":
            ctx.print("0")
            return 0
        if sub == "stack" or sub == "task":
            return 0
        ctx.eprint(f"Error: Unknown command: {sub}" if sub else "usage: am [start|force-stop|kill|broadcast]")
        return 255 if sub else 1

    def _am_start(ctx: Ctx, rest: list[str]) -> int:
        """ActivityManagerShellCommand.runStartActivity: "Starting: Intent {...}", the result's error
        text ("Error type 3" for a missing class) on stderr, or on stdout with -W, then -W's
        Status / LaunchState / Activity / TotalTime / WaitTime / Complete; exit status 0 either way."""
        opts: dict[str, str] = {}
        i = 0
        wait = stop = False
        comp = ""
        while i < len(rest):
            a = rest[i]
            if a == "-W":
                wait = True
            elif a == "-S":
                stop = True
            elif a in ("-n", "-a", "-c", "-d", "-t", "-f", "--user", "-p") and i + 1 < len(rest):
                opts[a] = rest[i + 1]
                i += 1
            elif a.startswith("--e") and i + 2 < len(rest):
                i += 2
            elif not a.startswith("-") and "/" in a:
                comp = a  # the component may be given bare as the last argument
            i += 1
        comp = opts.get("-n", comp)
        desc = []
        if "-a" in opts:
            desc.append(f"act={opts['-a']}")
        if "-c" in opts:
            desc.append(f"cat=[{opts['-c']}]")
        if "-d" in opts:
            desc.append(f"dat={opts['-d']}")
        pkg, _, cls = comp.partition("/")
        if comp:
            full = pkg + cls if cls.startswith(".") else cls
            desc.append(f"cmp={pkg}/{dumpsys.short_activity(pkg, full)}")
        intent = f"Intent {{ {' '.join(desc)} }}"
        ctx.print(f"Starting: {intent}")
        out = ctx.print if wait else ctx.eprint
        if not comp:
            if opts.get("-a") == "android.intent.action.VIEW" and "-d" in opts:
                return 0  # the browser takes it (no app of the device is chosen here)
            from exerciser.sim.adbfront.sysintents import start_action

            if start_action(phone, opts.get("-a", "")) is not None:
                return 0
            out(f"Error: Activity not started, unable to resolve {intent}")
            return 0
        if pkg not in phone.installed() or pkg in phone.disabled or not _has_activity(pkg, full):
            out("Error type 3")
            out(f"Error: Activity class {{{pkg}/{full}}} does not exist.")
            return 0
        if stop:
            ctx.print(f"Stopping: {pkg}")
            phone.call("app_stop", pkg)
        was_alive = phone.pid_of(pkg) is not None
        was_front = phone.focus() == (pkg, full)
        t0 = phone.now_ms()
        phone.add_log(
            "main",
            SYSTEM_SERVER_PID,
            "I",
            "ActivityTaskManager" if phone.info.api_level >= 29 else "ActivityManager",
            f"START u0 {{{' '.join([*desc[:-1], 'flg=0x10000000', desc[-1]])}}} from uid 2000",
        )
        if hasattr(phone.device, "start_activity"):
            phone.call("start_activity", pkg, full)
        else:
            phone.call("app_start", pkg)
        if was_front:
            out("Warning: Activity not started, its current task has been brought to the front")
        if wait:
            pkg_now, act_now = phone.focus()
            took = max(1, phone.now_ms() - t0)
            state = "HOT" if was_front else "WARM" if was_alive else "COLD"
            ctx.print("Status: ok")
            ctx.print(f"LaunchState: {state}")  # WaitResult.launchStateToString (Android 10+)
            ctx.print(f"Activity: {pkg_now}/{dumpsys.short_activity(pkg_now, act_now)}")
            ctx.print(f"TotalTime: {took}")
            ctx.print(f"WaitTime: {took + 3}")
            ctx.print("Complete")
        return 0

    def _has_activity(pkg: str, full: str) -> bool:
        model = phone.app_model(pkg)
        screens = getattr(model, "screens", None)
        if not isinstance(screens, dict):  # a device that tells no activities: its launcher one only
            return full == phone.app_meta(pkg)["launcher_activity"]
        return any(getattr(sc, "activity", "") == full for sc in screens.values())

    def monkey(ctx: Ctx) -> int:
        """development/cmds/monkey: the first event switches to the package's launcher activity, the
        rest are touches at seeded random points, kept inside the allowed packages (an app that leaves
        them is switched back to). -v raises the verbosity; the last number is the event count."""
        import random

        args = ctx.argv[1:]
        for a in args:
            ctx.print(f"  bash arg: {a}")
        pkgs = [args[i + 1] for i, a in enumerate(args) if a == "-p" and i + 1 < len(args)]
        verbose = sum(a.count("v") for a in args if re.fullmatch(r"-v+", a))
        seed_arg = args[args.index("-s") + 1] if "-s" in args and args.index("-s") + 1 < len(args) else ""
        seed = int(seed_arg) if seed_arg.isdigit() else int(phone.now_ms())
        nums = [
            a for k, a in enumerate(args) if a.isdigit() and (k == 0 or args[k - 1] not in _MONKEY_VALUED)
        ]
        count = int(nums[-1]) if nums else 1
        if not pkgs or any(p not in phone.installed() or p in phone.disabled for p in pkgs):
            ctx.print("** No activities found to run, monkey aborted.")
            return 252
        if verbose:
            ctx.print(f":Monkey: seed={seed} count={count}")
            for p in pkgs:
                ctx.print(f":AllowPackage: {p}")
            ctx.print(":IncludeCategory: android.intent.category.LAUNCHER")
            ctx.print(":IncludeCategory: android.intent.category.MONKEY")
        rng = random.Random(seed)
        t0 = time.perf_counter()
        w, h = phone.info.width, phone.info.height
        for n in range(count):
            pkg_now = phone.focus()[0]
            if n == 0 or pkg_now not in pkgs:
                pkg = pkgs[0] if n == 0 else rng.choice(pkgs)
                act = phone.app_meta(pkg)["launcher_activity"]
                cmp = f"{pkg}/{dumpsys.short_activity(pkg, act)}"
                if verbose:
                    ctx.print(
                        ":Switch: #Intent;action=android.intent.action.MAIN;category=android.intent.category."
                        f"LAUNCHER;launchFlags=0x10200000;component={cmp};end"
                    )
                    ctx.print(
                        "    // Allowing start of Intent { act=android.intent.action.MAIN "
                        f"cat=[android.intent.category.LAUNCHER] cmp={cmp} }}"
                        f" in package {pkg}"
                    )
                phone.call("app_start", pkg)
                continue
            x, y = rng.randrange(w), rng.randrange(h // 20, h - h // 20)  # clear of status and nav bars
            if verbose:
                ctx.print(f":Sending Touch (ACTION_DOWN): 0:({x:.1f},{y:.1f})")
                ctx.print(f":Sending Touch (ACTION_UP): 0:({x:.1f},{y:.1f})")
            phone.tap(x, y)
        ctx.print(f"Events injected: {count}")
        if verbose:
            ctx.print(":Dropped: keys=0 pointers=0 trackballs=0 flips=0 rotations=0")
        ms = int((time.perf_counter() - t0) * 1000) + 12
        ctx.print(f"## Network stats: elapsed time={ms}ms (0ms mobile, 0ms wifi, {ms}ms not connected)")
        if verbose:
            ctx.print("// Monkey finished")
        return 0

    # --- input -----------------------------------------------------------------------------------
    def input_cmd(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        while args and (
            args[0] in ("touchscreen", "keyboard", "mouse", "touchpad", "dpad") or args[0] == "-d"
        ):
            args = args[2:] if args[0] == "-d" else args[1:]
        if not args:
            ctx.eprint("Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]")
            return 1
        sub, rest = args[0], args[1:]
        try:
            if sub == "tap":
                phone.tap(int(float(rest[0])), int(float(rest[1])))
            elif sub in ("swipe", "draganddrop"):
                x1, y1, x2, y2 = (int(float(v)) for v in rest[:4])
                dur = int(rest[4]) if len(rest) > 4 else 300
                if sub == "swipe" and (x1, y1) == (x2, y2):
                    phone.tap(x1, y1, dur)  # the classic long-press idiom
                else:
                    phone.swipe(x1, y1, x2, y2, dur)
                # InputShellCommand injects the moves over `dur` ms: the command returns after them
                time.sleep(min(dur, 10_000) / 1000)
            elif sub == "keyevent":
                for k in rest:
                    if k.startswith("--"):
                        continue
                    code = _keycode(k)
                    if code is None:
                        ctx.eprint(f"Error: Unknown keycode: {k}")
                        return 1
                    phone.press_keycode(code)
            elif sub == "text":
                phone.type_text(" ".join(rest).replace("%s", " "))
            else:
                ctx.eprint(f"Error: Unknown command: {sub}")
                return 1
        except (IndexError, ValueError):
            ctx.eprint(f"Error: Invalid arguments for command: {sub}")
            return 1
        return 0

    # --- screen ------------------------------------------------------------------------------------
    def screencap(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        files = [a for a in args if not a.startswith("-")]
        if "-d" in args:
            files = (
                [a for a in files if a != args[args.index("-d") + 1]]
                if args.index("-d") + 1 < len(args)
                else files
            )
        obs = phone.observation()
        png = "-p" in args or (files and files[0].endswith(".png"))
        if png:
            data = obs.png
        else:
            from io import BytesIO

            from PIL import Image

            img = Image.open(BytesIO(obs.png)).convert("RGBA")
            header = (
                img.width.to_bytes(4, "little") + img.height.to_bytes(4, "little") + (1).to_bytes(4, "little")
            )
            if phone.info.api_level >= 28:
                header += (1).to_bytes(4, "little")  # dataspace: COLORSPACE_SRGB (screencap.cpp)
            data = header + img.tobytes()
        if files:
            err = phone.fs.write(files[0], data)
            if err:
                ctx.eprint(f"Error opening file: {files[0]} ({err})")
                return 1
        else:
            ctx.out += data
        return 0

    def uiautomator(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        if not args or args[0] != "dump":
            ctx.eprint(
                "Usage: uiautomator <subcommand> [options]\n\nAvailable subcommands:\n\n"
                "help: displays help message\n\nruntest: executes UI automation tests\n\n"
                "dump: creates an XML dump of current UI hierarchy\n\nevents: prints out accessibility events"
            )
            return 1
        target = next((a for a in args[1:] if not a.startswith("-")), "/sdcard/window_dump.xml")
        if phone.u2_processes:
            # one UiAutomation connection at a time: the running u2 server holds it
            ctx.eprint(
                "java.lang.IllegalStateException: UiAutomationService "
                "android.accessibilityservice.IAccessibilityServiceClient$Stub$Proxy@3fa6b3e"
                " already registered!"
            )
            return 255
        xml = phone.observation().xml
        if target == "/dev/tty":
            ctx.out += xml.encode()
        else:
            phone.fs.write(target, xml.encode())
        ctx.print(f"UI hierchary dumped to: {target}")
        return 0

    # --- dumpsys -----------------------------------------------------------------------------------
    def dumpsys_cmd(ctx: Ctx) -> int:
        args = ctx.argv[1:]
        svc = args[0] if args else ""
        rest = args[1:]
        if svc == "package":
            pkg = next((a for a in rest if not a.startswith("-")), "")
            if not pkg:
                for p in phone.installed():
                    ctx.print(f"  Package [{p}] ({dumpsys._h(p, phone.uid_of(p))}):")
                return 0
            sys_pkg = phone.system_package(pkg)
            if pkg not in phone.installed() and sys_pkg is None:
                ctx.print(f"Unable to find package: {pkg}")
                return 0
            if sys_pkg is not None:
                ctx.out += dumpsys.package(
                    pkg,
                    uid=sys_pkg.uid,
                    version_name=phone.props["ro.build.version.release"],
                    version_code=phone.info.api_level,
                    target_sdk=phone.info.api_level,
                    min_sdk=phone.info.api_level,
                    launcher_activity=getattr(phone.profile, "launcher_activity", "") or f"{pkg}.Main",
                    requested=[],
                    install_granted=[],
                    runtime=[],
                    installed_ms=1_230_768_000_000,  # 2009-01-01: a system image's timestamp
                    stopped=False,
                    apk=sys_pkg.path,
                    app_flags=sys_pkg.flags,
                ).encode()
                return 0
            meta = phone.app_meta(pkg)
            perms = phone.permissions(pkg)
            requested = list(meta["requested"] or perms)
            install = [p for p in requested if p not in perms]
            ctx.out += dumpsys.package(
                pkg,
                uid=phone.uid_of(pkg),
                version_name=str(meta["version_name"]),
                version_code=int(meta["version_code"]),
                target_sdk=int(meta["target_sdk"]),
                min_sdk=int(meta["min_sdk"]),
                launcher_activity=str(meta["launcher_activity"]),
                requested=requested,
                install_granted=install,
                runtime=perms.values(),
                installed_ms=phone.installed_ms(pkg),
                stopped=phone.pid_of(pkg) is None,
                user_sensitive=phone.info.api_level >= syspkgs.flag_bits()["user_sensitive_from_api"],
            ).encode()
            return 0
        if svc == "window":
            # `dumpsys window` alone prints every section; `windows` / `displays` one each
            pkg, act = phone.focus()
            title = window_title(pkg, act, phone.crash_owner())
            api = phone.info.api_level
            part = rest[0] if rest else ""
            text = ""
            if part in ("", "windows", "w"):
                text += dumpsys.window_windows(pkg, act, title, api)
            if part in ("", "displays", "d"):
                info = phone.info
                text += dumpsys.window_displays(
                    pkg, act, title, info.width, info.height, info.density, api, phone.physical_display
                )
            if part in ("", "policy", "p", "windows", "w"):
                locked = not phone.state.screen_on or phone.state.locked
                text += f"  mShowingLockscreen={str(locked).lower()} mShowingDream=false "
                text += f"mDreamingLockscreen={str(locked).lower()}\n"
                text += "  isStatusBarKeyguard=true\n" if locked else ""
            ctx.out += text.encode()
            return 0
        if svc == "activity":
            pkg, act = phone.focus()
            if rest[:1] == ["top"]:
                ctx.out += dumpsys.activity_top(pkg, act or pkg, phone.pid_of(pkg) or 0).encode()
            else:
                ctx.out += _activities(pkg, act).encode()
            return 0
        if svc == "power":
            ctx.out += dumpsys.power(phone.state.screen_on).encode()
            return 0
        if svc == "display":
            i = phone.info
            ctx.out += dumpsys.display(i.width, i.height, i.density, phone.physical_display).encode()
            return 0
        if svc == "battery":
            ctx.out += (
                b"Current Battery Service state:\n  AC powered: false\n  USB powered: true\n"
                b"  Wireless powered: false\n  status: 2\n  health: 2\n  present: true\n  level: 100\n"
                b"  scale: 100\n  voltage: 4300\n  temperature: 250\n  technology: Li-ion\n"
            )
            return 0
        if svc in ("input_method", "deviceidle", "SurfaceFlinger", "meminfo", "cpuinfo", "user"):
            return 0
        ctx.print(f"Can't find service: {svc}")
        return 0

    def _activities(pkg: str, act: str) -> str:
        home = (phone.launcher_package, getattr(phone.profile, "launcher_activity", "") or "")
        listing = getattr(phone.device, "task_list", None)
        if callable(listing):
            with phone.lock:
                raw = listing()
            tasks = [(tid, phone.uid_of(owner), owner, acts) for tid, owner, acts in raw]
        else:  # a device that tells no tasks: the app in front as the one task
            tasks = [(12, phone.uid_of(pkg), pkg, [(pkg, act or pkg)])] if pkg != home[0] else []
        front = bool(tasks) and any(a == (pkg, act) for a in tasks[0][3][-1:])
        return dumpsys.activity_activities(tasks, home, phone.state.locked, front)

    # --- processes, time, logs ---------------------------------------------------------------------
    def pidof(ctx: Ctx) -> int:
        """toybox pidof: the processes named so (apps by package, and system_server, zygote64, adbd...)."""
        pids = []
        for name in (a for a in ctx.argv[1:] if not a.startswith("-")):
            try:
                pid = phone.pid_of(name)
            except DeviceError:  # no such package: maybe a native process
                pid = next((p.pid for p in native_processes() if p.name == name), None)
            if pid:
                pids.append(str(pid))
        if not pids:
            return 1
        ctx.print(" ".join(pids))
        return 0

    def logcat(ctx: Ctx) -> int:
        from exerciser.sim.adbfront.logcat import logcat_command

        return logcat_command(phone, ctx)

    def settings(ctx: Ctx) -> int:
        args = list(ctx.argv[1:])
        while "--user" in args:  # --user USER_ID|current (a value "0" is a value, not a user)
            i = args.index("--user")
            del args[i : i + 2]
        if (
            len(args) < 3
            or args[0] not in ("get", "put", "delete", "list")
            and not (args[0] == "list" and len(args) == 2)
        ):
            if args[:1] == ["list"] and len(args) == 2:
                for k, v in sorted(phone.state.settings.get(args[1], {}).items()):
                    ctx.print(f"{k}={v}")
                return 0
            ctx.eprint("usage: settings [--user <USER_ID> | current] get namespace key")
            return 1
        op, ns, key = args[0], args[1], args[2]
        table = phone.state.settings.setdefault(ns, {})
        if op == "get":
            ctx.print(table.get(key, "null"))
        elif op == "put":
            table[key] = args[3] if len(args) > 3 else ""
        elif op == "delete":
            table.pop(key, None)
        return 0

    def ime(ctx: Ctx) -> int:
        """InputMethodManagerService's shell command: list [-a] [-s], enable, disable, set. The
        enabled set is Settings.Secure enabled_input_methods (colon separated), as on a phone."""
        from exerciser.sim.adbfront.helpers import available_imes

        args = ctx.argv[1:]
        sub = args[0] if args else ""
        secure = phone.state.settings.setdefault("secure", {})
        default = secure.get("default_input_method", "")
        installed = [SYSTEM_IME, *available_imes(phone)]
        enabled = [i for i in secure.get("enabled_input_methods", default).split(":") if i]
        ident = next((a for a in args[1:] if not a.startswith("-")), "")
        if sub == "list":
            shown = installed if "-a" in args else [i for i in installed if i in enabled]
            for i in shown:
                ctx.print(i if "-s" in args else f"{i}:\n  mId={i} mSettingsActivity=null")
            return 0
        if sub in ("enable", "disable", "set") and ident not in installed:
            verb = {"enable": "enabled", "disable": "disabled", "set": "selected"}[sub]
            ctx.eprint(f"Unknown input method {ident} cannot be {verb} for user #0")
            return 255
        if sub == "enable":
            ctx.print(f"Input method {ident}: {'already' if ident in enabled else 'now'} enabled for user #0")
            enabled = enabled + [ident] if ident not in enabled else enabled
        elif sub == "disable":
            ctx.print(
                f"Input method {ident}: {'now' if ident in enabled else 'already'} disabled for user #0"
            )
            enabled = [i for i in enabled if i != ident]
            if default == ident and installed:  # the system falls back to its own keyboard
                secure["default_input_method"] = installed[0]
        elif sub == "set":
            secure["default_input_method"] = ident
            ctx.print(f"Input method {ident} selected for user #0")
        else:
            ctx.eprint(
                "ime <command>:\n  list [-a] [-s]\n  enable [--user <USER_ID>] <ID>\n"
                "  disable [--user <USER_ID>] <ID>\n  set [--user <USER_ID>] <ID>"
            )
            return 255 if sub else 1
        secure["enabled_input_methods"] = ":".join(enabled)
        return 0

    def statusbar(ctx: Ctx) -> int:
        """`cmd statusbar` (StatusBarShellCommand): expand-notifications, expand-settings, collapse."""
        sub = ctx.argv[1] if len(ctx.argv) > 1 else ""
        if sub == "expand-notifications":
            phone.open_shade("notifications")
        elif sub == "expand-settings":
            phone.open_shade("quick_settings")
        elif sub == "collapse":
            phone.collapse_shade()
        else:
            ctx.eprint(
                f"Unknown command: {sub}"
                if sub
                else "Status bar commands:\n  help\n    Print this help text."
            )
            return 255 if sub else 1
        return 0

    def cmd(ctx: Ctx) -> int:
        svc = ctx.argv[1] if len(ctx.argv) > 1 else ""
        table = {
            "package": pm,
            "activity": am,
            "window": wm,
            "input": input_cmd,
            "settings": settings,
            "statusbar": statusbar,
        }
        fn = table.get(svc)
        if fn is None:
            ctx.eprint(f"cmd: Can't find service: {svc}")
            return 20
        name = {"package": "pm", "activity": "am", "window": "wm"}.get(svc, svc)
        return fn(Ctx([name, *ctx.argv[2:]], ctx.stdin, ctx.shell, ctx.env, ctx.out, ctx.err))

    def app_process(ctx: Ctx) -> int:
        """Only the uiautomator2 server is known: it serves tcp:9008 while this shell stream lives."""
        if U2_MAIN not in ctx.argv:
            ctx.eprint("Error: Could not find class '" + (ctx.argv[-1] if len(ctx.argv) > 1 else "") + "'")
            return 1
        jar = ctx.env.get("CLASSPATH", "")
        if not jar or phone.fs.get(jar) is None:
            ctx.eprint(f"Error: Could not find class '{U2_MAIN}'")
            return 1
        session = ctx.shell.session
        if session is None:
            return 0
        if phone.state.uiautomation_holder:  # another UiAutomation client (Appium, a stale server)
            session.emit(
                b"[server] INFO: [UiAutomator2Server] Starting Server\n",
                b"java.lang.IllegalStateException: UiAutomationService android.accessibilityservice."
                b"IAccessibilityServiceClient$Stub$Proxy@5deffd5already registered!\n",
            )
            return 1
        proc = Proc("shell", next(_APP_PIDS), ADBD_PID, "app_process", " ".join(ctx.argv), threading.Event())
        with phone.lock:
            phone.u2_processes += 1
            phone.u2_launches += 1
            phone.u2_wedged = phone.u2_wedge_always  # a new process is not wedged unless told
            phone.u2_ready_at = time.monotonic() + phone.u2_boot_s
            phone.procs[proc.pid] = proc
        try:
            session.emit(
                b"[server] INFO: [UiAutomator2Server] Starting Server\n"
                b'SLF4J: Failed to load class "org.slf4j.impl.StaticLoggerBinder".\n',
                b"",
            )
            # runs until the client closes the stream, `kill PID` ends it, or the server "dies"
            # (tests set u2_processes to 0)
            while not session.stream.wait_closed(0.2):
                if proc.stop.is_set() or phone.u2_processes == 0:
                    break
        finally:
            with phone.lock:
                phone.procs.pop(proc.pid, None)
                if phone.u2_processes != 0:
                    phone.u2_processes = max(0, phone.u2_processes - 1)
        return 143

    def screenrecord(ctx: Ctx) -> int:
        from exerciser.sim.adbfront.recorder import screenrecord_command

        return screenrecord_command(phone, ctx)

    def proc(ctx: Ctx) -> int:
        path = ctx.argv[1]
        if path == "/proc/uptime":
            # monotonic, as elapsedRealtime: setting the wall clock does not move it
            up = (phone.clock.network_ms() - phone.boot_ms) / 1000 if hasattr(phone, "boot_ms") else 3600.0
            ctx.print(f"{up:.2f} {up * 3.1:.2f}")
            return 0
        if path == "/proc/meminfo":
            ctx.print("MemTotal:        5930000 kB\nMemFree:          812000 kB\nMemAvailable:    2900000 kB")
            return 0
        if path == "/proc/version":
            ctx.print("Linux version 5.15.110-android14-11 (build-user@build-host) #1 SMP PREEMPT")
            return 0
        if path == "/proc/cpuinfo":
            ctx.print("processor\t: 0\nHardware\t: virtual")
            return 0
        m = re.fullmatch(r"/proc/(\d+)/(cmdline|stat|status)", path)
        if m:
            pid = int(m.group(1))
            for p in phone.installed():
                if phone.pid_of(p) == pid:
                    ctx.out += p.encode() + (b"\0" if m.group(2) == "cmdline" else b"\n")
                    return 0
        return 1

    table = {
        "getprop": getprop,
        "setprop": setprop,
        "wm": wm,
        "pm": pm,
        "am": am,
        "monkey": monkey,
        "input": input_cmd,
        "screencap": screencap,
        "uiautomator": uiautomator,
        "dumpsys": dumpsys_cmd,
        "pidof": pidof,
        "logcat": logcat,
        "settings": settings,
        "ime": ime,
        "cmd": cmd,
        "app_process": app_process,
        "screenrecord": screenrecord,
        "__proc__": proc,
        "reboot": lambda ctx: 0,
    }
    table.update(make_system_commands(phone))
    from exerciser.sim.adbfront.timecmds import time_commands

    table.update(time_commands(phone, table))  # date, sleep, su, cmd alarm
    # /system/bin lists the commands the shell runs (toybox applets and the framework's tools); `su` only
    # on a rooted phone
    hidden = _SH_BUILTINS | (set() if "root" in phone.clock_methods else {"su"})
    for name in sorted(set(table) | set(BUILTINS)):
        if re.fullmatch(r"[a-z][\w.-]*", name) and name not in hidden:
            phone.fs.write(f"/system/bin/{name}", b"", mode=0o755)
    phone.fs.write("/system/bin/sh", b"", mode=0o755)
    return table


# mksh builtins: no file in /system/bin
_SH_BUILTINS = {"cd", "pwd", "read", "exit", "export", "exec", "command", "wait", "test", "["}


def window_title(package: str, activity: str, crash_owner: str = "") -> str | None:
    """Title of a focused window that is not an activity (None for an activity: `pkg/cls` is shown)."""
    if package == "android" and activity.endswith(("AppErrorDialog", "AppNotRespondingDialog")):
        kind = "Application Error" if activity.endswith("AppErrorDialog") else "Application Not Responding"
        return f"{kind}: {crash_owner or 'android'}"
    if activity:
        return None
    if package == SYSTEMUI:
        return KEYGUARD_WINDOW
    return package or "StatusBar"


def _keycode(k: str) -> int | None:
    if k.isdigit():
        return int(k)
    name = k.upper().removeprefix("KEYCODE_")
    return KEYCODES.get(name)


__all__ = ["make_commands", "U2_MAIN", "Key", "DeviceLost"]


def _wm_dimension(s: str, density: int) -> int:
    """WindowManagerShellCommand.parseDimension: pixels, or "dp" at the current density."""
    if s.endswith("px"):
        return _java_int(s[:-2])
    if s.endswith("dp"):
        return _java_int(s[:-2]) * density // 160
    return _java_int(s)


def _java_int(s: str) -> int:
    if not s.lstrip("-").isdigit():
        raise ValueError(f'For input string: "{s}"')
    return int(s)
