"""How each benchmarked server is configured and started. Every one answers
GET /ping with a 200 whose body is "pong"."""
import os
import pwd
import subprocess

from common import BENCH, SERVER_CPU, Server, free_port

# Module sets. "all-fast" takes pool rather than hugepages: they are two
# alternatives of the same kind, and pool is the one meant for general use.
PLAIN = {"io": "epoll", "allocator": "malloc", "parser": "scalar", "router": "linear"}
FAST = {"io": "uring", "allocator": "pool", "parser": "simd", "router": "radix"}


def modules_for(row):
    """Module set of an axle row name: plain, uring, pool, hugepages, simd,
    radix, all-fast, precompiled, all-fast+precompiled."""
    mods = dict(PLAIN)
    base = row.replace("+precompiled", "")
    if base == "all-fast":
        mods.update(FAST)
    elif base in ("uring", "epoll"):
        mods["io"] = base
    elif base in ("pool", "hugepages", "malloc"):
        mods["allocator"] = base
    elif base in ("simd", "scalar"):
        mods["parser"] = base
    elif base in ("radix", "linear"):
        mods["router"] = base
    return mods


# A small but realistic route table, the same for every axle row: /ping is
# neither first nor last, so the router has to look past other routes.
_ROUTES = [
    ("/", "ping"),
    ("/healthz", "ping"),
    ("/api/v1/users/{id}", "echo"),
    ("/api/v1/users/{id}/posts", "echo"),
    ("/api/v1/orders/{id}", "echo"),
    ("/echo/{msg}", "echo"),
    ("/ping", None),  # the benchmarked route; its handler depends on the row
    ("/status", "ping"),
    ("/api/v2/items/{id}", "echo"),
    ("/api/v2/search/{q}", "echo"),
]


def axle_config(mods, port, *, precompiled=False, metrics=False, admin_port=None, idle_ms=None,
                max_connections=None):
    lines = ["[server]", f'listen = ["127.0.0.1:{port}"]', "workers = 1", "", "[modules]"]
    lines += [f'{kind} = "{name}"' for kind, name in mods.items()]
    if metrics:
        lines.append('metrics = "prometheus"')
    if max_connections:
        lines += ["", "[limits]", f"max_connections = {max_connections}"]
    if idle_ms:
        lines += ["", "[timeouts]", f"idle_ms = {idle_ms}"]
    if admin_port:
        lines += ["", "[admin]", f'listen = "127.0.0.1:{admin_port}"']
    for path, handler in _ROUTES:
        lines += ["", "[[route]]", f'path = "{path}"']
        if handler is None:
            lines.append('handler = "precompiled"\nbody = "pong"' if precompiled else 'handler = "ping"')
        else:
            lines.append(f'handler = "{handler}"')
    return "\n".join(lines) + "\n"


def start_axle(build_dir, workdir, row, *, idle_ms=None, max_connections=None):
    port = free_port()
    config = os.path.join(workdir, f"axle-{row}.toml")
    with open(config, "w") as f:
        f.write(axle_config(modules_for(row), port, precompiled=row.endswith("precompiled"), idle_ms=idle_ms,
                            max_connections=max_connections))
    return Server(f"axle-{row}", [os.path.join(build_dir, "bin", "axle"), "--config", config], port, workdir)


def start_nginx(workdir, *, idle_s=60, name="nginx", http_lines="", server_lines='location / { return 200 "pong"; }',
                listen_opts=""):
    """nginx, one worker; http_lines and server_lines go into its http and
    server blocks (the default answers "pong" to everything); listen_opts
    follow the listen address (e.g. "ssl")."""
    port = free_port()
    prefix = os.path.join(workdir, name)
    os.makedirs(os.path.join(prefix, "logs"), exist_ok=True)
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile 20000;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 10000; }}
http {{
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout {idle_s}s;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  {http_lines}
  server {{
    listen 127.0.0.1:{port}{' ' + listen_opts if listen_opts else ''} backlog=4096;
    {server_lines}
  }}
}}
""")
    return Server(name, ["nginx", "-p", prefix, "-c", conf, "-e", f"{prefix}/logs/error.log"], port, workdir)


def start_h2o(workdir):
    """h2o 2.2 has no fixed-response directive short of mruby; it serves the
    4-byte file "ping" from a directory with file.dir instead."""
    port = free_port()
    root = os.path.join(workdir, "h2o")
    docroot = os.path.join(root, "htdocs")
    os.makedirs(docroot, exist_ok=True)
    with open(os.path.join(docroot, "ping"), "w") as f:
        f.write("pong")
    conf = os.path.join(root, "h2o.conf")
    # Started as root, h2o would switch to "nobody", who can't write the pid
    # file or read the docroot in our private temp dir: stay who we are.
    user = pwd.getpwuid(os.getuid()).pw_name
    with open(conf, "w") as f:
        f.write(f"""user: {user}
listen:
  host: 127.0.0.1
  port: {port}
num-threads: 1
max-connections: 10000
pid-file: {root}/h2o.pid
error-log: {root}/error.log
file.send-compressed: OFF
hosts:
  default:
    paths:
      /:
        file.dir: {docroot}
""")
    return Server("h2o", ["h2o", "-c", conf], port, workdir)


def start_floor(binary, workdir, cpu=SERVER_CPU):
    port = free_port()
    return Server("floor", [binary, str(port)], port, workdir, cpu=cpu)


def start_haproxy(workdir, backend_lines, *, name="haproxy", idle_s=60):
    """HAProxy (Debian's 2.6), one thread, HTTP mode, no logging, in the
    foreground; backend_lines go into its one backend section."""
    port = free_port()
    root = os.path.join(workdir, name)
    os.makedirs(root, exist_ok=True)
    conf = os.path.join(root, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(f"""global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client {idle_s}s
  timeout server {idle_s}s
  timeout http-keep-alive {idle_s}s
frontend fe
  bind 127.0.0.1:{port}
  default_backend be
backend be
  {backend_lines}
""")
    return Server(name, ["haproxy", "-db", "-f", conf], port, workdir)


def build_floor(out_dir):
    binary = os.path.join(out_dir, "floor")
    src = os.path.join(BENCH, "floor", "floor.c")
    if not os.path.exists(binary) or os.path.getmtime(binary) < os.path.getmtime(src):
        subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", binary, src], check=True)
    return binary
