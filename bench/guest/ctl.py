#!/usr/bin/env python3
# The pool VM's control server for `make bench` (bench/guest/pool.sh starts it): the client VM
# sends one command per TCP connection (bash's /dev/tcp) and reads the answer. Blocking in
# accept() costs the pool VM no CPU between commands, unlike polling files over 9p.
#   stat      -> /proc/uptime, /proc/stat, /proc/net/dev and every /proc/PID/stat (the pool VM's CPU time,
#                interface counters and CPU time per process, for per-test accounting)
#   ps        -> CPU time per process (where the pool's CPU went)
#   jumbo     -> eth0 to MTU 9000 and a new omx-node on it (the old region is dropped)
#   macsec    -> macsec0 over eth0 (tests/vm/guest/macsec-up.sh) and a new omx-node on it
#   plain     -> macsec0 removed, a new omx-node on eth0
#   nodestats -> omx-node's JSON counters (SIGUSR1 writes its --stats-file)
#   pktgen MAC BYTES SECS -> "ok", then frames of BYTES to MAC for SECS seconds (pktgen.sh)
#   rxrate SKIP SECS      -> what eth0 received in SECS seconds after SKIP, as JSON (pktgen.sh)
#   quit      -> stop serving (pool.sh then stops the daemons)
# Also stops when /mnt/shared/done appears (the client died without saying quit).
import os
import socket
import subprocess
import sys
import time

ADDR = sys.argv[1]
PORT = 7777
SHARED = "/mnt/shared"
NODE_CMD = sys.argv[2:]  # the omx-node command line (restarted by "jumbo")
PIDFILE = "/run/omx-node.pid"


def node_pid():
    try:
        return int(open(PIDFILE).read())
    except (OSError, ValueError):
        return None


def start_node(iface="eth0"):
    p = subprocess.Popen([iface if a == "eth0" else a for a in NODE_CMD])
    open(PIDFILE, "w").write(str(p.pid))
    return p


def pktgen_sh(call):
    """Runs a function of bench/guest/pktgen.sh in bash; returns the Popen."""
    lib = os.path.join(os.environ["OMX_ROOT"], "bench/guest/pktgen.sh")
    return subprocess.Popen(["bash", "-c", '. "$0" && "$@"', lib] + call,
                            stdout=subprocess.PIPE, text=True)


def procs():
    """/proc/PID/stat of every process, each line prefixed with "proc "."""
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                out.append("proc " + open(f"/proc/{pid}/stat").read())
            except OSError:
                pass
    return "".join(out)


def main():
    node = start_node()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((ADDR, PORT))
    srv.listen(4)
    srv.settimeout(5)
    open(f"{SHARED}/pool.ready", "w").close()
    sender = None  # the running pktgen_send, if any
    while True:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            if os.path.exists(f"{SHARED}/done"):
                break
            continue
        with conn:
            conn.settimeout(60)
            cmd = conn.makefile("r").readline().strip()
            if cmd == "stat":
                reply = ("uptime " + open("/proc/uptime").read() + open("/proc/stat").read()
                         + open("/proc/net/dev").read() + procs())
            elif cmd == "ps":
                reply = subprocess.run(["ps", "-eo", "pid,time,rss,args", "--sort=-time"],
                                       capture_output=True, text=True).stdout
            elif cmd == "jumbo":
                node.terminate()
                node.wait()
                subprocess.run(["ip", "link", "set", "eth0", "mtu", "9000"], check=True)
                node = start_node()
                time.sleep(1)
                reply = "ok\n"
            elif cmd in ("macsec", "plain"):
                node.terminate()
                node.wait()
                reply = "ok\n"
                try:
                    if cmd == "macsec":
                        up = os.path.join(os.environ["OMX_ROOT"], "tests/vm/guest/macsec-up.sh")
                        subprocess.run(["bash", "-c", '. "$0" 1', up], check=True,
                                       stdout=subprocess.DEVNULL)
                    else:
                        subprocess.run(["ip", "link", "del", "macsec0"], check=True)
                except (OSError, KeyError, subprocess.CalledProcessError) as e:
                    reply = f"error: {e}\n"
                node = start_node("macsec0" if cmd == "macsec" and reply == "ok\n" else "eth0")
                time.sleep(1)
            elif cmd == "nodestats":
                # SIGUSR1: omx-node writes its --stats-file to a new file it renames over the
                # old one, so a new inode says the counters are there (wait at most 1 s).
                f = "/run/omx-node-stats.json"
                before = os.stat(f).st_ino if os.path.exists(f) else None
                node.send_signal(10)  # SIGUSR1
                for _ in range(100):
                    time.sleep(0.01)
                    if os.path.exists(f) and os.stat(f).st_ino != before:
                        break
                try:
                    reply = open("/run/omx-node-stats.json").read()
                except OSError as e:
                    reply = f'{{"error": "{e}"}}\n'
            elif cmd.startswith("pktgen "):
                _, mac, size, secs = cmd.split()
                if sender:
                    sender.wait()
                sender = pktgen_sh(["pktgen_send", "eth0", mac, size, secs])
                reply = "ok\n"
            elif cmd.startswith("rxrate "):
                _, skip, secs = cmd.split()
                reply = pktgen_sh(["rx_rate", "eth0", skip, secs]).communicate()[0]
            elif cmd == "quit":
                conn.sendall(b"bye\n")
                break
            else:
                reply = f"unknown command {cmd!r}\n"
            conn.sendall(reply.encode())
    if sender:
        sender.wait()
    node.terminate()
    node.wait()


if __name__ == "__main__":
    main()
