"""Text of the system dumps a driver parses, in the layout Android prints them.

`dumpsys package PKG` (runtime permissions with `granted=` and `flags=[ A|B]`), `dumpsys window windows`
and `displays` (`mCurrentFocus=Window{hash u0 pkg/activity}`), `dumpsys activity top|activities`,
`dumpsys power`, `dumpsys display`. Only the lines clients read, around the structure they rely on.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable

from exerciser.device.contract import PermissionState
from exerciser.sim.adbfront import syspkgs


def _h(*parts: object) -> str:
    """Stable 7-hex identity hash, like Object.toHexString(System.identityHashCode(x))."""
    return hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()[:7]


def short_activity(package: str, activity: str) -> str:
    """com.x/com.x.Main -> .Main, as ActivityRecord prints it."""
    return "." + activity[len(package) + 1 :] if activity.startswith(package + ".") else activity


def _time(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def package(
    pkg: str,
    *,
    uid: int,
    version_name: str,
    version_code: int,
    target_sdk: int,
    min_sdk: int,
    launcher_activity: str,
    requested: Iterable[str],
    install_granted: Iterable[str],
    runtime: Iterable[PermissionState],
    installed_ms: int,
    stopped: bool,
    apk: str = "",
    app_flags: tuple[str, ...] = ("HAS_CODE", "ALLOW_CLEAR_USER_DATA", "ALLOW_BACKUP"),
    user_sensitive: bool = False,
) -> str:
    """One package's dump (PackageManagerService dumpPackageLPr layout). `apk`: the APK path (a
    system package's file under /system; default the app's /data/app directory); `user_sensitive`:
    the USER_SENSITIVE_WHEN_GRANTED|DENIED flags Android 10+ sets on an app's runtime permissions."""
    requested = list(requested)
    ph = _h(pkg, uid)
    code_path = apk.rsplit("/", 1)[0] if apk else code_dir(pkg)
    lines = [
        "Activity Resolver Table:",
        "  Non-Data Actions:",
        "      android.intent.action.MAIN:",
        f"        {_h(pkg, 'act')} {pkg}/{short_activity(pkg, launcher_activity)} filter {_h(pkg, 'flt')}",
        '          Action: "android.intent.action.MAIN"',
        '          Category: "android.intent.category.LAUNCHER"',
        "",
        "Key Set Manager:",
        f"  [{pkg}]",
        "      Signing KeySets: 51",
        "",
        "Packages:",
        f"  Package [{pkg}] ({ph}):",
        f"    userId={uid}",
        f"    pkg=Package{{{_h(pkg, 'pkg')} {pkg}}}",
        f"    codePath={code_path}",
        f"    resourcePath={code_path}",
        f"    legacyNativeLibraryDir={code_path}/lib",
        "    extractNativeLibs=false",
        "    primaryCpuAbi=null",
        "    secondaryCpuAbi=null",
        "    cpuAbiOverride=null",
        f"    versionCode={version_code} minSdk={min_sdk} targetSdk={target_sdk}",
        "    minExtensionVersions=[]",
        f"    versionName={version_name}",
        "    usesNonSdkApi=false",
        "    splits=[base]",
        "    apkSigningVersion=2",
        f"    flags={syspkgs.flags_text(app_flags)}",
        "    privateFlags=[ PRIVATE_FLAG_ACTIVITIES_RESIZE_MODE_RESIZEABLE_VIA_SDK_VERSION "
        "ALLOW_AUDIO_PLAYBACK_CAPTURE PRIVATE_FLAG_ALLOW_NATIVE_HEAP_POINTER_TAGGING ]",
        "    forceQueryable=false",
        f"    dataDir=/data/user/0/{pkg}",
        "    supportsScreens=[small, medium, large, xlarge, resizeable, anyDensity]",
        f"    timeStamp={_time(installed_ms)}",
        f"    firstInstallTime={_time(installed_ms)}",
        f"    lastUpdateTime={_time(installed_ms)}",
        "    installerPackageName=com.android.shell",
        "    packageSource=0",
        f"    signatures=PackageSignatures{{{_h(pkg, 'sig')} version:2, signatures:[{_h(pkg, 'cert')}], "
        "past signatures:[]}",
        "    installPermissionsFixed=true",
        f"    pkgFlags={syspkgs.flags_text(app_flags)}",
    ]
    if requested:
        lines.append("    requested permissions:")
        lines += [f"      {p}" for p in requested]
    granted = list(install_granted)
    if granted:
        lines.append("    install permissions:")
        lines += [f"      {p}: granted=true" for p in granted]
    lines += [
        f"    User 0: ceDataInode={int(_h(pkg, 'inode'), 16)} installed=true hidden=false suspended=false "
        f"distractionFlags=0 stopped={str(stopped).lower()} notLaunched=false enabled=0 instant=false "
        "virtual=false",
        "      gids=[3003]",
        "      runtime permissions:",
    ]
    sensitive = {"USER_SENSITIVE_WHEN_GRANTED", "USER_SENSITIVE_WHEN_DENIED"} if user_sensitive else set()
    for st in runtime:
        flags = syspkgs.permission_flags_text(set(st.flags) | sensitive)
        lines.append(f"        {st.name}: granted={str(st.granted).lower()}{flags}")
    lines += ["      disabledComponents:", "      enabledComponents:", ""]
    return "\n".join(lines) + "\n"


def code_dir(pkg: str) -> str:
    """An installed app's directory (Android 11+: /data/app/~~RANDOM==/PKG-RANDOM==)."""
    return f"/data/app/~~{_h(pkg, 'a')}{_h(pkg, 'b')}==/{pkg}-{_h(pkg, 'c')}{_h(pkg, 'd')}=="


def _record(package: str, activity: str, task: int = 12) -> str:
    short = short_activity(package, activity)
    return f"ActivityRecord{{{_h(package, activity, 'ar')} u0 {package}/{short} t{task}}}"


def window_windows(package: str, activity: str, title: str | None = None, api_level: int = 28) -> str:
    """`dumpsys window windows`: the window list. Up to Android 9 WindowManagerService's
    dumpWindowsNoHeader also printed `mCurrentFocus=` / `mFocusedApp=` here; from Android 10 they moved
    to DisplayContent.dump, which `dumpsys window displays` prints (see `window_displays`).

    `title` overrides the window title for windows that are not an activity (keyguard, crash dialog).
    """
    focus = title or f"{package}/{activity}"
    lines = [
        "WINDOW MANAGER WINDOWS (dumpsys window windows)",
        f"  Window #0 Window{{{_h('nav')} u0 NavigationBar0}}:",
        "    mDisplayId=0 rootTaskId=1 mSession=Session{f3e2d1 1234:u0a10100} "
        "mClient=android.os.BinderProxy@9a8b7c",
        f"  Window #1 Window{{{_h('sb')} u0 StatusBar}}:",
        "    mDisplayId=0 rootTaskId=1 mSession=Session{f3e2d1 1234:u0a10100} "
        "mClient=android.os.BinderProxy@1a2b3c",
        f"  Window #2 Window{{{_h(focus)} u0 {focus}}}:",
        "    mDisplayId=0 rootTaskId=12 mSession=Session{a1b2c3 5678:u0a10123} "
        "mClient=android.os.BinderProxy@4d5e6f",
        "    mHasSurface=true isReadyForDisplay()=true mWindowRemovalAllowed=false",
        f"  Window #3 Window{{{_h('wall')} u0 com.android.systemui.ImageWallpaper}}:",
        "",
    ]
    if api_level < 29:
        lines += _focus_lines(package, activity, title)
    return "\n".join(lines)


def window_displays(
    package: str,
    activity: str,
    title: str | None,
    width: int,
    height: int,
    density: int,
    api_level: int = 33,
    physical: tuple[int, int, int] | None = None,
) -> str:
    """`dumpsys window displays`: DisplayContent.dump (init = the panel, base = a `wm` override, only when
    there is one); from Android 10 it carries the display's focus."""
    pw, ph, pd = physical or (width, height, density)
    base = f" base={width}x{height} {density}dpi" if (pw, ph, pd) != (width, height, density) else ""
    lines = [
        "WINDOW MANAGER DISPLAY CONTENTS (dumpsys window displays)",
        "  Display: mDisplayId=0 rootTasks=2",
        f"    init={pw}x{ph} {pd}dpi{base} cur={width}x{height} app={width}x{height}",
        "",
        "  mLayoutSeq=120",
    ]
    if api_level >= 29:
        lines += _focus_lines(package, activity, title)
    return "\n".join(lines) + "\n"


def _focus_lines(package: str, activity: str, title: str | None) -> list[str]:
    focus = title or f"{package}/{activity}"
    return [
        f"  mCurrentFocus=Window{{{_h(focus)} u0 {focus}}}",
        f"  mFocusedApp={_record(package, activity)}",
        "",
    ]


def activity_top(package: str, activity: str, pid: int) -> str:
    return "\n".join(
        [
            "TASK 12 id=12 userId=0",
            f"  ACTIVITY {package}/{short_activity(package, activity)} {_h(package, activity)} pid={pid}",
            "    Local Activity {" + _h(package, activity, "local") + "} State:",
            "      mResumed=true mStopped=false mFinished=false",
            "",
        ]
    )


def activity_activities(
    tasks: list[tuple[int, int, str, list[tuple[str, str]]]],
    home: tuple[str, str],
    keyguard: bool,
    front: bool,
) -> str:
    """`dumpsys activity activities` (ActivityTaskManagerService: RootWindowContainer's dump): every
    task from the front, each `Task{hash #ID type=standard A=UID:AFFINITY ...}` with its activity
    records top to bottom; the home task last. `tasks`: (id, uid, package, [(pkg, activity) bottom to
    top]); `front`: whether the first task is in front (else home is)."""
    home_task = (1, 10123, home[0], [home])
    ordered = [*tasks, home_task] if front else [home_task, *tasks]
    lines = [
        "ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)",
        "Display #0 (activities from top to bottom):",
    ]
    resumed = None
    for n, (tid, uid, pkg, acts) in enumerate(ordered):
        kind = "home" if (tid, pkg) == (1, home[0]) else "standard"
        lines.append(
            f"  * Task{{{_h('task', tid)} #{tid} type={kind} A={uid}:{pkg} U=0 visible={str(n == 0).lower()}"
            f" visibleRequested={str(n == 0).lower()} mode=fullscreen translucent=false sz={len(acts)}}}"
        )
        lines.append(f"    mLastPausedActivity: {_record(*acts[-1], tid)}" if acts and n else "")
        for k, (apkg, act) in enumerate(reversed(acts)):
            lines.append(f"      * Hist  #{len(acts) - 1 - k}: {_record(apkg, act, tid)}")
        if n == 0 and acts:
            resumed = _record(*acts[-1], tid)
        lines.append("")
    lines = [ln for k, ln in enumerate(lines) if ln or (k and lines[k - 1])]
    if resumed:
        lines += [f"  ResumedActivity: {resumed}", f"  mResumedActivity: {resumed}", ""]
    lines += [
        "  KeyguardController:",
        f"    mKeyguardShowing={str(keyguard).lower()}",
        "    mAodShowing=false",
        "",
    ]
    return "\n".join(lines)


def power(screen_on: bool) -> str:
    return "\n".join(
        [
            "POWER MANAGER (dumpsys power)",
            "",
            "Power Manager State:",
            "  mDirty=0x0",
            f"  mWakefulness={'Awake' if screen_on else 'Asleep'}",
            "  mWakefulnessChanging=false",
            "  mIsPowered=true",
            "  mPlugType=2",
            "  mBatteryLevel=100",
            f"  mHoldingDisplaySuspendBlocker={str(screen_on).lower()}",
            f"  Display Power: state={'ON' if screen_on else 'OFF'}",
            "",
        ]
    )


def display(width: int, height: int, density: int, physical: tuple[int, int, int] | None = None) -> str:
    """`dumpsys display`: the panel (DisplayDeviceInfo) and the logical display apps see (DisplayInfo,
    which a `wm size` / `wm density` override changes)."""
    pw, ph, pd = physical or (width, height, density)
    return "\n".join(
        [
            "DISPLAY MANAGER (dumpsys display)",
            "Display Devices: size=1",
            f'  DisplayDeviceInfo{{"Built-in Screen": uniqueId="local:0", {pw} x {ph}, modeId 1, '
            f"defaultModeId 1, density {pd}, {pd}.0 x {pd}.0 dpi, touch INTERNAL, rotation 0, "
            "type INTERNAL}",
            "  mOnlyCode=false",
            "  mSafeMode=false",
            "  mDefaultViewport=DisplayViewport{type=INTERNAL, valid=true, isActive=true, displayId=0, "
            f"uniqueId='local:0', physicalPort=0, orientation=0, "
            f"logicalFrame=Rect(0, 0 - {width}, {height}), "
            f"physicalFrame=Rect(0, 0 - {width}, {height}), deviceWidth={width}, deviceHeight={height}}}",
            f'  mDisplayInfo=DisplayInfo{{"Built-in Screen", displayId 0, real {width} x {height}, '
            f"rotation 0, density {density}}}",
            "",
        ]
    )
