"""The `yibiaotong` console script: the run-time commands plus `serve`."""

from __future__ import annotations

import argparse
import sys

from builder.specs import load_specs
from runtime import cli, config
from runtime.bootstrap import demo_logins


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the web app (Flask's threaded server; use gunicorn in production)."""
    from web import create_app

    app = create_app()
    cli.print_logins(demo_logins(load_specs(config.specs_path())))
    print(f"一表通已启动：http://{args.host}:{args.port}/")
    app.run(host=args.host, port=args.port, threaded=True, debug=False)
    return 0


def add_serve(sub) -> None:
    """Add the `serve` command to the run-time commands."""
    p = sub.add_parser("serve", help="启动网页服务")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.set_defaults(func=cmd_serve)


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    return cli.main(argv, cli.build_parser(add_serve))


if __name__ == "__main__":
    sys.exit(main())
