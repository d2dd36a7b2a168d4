"""``videoedit-emulator``: run the emulator (``serve``) or the offline demo (``demo``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from videoedit_emulator import __version__
from videoedit_emulator.engine.config import MIB, EmulatorConfig, Progression
from videoedit_emulator.engine.sources import is_loopback_host
from videoedit_emulator.stopping import StopSignals, die_of
from videoedit_emulator.web.adapter_set import AdapterSet
from videoedit_emulator.web.discovery import discovered_adapters, installed_adapters
from videoedit_emulator.web.faults import FaultError, FaultRule, parse_spec

__all__ = ["build_parser", "exposure_warning", "main", "serve_config"]


def _progression(value: str) -> Progression:
    try:
        return Progression.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _key(value: str) -> tuple[str, str]:
    key, sep, realm = value.rpartition("=")
    realms = AdapterSet(installed_adapters()).realms()
    if not sep or not key or realm not in realms:
        raise argparse.ArgumentTypeError(
            f"{value!r}: must read KEY=REALM with REALM one of {', '.join(realms)}"
        )
    return key, realm


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be > 0")
    return number


def _fault(value: str) -> FaultRule:
    try:
        rule = parse_spec(value)
        AdapterSet(installed_adapters()).fault_targets().check(rule)
        return rule
    except FaultError as exc:
        raise argparse.ArgumentTypeError(f"{value!r}: {exc}") from None


def _positive_int(value: str) -> int:
    if not value.isdigit() or int(value) <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be an integer > 0")
    return int(value)


def exposure_warning(host: str) -> str | None:
    """What to tell someone who binds the emulator beyond this machine (``None``: loopback)."""
    if is_loopback_host(host):
        return None
    return (
        f"WARNING: bound to {host}, not loopback: anyone who can reach this address can use "
        "the emulator and read what is uploaded to it."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="videoedit-emulator",
        description="Offline emulator of the Wan video-editing providers (real stand-in MP4s).",
    )
    parser.add_argument("--version", action="version", version=f"videoedit-emulator {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve every provider's wire format over HTTP")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8765, help="port (default: 8765; 0 = any free port)"
    )
    serve.add_argument("--seed", type=int, default=0, help="seed of task ids (default: 0)")
    serve.add_argument(
        "--progression",
        type=_progression,
        default=Progression.immediate(),
        help="immediate | polls=N | seconds=S (default: immediate)",
    )
    serve.add_argument(
        "--task-ttl",
        type=_positive_float,
        default=86400.0,
        metavar="SECONDS",
        help="task id lifetime (default: 86400)",
    )
    serve.add_argument(
        "--result-ttl",
        type=_positive_float,
        default=86400.0,
        metavar="SECONDS",
        help="result link lifetime (default: 86400)",
    )
    serve.add_argument(
        "--key",
        type=_key,
        action="append",
        default=[],
        metavar="KEY=REALM",
        help="accept KEY only in REALM (repeatable); without any, every non-empty key is accepted",
    )
    serve.add_argument(
        "--max-body-mb",
        type=_positive_int,
        default=100,
        help="request/upload size limit (default: 100)",
    )
    serve.add_argument(
        "--workers", type=_positive_int, default=None, help="render workers (default: one per core)"
    )
    serve.add_argument(
        "--storage-dir",
        type=Path,
        default=None,
        help="keep uploads and results here (default: a temp dir)",
    )
    serve.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="keep tasks, uploads, results, fault rules and the journal here across restarts "
        "(kill -9 included) and the snapshots; default: nothing outlives the process",
    )
    serve.add_argument(
        "--cache-dir",
        default=None,
        metavar="DIR|off",
        help="keep rendered stand-ins here between runs, or 'off' (default: "
        "$VIDEOEDIT_EMULATOR_CACHE_DIR, else the user's cache directory)",
    )
    serve.add_argument(
        "--cache-mb",
        type=_positive_int,
        default=512,
        help="render cache size limit; least recently used entries go first (default: 512)",
    )
    serve.add_argument(
        "--fault",
        type=_fault,
        action="append",
        default=[],
        metavar="SPEC",
        help="a fault rule, [provider/]route:kind[=value][,option=value...] (repeatable), "
        "e.g. create:status=503,times=2 or status:rate_limit=2,probability=0.2,seed=1; "
        "see docs/emulator.md",
    )
    serve.add_argument(
        "--task-queries-per-second",
        type=_positive_int,
        default=None,
        metavar="N",
        help="DashScope's task-query quota per key, answered 429 Throttling.RateQuota beyond it "
        "(the service's is 20; default: no quota)",
    )
    serve.add_argument(
        "--public-url",
        default=None,
        help="root URL clients reach the emulator at, for links (default: from each request)",
    )

    demo = sub.add_parser("demo", help="edit a sample clip through the real client, offline")
    demo.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the MP4 (default: videoedit-demo/edited.mp4)",
    )
    demo.add_argument(
        "--provider",
        default="dashscope-singapore",
        help="provider route to use (default: dashscope-singapore)",
    )
    return parser


def serve_config(args: argparse.Namespace) -> EmulatorConfig:
    """The configuration ``serve`` runs with, from its parsed arguments."""
    return EmulatorConfig(
        seed=args.seed,
        progression=args.progression,
        task_ttl=args.task_ttl,
        result_ttl=args.result_ttl,
        keys=dict(args.key),
        max_body_bytes=args.max_body_mb * MIB,
        render_workers=args.workers,
        storage_dir=args.storage_dir,
        state_dir=args.state_dir,
        render_cache_dir=args.cache_dir,
        render_cache_bytes=args.cache_mb * MIB,
        public_url=args.public_url,
        task_queries_per_second=args.task_queries_per_second,
    )


def _serve(args: argparse.Namespace, stop: StopSignals) -> int:
    """Serve until SIGTERM or SIGINT (see `videoedit_emulator.stopping`); the storage,
    when it is a temp dir, goes with the process whatever stops it short of SIGKILL."""
    import uvicorn

    from videoedit_emulator.engine import TaskEngine
    from videoedit_emulator.server import listen_socket, tune_gc, uvicorn_config
    from videoedit_emulator.web.app import create_app

    config = serve_config(args)
    try:  # connections queue from now on, even before uvicorn runs
        sock = listen_socket(args.host, args.port)
    except OSError as exc:
        print(f"videoedit-emulator: cannot bind {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    root = args.public_url or f"http://{host}:{port}"
    warning = exposure_warning(args.host)
    if warning:
        print(warning, file=sys.stderr)
    engine = TaskEngine(config)
    try:
        app = create_app(engine)
        others = AdapterSet(discovered_adapters()).prefixes()
        print(
            f"videoedit-emulator serving on {root}  (seed {config.seed}, progression {config.progression})"
        )
        for provider, prefix in app.state.web.adapters.prefixes().items():
            if provider not in others:
                print(f"  {provider:<20} {root}{prefix}")
        print(f"  {'control plane':<20} {root}/_emulator/")
        for rule in args.fault:
            app.state.web.faults.add_rule(rule)
            print(f"  {'fault ' + rule.id:<20} {rule}")
        print(
            f"Official SDK: DASHSCOPE_HTTP_BASE_URL={root}/api/v1  (any non-empty DASHSCOPE_API_KEY)"
        )
        for provider, prefix in others.items():  # adapters of other packages
            print(f"  {provider:<20} {root}{prefix}")
        cache_dir = config.render_cache_location()
        print(f"  {'render cache':<20} {cache_dir if cache_dir else 'off'}")
        sys.stdout.flush()
        server = uvicorn.Server(uvicorn_config(app, log_level="info"))
        stop.on_stop(lambda: setattr(server, "should_exit", True))
        tune_gc()  # this process is the emulator: see docs/performance.md
        if stop.received is None:
            server.run(sockets=[sock])
    finally:
        engine.close()
        sock.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        with StopSignals() as stop:
            code = _serve(args, stop)
        return code if stop.received is None else die_of(stop.received)
    from videoedit_emulator.demo import run_demo

    return run_demo(out=args.out, provider=args.provider)


if __name__ == "__main__":
    raise SystemExit(main())
