"""Renderer speed on typical screens: prints median milliseconds, asserts nothing.

    python bench/bench_render.py [--repeat N] [--save DIR]

Columns: layout (bounds of every node of a screen never laid out before), dump (uiautomator XML),
hit (one hit test), png-new (a screen never painted before: layout, paint, encode; windows below the
top one come from the layer cache, as when a dialog opens over an activity), png-clock (same screen,
the clock changed), png-cached (identical frame again), observe (dump + png of a new screen, what
VirtualDevice.observe() pays). On one core: `taskset -c 0 python bench/bench_render.py`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

from exerciser.sim.render import Renderer  # noqa: E402
from exerciser.sim.ui import Frame, Node, Window  # noqa: E402
from exerciser.sim.uixml import dump  # noqa: E402

PKG = "com.example.shop"
CONSENT = (
    "在使用我们的产品及/或服务之前，请您先仔细阅读并了解《用户服务协议》和《个人信息处理规则》。"
    "我们会遵循相关法律法规收集、使用您的个人信息。如您点击“同意”即表示您已阅读并同意全部条款；"
    "如您对任何条款有异议，请点击“不同意并退出 App”停止使用。"
)


def n(role: str, cls: str, text: str = "", **kw) -> Node:
    return Node(role=role, cls=cls, text=text, **kw)  # type: ignore[arg-type]


def tv(text: str, role: str = "text", **kw) -> Node:
    return n(role, "android.widget.TextView", text, **kw)


def btn(text: str, rid: str = "", style: str = "") -> Node:
    return n(
        "button", "android.widget.Button", text, resource_id=rid, clickable=True, focusable=True, style=style
    )


def activity_list() -> Window:
    rows = [
        n("list_item", "android.widget.LinearLayout", clickable=True, children=[tv(t)])
        for t in ("账号与安全", "隐私设置", "消息通知", "清除缓存", "关于我们", "帮助与反馈", "用户协议")
    ]
    tabs = [
        n("tab", "android.widget.FrameLayout", t, clickable=True, selected=t == "我的")
        for t in ("首页", "分类", "购物车", "我的")
    ]
    root = n(
        "container",
        "android.widget.FrameLayout",
        children=[
            n("toolbar", "android.view.ViewGroup", resource_id=f"{PKG}:id/toolbar", children=[tv("设置")]),
            n(
                "container",
                "androidx.recyclerview.widget.RecyclerView",
                resource_id=f"{PKG}:id/list",
                scrollable=True,
                children=rows,
            ),
            btn("退出登录", f"{PKG}:id/logout", "primary"),
            n("container", "android.widget.LinearLayout", resource_id=f"{PKG}:id/nav", children=tabs),
        ],
    )
    return Window("activity", PKG, root)


def consent_dialog(blind: bool = False) -> Window:
    body = [
        tv("用户协议与隐私政策", "title", resource_id=f"{PKG}:id/title"),
        tv(CONSENT, "message", resource_id=f"{PKG}:id/message"),
        btn("不同意并退出", f"{PKG}:id/btn_disagree"),
        btn("同意", f"{PKG}:id/btn_agree", "primary"),
    ]
    if blind:
        root = n(
            "container",
            "android.widget.FrameLayout",
            children=[n("webview", "android.webkit.WebView", blind=True, children=body)],
        )
    else:
        root = n("container", "android.widget.FrameLayout", children=body)
    return Window("dialog", PKG, root, dim_behind=True)


def permission_dialog_api28() -> Window:
    pi = "com.android.packageinstaller"
    rid = f"{pi}:id/"
    root = n(
        "container",
        "android.widget.LinearLayout",
        resource_id=rid + "dialog_container",
        children=[
            n(
                "container",
                "android.widget.LinearLayout",
                resource_id=rid + "desc_container",
                children=[
                    n("icon", "android.widget.ImageView", resource_id=rid + "permission_icon"),
                    tv(
                        "Allow Shop to access this device's location?",
                        "message",
                        resource_id=rid + "permission_message",
                    ),
                ],
            ),
            n(
                "checkbox",
                "android.widget.CheckBox",
                "Don't ask again",
                resource_id=rid + "do_not_ask_checkbox",
                checkable=True,
                clickable=True,
            ),
            n(
                "container",
                "android.widget.LinearLayout",
                resource_id=rid + "button_group",
                children=[
                    btn("DENY", rid + "permission_deny_button"),
                    btn("ALLOW", rid + "permission_allow_button"),
                ],
            ),
        ],
    )
    return Window("system_dialog", pi, root, dim_behind=True)


def permission_dialog_api33() -> Window:
    pc = "com.android.permissioncontroller"
    rid = f"{pc}:id/"
    root = n(
        "container",
        "android.widget.LinearLayout",
        resource_id=rid + "grant_dialog",
        children=[
            n("icon", "android.widget.ImageView", resource_id=rid + "permission_icon"),
            tv("要允许“购物”获取此设备的位置信息吗？", "message", resource_id=rid + "permission_message"),
            btn("仅在使用该应用时允许", rid + "permission_allow_foreground_only_button", "tonal"),
            btn("仅限这一次", rid + "permission_allow_one_time_button", "tonal"),
            btn("不允许", rid + "permission_deny_button", "tonal"),
        ],
    )
    return Window("system_dialog", pc, root, dim_behind=True)


def launcher() -> Window:
    apps = ("电话", "信息", "相机", "图库", "设置", "Shop", "地图", "日历", "天气", "音乐", "浏览器", "商店")
    icons = [n("launcher_icon", "android.widget.TextView", a, content_desc=a, clickable=True) for a in apps]
    root = n(
        "container",
        "android.widget.FrameLayout",
        children=[n("container", "android.view.ViewGroup", children=icons)],
    )
    return Window("launcher", "com.android.launcher3", root)


def splash() -> Window:
    return Window(
        "activity",
        PKG,
        n("container", "android.widget.FrameLayout", children=[n("image", "android.widget.ImageView")]),
    )


def screens() -> dict[str, Callable[[], Frame]]:
    def f(*wins: Window) -> Frame:
        return Frame(1080, 2340, list(wins), clock_text="9:41")

    return {
        "activity list": lambda: f(activity_list()),
        "consent dialog (zh)": lambda: f(splash(), consent_dialog()),
        "permission API 28": lambda: f(activity_list(), permission_dialog_api28()),
        "permission API 33": lambda: f(activity_list(), permission_dialog_api33()),
        "blind webview dialog": lambda: f(splash(), consent_dialog(blind=True)),
        "launcher": lambda: f(launcher()),
    }


CLOCK: Callable[[], float] = time.perf_counter


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = CLOCK()
        fn()
        times.append((CLOCK() - t) * 1000)
    return statistics.median(times)


def _renamed(make: Callable[[], Frame], k: int) -> Frame:
    """The same screen with one changed word in the top window: forces a fresh paint and encode."""
    frame = make()
    leaf = [x for x in frame.top.root.walk() if x.text][-1]
    leaf.text = f"{leaf.text} {k}"
    return frame


def bench_screen(name: str, make: Callable[[], Frame], repeat: int, save: Path | None) -> list[str]:
    r = Renderer()
    frame = make()
    r.png(frame)  # warm fonts and caches
    hit = next(x for x in frame.top.root.walk() if x.clickable)
    hx, hy = (hit.bounds[0] + hit.bounds[2]) // 2, (hit.bounds[1] + hit.bounds[3]) // 2  # type: ignore[index]
    counter = iter(range(10**9))

    def png_new() -> None:
        r.png(_renamed(make, next(counter)))

    def png_clock() -> None:
        frame.clock_text = f"10:{next(counter) % 60:02d}"
        r.png(frame)

    def observe() -> None:
        fr = _renamed(make, next(counter))
        dump(fr)
        r.png(fr)

    figures = {
        "layout": median_ms(lambda: r.layout(_renamed(make, next(counter))), repeat),
        "dump": median_ms(lambda: dump(frame), repeat),
        "hit": median_ms(lambda: r.hit_test(frame, hx, hy), repeat),
        "png-new": median_ms(png_new, repeat),
        "png-clock": median_ms(png_clock, repeat),
        "png-cached": median_ms(lambda: r.png(frame), repeat),
        "observe": median_ms(observe, repeat),
    }
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        (save / (name.replace(" ", "_").replace("(", "").replace(")", "") + ".png")).write_bytes(r.png(frame))
    return [f"{v:8.2f}" for v in figures.values()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--save", type=Path, help="write each screen's PNG here")
    ap.add_argument(
        "--cpu", action="store_true", help="time with process CPU time (steadier on a loaded machine)"
    )
    args = ap.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    cols = ["layout", "dump", "hit", "png-new", "png-clock", "png-cached", "observe"]
    unit = "cpu ms" if args.cpu else "ms"
    print(f"{'screen (median ' + unit + ')':24}" + "".join(f"{c:>11}" for c in cols))
    for name, make in screens().items():
        row = bench_screen(name, make, args.repeat, args.save)
        print(f"{name:24}" + "".join(f"{v:>11}" for v in row))


if __name__ == "__main__":
    main()
